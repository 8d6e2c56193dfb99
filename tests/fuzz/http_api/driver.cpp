// libFuzzer driver for the status page's request handling: bytes through
// http::RequestParser into http::Api (routing, Host/Origin guards, sessions, CSRF, JSON
// bodies) over the FakeBackend and FakeDiagnostics of tests/unit/http, and every answer
// through serialize() as the server glue sends it.
//
// Input: byte 0 = flags (bit 0: no admin password yet, set-up open; bit 1: TLS; bit 2:
// completions run only at the end, so requests overlap a pending login; bits 3-4: the
// peer address), byte 1 = split size; the rest is what the client sends. The driver logs
// in first, as the owner would; in the header values and bodies that follow, "@C" stands
// for its session id, "@T" for its CSRF token and "@S" for the set-up token (replaced
// after parsing), since a fuzzer cannot guess random tokens.
//
// Invariants: every request gets exactly one response; its wire form is a status line,
// headers without CR or LF inside, Content-Length equal to the body (none for 204/304) and
// the body (none for HEAD); a JSON response parses; nothing that carries a session or CSRF
// token is compressed (BREACH). And the guards hold: no 2xx for a session route without a
// live session's cookie, nor for a change (POST) without that session's CSRF token too, nor
// for a login without the admin password, nor for set-up without the set-up token.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "fake_backend.h"
#include "fake_diagnostics.h"
#include "http/api.h"
#include "http/message.h"
#include "http/request_parser.h"

