// RequestParser over http_parser 2.9: callbacks fill a Request, limits are ours.
#include "http/request_parser.h"

#include <http_parser.h>

#include <cctype>
#include <climits>
#include <cstring>

namespace postern::http {

struct RequestParser::Impl {
  ParserLimits limits;
  http_parser parser{};
  http_parser_settings settings{};
  Request request;
  std::string field;      // header name being read
  bool in_value = false;  // the last callback was a header value
  std::size_t head_bytes = 0;
  bool started = false;
  bool head_done = false;
  State state = State::incomplete;
  int error_status = 0;
  const char* error_reason = "";

  explicit Impl(ParserLimits l) : limits(l) {
    http_parser_settings_init(&settings);
    settings.on_message_begin = &on_message_begin;
    settings.on_url = &on_url;
    settings.on_header_field = &on_header_field;
    settings.on_header_value = &on_header_value;
    settings.on_headers_complete = &on_headers_complete;
    settings.on_body = &on_body;
    settings.on_message_complete = &on_message_complete;
    reset();
  }

  void reset() {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    request = Request{};
    field.clear();
    in_value = false;
    head_bytes = 0;
    started = false;
    head_done = false;
    state = State::incomplete;
  }

  static Impl& self(http_parser* p) { return *static_cast<Impl*>(p->data); }

  // Counts head bytes; the +4 per field pays for ": " and CRLF, so the bound
  // tracks the bytes on the wire closely enough.
  bool count_head(std::size_t n, int status_if_over = 431) {
    head_bytes += n;
    if (head_bytes <= limits.max_head_bytes) return true;
    fail(status_if_over, "head-too-large");
    return false;
  }

  void fail(int status, const char* reason) {
    if (state == State::failed) return;
    state = State::failed;
    error_status = status;
    error_reason = reason;
  }

  void finish_field() {
    if (!in_value) return;
    in_value = false;
    field.clear();
  }

  static int on_message_begin(http_parser* p) noexcept {
    self(p).started = true;
    return 0;
  }
  static int on_url(http_parser* p, const char* at, std::size_t n) noexcept {
    Impl& s = self(p);
    if (!s.count_head(n, 431)) return -1;
    s.request.target.append(at, n);
    return 0;
  }
  static int on_header_field(http_parser* p, const char* at, std::size_t n) noexcept {
    Impl& s = self(p);
    if (!s.count_head(n + (s.in_value || s.field.empty() ? 4 : 0))) return -1;
    if (s.in_value) s.finish_field();
    for (std::size_t i = 0; i < n; ++i)
      s.field.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(at[i]))));
    return 0;
  }
  static int on_header_value(http_parser* p, const char* at, std::size_t n) noexcept {
    Impl& s = self(p);
    if (!s.count_head(n)) return -1;
    if (!s.in_value) {
      s.request.headers.emplace_back(s.field, std::string());
      s.in_value = true;
    }
    s.request.headers.back().second.append(at, n);
    return 0;
  }
  static int on_headers_complete(http_parser* p) noexcept {
    Impl& s = self(p);
    s.head_done = true;
    s.request.method = http_method_str(static_cast<http_method>(p->method));
    s.request.version_minor = p->http_minor;
    s.request.keep_alive = http_should_keep_alive(p) != 0;
    if (p->http_major != 1) {
      s.fail(505, "http-version");
      return -1;
    }
    // CONNECT and Upgrade (WebSocket, h2c) hand the connection to another
    // protocol; we only speak HTTP/1.1 (RFC 9110 §7.8 lets us ignore Upgrade,
    // but http_parser stops at the head then, so refuse it plainly).
    if (p->method == HTTP_CONNECT || p->upgrade) {
      s.fail(501, "upgrade");
      return -1;
    }
    // RFC 9112 §3.2: a client MUST send Host in HTTP/1.1; we need it for the
    // rebinding check, so HTTP/1.0 without Host is refused as well.
    if (s.request.header("host") == nullptr) {
      s.fail(400, "no-host");
      return -1;
    }
    // Fail early on a declared length over the limit (RFC 9110 §15.5.14: 413).
    if ((p->flags & F_CONTENTLENGTH) != 0 && p->content_length != ULLONG_MAX &&
        p->content_length > s.limits.max_body_bytes) {
      s.fail(413, "body-too-large");
      return -1;
    }
    http_parser_url url;
    http_parser_url_init(&url);
    const std::string& t = s.request.target;
    if (http_parser_parse_url(t.data(), t.size(), p->method == HTTP_CONNECT, &url) != 0 ||
        (url.field_set & (1 << UF_PATH)) == 0) {
      s.fail(400, "bad-target");
      return -1;
    }
    s.request.path = t.substr(url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
    if ((url.field_set & (1 << UF_QUERY)) != 0)
      s.request.query = t.substr(url.field_data[UF_QUERY].off, url.field_data[UF_QUERY].len);
    return 0;
  }
  static int on_body(http_parser* p, const char* at, std::size_t n) noexcept {
    Impl& s = self(p);
    if (s.request.body.size() + n > s.limits.max_body_bytes) {
      s.fail(413, "body-too-large");  // chunked bodies have no length up front
      return -1;
    }
    s.request.body.append(at, n);
    return 0;
  }
  static int on_message_complete(http_parser* p) noexcept {
    Impl& s = self(p);
    s.state = State::complete;
    // Stop right here: what follows is the next (pipelined) request.
    http_parser_pause(p, 1);
    return 0;
  }
};

RequestParser::RequestParser(ParserLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;

std::size_t RequestParser::feed(std::string_view bytes) {
  Impl& s = *impl_;
  if (s.state != State::incomplete || bytes.empty()) return 0;
  std::size_t n = http_parser_execute(&s.parser, &s.settings, bytes.data(), bytes.size());
  const auto err = HTTP_PARSER_ERRNO(&s.parser);
  if (s.state == State::complete) {
    // http_parser 2.9 reports the byte that completed the message as consumed
    // in some paths and not in others; the pause lands right after it either way.
    return n;
  }
  if (s.state == State::failed) return n;
  if (err != HPE_OK) {
    s.fail(err == HPE_HEADER_OVERFLOW ? 431 : 400, http_errno_name(err));
    return n;
  }
  if (n > 0) s.started = true;
  return n;
}

RequestParser::State RequestParser::state() const noexcept {
  return impl_->state;
}
bool RequestParser::started() const noexcept {
  return impl_->started;
}
bool RequestParser::head_complete() const noexcept {
  return impl_->head_done;
}

Request RequestParser::take() {
  Request out = std::move(impl_->request);
  impl_->reset();
  return out;
}

int RequestParser::error_status() const noexcept {
  return impl_->error_status;
}
const char* RequestParser::error_reason() const noexcept {
  return impl_->error_reason;
}

}  // namespace postern::http