namespace {

using namespace postern;
using namespace postern::http;

#define require(ok) \
  ((ok) ? (void)0   \
        : (std::fprintf(stderr, "http_api: %s failed (line %d)\n", #ok, __LINE__), std::abort()))

constexpr std::string_view kPassword = "correct horse battery";

// Which guard applies to a request (mirrors the route table of api.h).
enum class Access { open, session, session_csrf, login, setup };

Access access_of(const Request& r) {
  const std::string& p = r.path;
  if (r.method == "POST") {
    if (p == "/api/login") return Access::login;
    if (p == "/api/setup") return Access::setup;
    for (const char* route : {"/api/logout", "/api/settings", "/api/domains", "/api/users",
                              "/api/certificate", "/api/trace"})
      if (p == route) return Access::session_csrf;
    return Access::open;
  }
  if (r.method == "GET" || r.method == "HEAD") {
    for (const char* route : {"/api/status", "/api/mailboxes", "/api/settings", "/api/links"})
      if (p == route) return Access::session;
    if (p.rfind("/api/trace/", 0) == 0) return Access::session;
  }
  return Access::open;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

bool has_header_containing(const Request& r, std::string_view name, std::string_view text) {
  for (const auto& [n, v] : r.headers) {
    if (n == name && v.find(text) != std::string::npos) return true;
  }
  return false;
}

// RFC 9112 §4, §6.3: the bytes the client reads for one response.
void check_wire(const std::string& wire, const Response& r, bool head_only) {
  require(wire.rfind("HTTP/1.1 ", 0) == 0 && wire.size() > 16);
  require(wire.substr(9, 3) == std::to_string(r.status) && wire[12] == ' ');
  require(r.status >= 100 && r.status <= 599);
  const std::size_t head_end = wire.find("\r\n\r\n");
  require(head_end != std::string::npos);
  std::size_t at = wire.find("\r\n") + 2;
  int lengths = 0;
  std::size_t length = 0;
  while (at < head_end + 2) {
    const std::size_t eol = wire.find("\r\n", at);
    const std::string_view line(wire.data() + at, eol - at);
    require(line.find('\n') == std::string_view::npos && line.find('\r') == std::string_view::npos);
    const std::size_t colon = line.find(": ");
    require(colon != std::string_view::npos && colon > 0);
    if (line.substr(0, colon) == "Content-Length") {
      ++lengths;
      length = std::stoul(std::string(line.substr(colon + 2)));
    }
    at = eol + 2;
  }
  const bool no_content = r.status < 200 || r.status == 204 || r.status == 304;
  require(lengths == (no_content ? 0 : 1));
  if (!no_content) require(length == r.body.size());
  const std::size_t body = wire.size() - (head_end + 4);
  require(body == (no_content || head_only ? 0 : r.body.size()));
}

struct Driver {
  core::ManualClock clock;
  test::FakeBackend backend;
  test::FakeDiagnostics diagnostics;
  std::optional<Api> api;
  RequestContext context{"192.168.1.20", false, 8080};
  std::map<std::string, std::string> sessions;  // live session id -> its CSRF token
  std::string secrets;                          // every token handed out, joined
  int pending = 0;
  // POSTERN_FUZZ_VERBOSE=1: each request and its status on stderr, to read a crash input.
  const bool verbose = std::getenv("POSTERN_FUZZ_VERBOSE") != nullptr;

  void handle(const Request& request) {
    const Access access = access_of(request);
    // What the request carries, judged before the API sees it.
    bool has_session = false, has_csrf = false;
    int matched = 0;
    std::string used_session;
    for (const auto& [id, csrf] : sessions) {
      if (!has_header_containing(request, "cookie", id)) continue;
      has_session = true;
      used_session = id;
      ++matched;
      if (has_header_containing(request, "x-csrf-token", csrf)) has_csrf = true;
    }
    // As the API reads the body: JSON, so escapes count.
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    auto field = [&body](const char* key) -> std::string {
      if (!body.is_object() || !body.contains(key) || !body[key].is_string()) return {};
      return body[key].get<std::string>();
    };
    const bool has_password = field("password") == kPassword;
    const auto setup = api->setup_token();
    const bool has_setup = setup && field("token") == *setup;
    const bool head_only = request.method == "HEAD";
    ++pending;
    api->handle(request, context, [=, this](Response r) {
      --pending;
      require(pending >= 0);
      const std::string wire = serialize(r, 1764784800, request.keep_alive, head_only);
      check_wire(wire, r, head_only);
      const bool ok = r.status >= 200 && r.status < 300;
      if (verbose)
        std::fprintf(stderr, "%s %s -> %d\n", request.method.c_str(), request.target.c_str(),
                     r.status);
      if (ok && access == Access::session) require(has_session);
      if (ok && access == Access::session_csrf) require(has_session && has_csrf);
      if (ok && access == Access::login) require(has_password);
      if (ok && access == Access::setup) require(has_setup);
      if (const std::string* type = r.header("Content-Type");
          type && type->rfind("application/json", 0) == 0 && !head_only) {
        auto json = nlohmann::json::parse(r.body, nullptr, false);
        require(!json.is_discarded());
        if (ok && json.is_object() && json.contains("csrf") && json["csrf"].is_string()) {
          const std::string csrf = json["csrf"];
          if (const std::string* cookie = r.header("Set-Cookie")) {
            const std::string id = cookie->substr(16, cookie->find(';') - 16);
            sessions[id] = csrf;
            secrets += id + "\n" + csrf + "\n";
          }
        }
      }
      // BREACH: a compressed response never carries a secret.
      if (r.header("Content-Encoding") != nullptr) {
        require(r.header("Set-Cookie") == nullptr);
        for (const auto& [id, csrf] : sessions)
          require(r.body.find(id) == std::string::npos && r.body.find(csrf) == std::string::npos);
      }
      // Logged out: forgotten, when it is clear which session the cookie named.
      if (ok && access == Access::session_csrf && request.path == "/api/logout" && matched == 1)
        sessions.erase(used_session);
    });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (core::set_log_to_stderr(false), true);
  (void)quiet;
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const std::size_t step = 1 + data[1];
  Driver d;
  d.backend.admin_password = (flags & 1) ? "" : std::string(kPassword);
  d.context.secure = (flags & 2) != 0;
  static const char* const kPeers[] = {"192.168.1.20", "192.168.1.21", "::1", "10.0.0.9"};
  d.context.peer = kPeers[(flags >> 3) & 3];
  d.api.emplace(d.backend, d.clock, ApiOptions{}, &d.diagnostics);

  std::string cookie = "none", csrf = "none";
  if (!(flags & 1)) {  // the owner logs in
    Request login;
    login.method = "POST";
    login.target = login.path = "/api/login";
    login.headers = {{"host", "192.168.1.1:8080"}, {"content-type", "application/json"}};
    login.body = R"({"password":"correct horse battery"})";
    d.handle(login);
    d.backend.run_pending();
    require(d.sessions.size() == 1);
    cookie = d.sessions.begin()->first;
    csrf = d.sessions.begin()->second;
  }
  // After parsing, so Content-Length counts what the fuzzer wrote.
  const std::string setup = d.api->setup_token().value_or("none");
  auto substitute = [&](std::string s) {
    return replace_all(replace_all(replace_all(std::move(s), "@C", cookie), "@T", csrf), "@S",
                       setup);
  };
  const std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);

  RequestParser parser(ParserLimits{2048, 16 * 1024});
  std::string_view rest = input;
  int requests = 0;
  while (!rest.empty() && requests < 16) {
    const std::size_t used = parser.feed(rest.substr(0, step));
    rest.remove_prefix(used);
    if (parser.state() == RequestParser::State::failed) break;  // 4xx/5xx and close
    if (parser.state() == RequestParser::State::complete) {
      Request request = parser.take();
      for (auto& [name, value] : request.headers) value = substitute(std::move(value));
      request.body = substitute(std::move(request.body));
      d.handle(request);
      ++requests;
      if (!(flags & 4)) d.backend.run_pending();
      continue;
    }
    if (used == 0) break;
  }
  d.backend.run_pending();
  require(d.pending == 0);  // every request was answered exactly once
  return 0;
}
