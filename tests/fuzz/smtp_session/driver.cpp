// libFuzzer driver for smtp::Session: whole client sessions (EHLO, MAIL, RCPT, DATA,
// BDAT, STARTTLS, RSET, QUIT, garbage) fed the way net would, keeping what feed() did
// not consume, against a host that completes commits and TLS handshakes at once.
//
// Input: byte 0 picks the mode (bit 0: end by timeout or disconnect; bit 1: exact mode),
// the rest is what the client sends. Split mode offers pieces of pseudo-random size
// (seeded by byte 0); exact mode adds one byte at a time, so the driver knows where
// every message starts and ends in the input and can recompute the body itself.
//
// Invariants checked beyond the sanitizers:
//  - feed() never claims more than it was offered, and never leaves net holding a whole
//    command line's worth while it still wants input;
//  - every reply is CRLF-terminated lines "ddd-..." / "ddd ..." with one code 2xx-5xx
//    (the last line with a space), an enhanced code (RFC 3463) of the same class, and
//    nothing is sent after the 221 / 421 that closes the session;
//  - each message_begin() ends in exactly one message_end() or message_abort(), and no
//    data arrives outside one; chunks are at most 64 KiB and counts never go past the
//    message size limit;
//  - exact mode: a DATA body handed over equals the input between the DATA line and
//    "<CRLF>.<CRLF>", dot-unstuffed (RFC 5321 §4.5.2), never ending early; a BDAT body
//    equals the chunk octets in order and its size the sum of the BDAT sizes (RFC 3030).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/log.h"
#include "smtp/session.h"

namespace {

using namespace postern;

void require(bool ok) {
  if (!ok) std::abort();
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// One reply as Host::send() gets it: one or more lines of one code.
void check_reply(std::string_view reply) {
  require(reply.size() >= 5 && reply.substr(reply.size() - 2) == "\r\n");
  const std::string_view code = reply.substr(0, 3);
  require(is_digit(code[0]) && is_digit(code[1]) && is_digit(code[2]));
  require(code[0] >= '2' && code[0] <= '5');
  while (!reply.empty()) {
    const std::size_t end = reply.find("\r\n");
    require(end != std::string_view::npos && end >= 3);
    const std::string_view line = reply.substr(0, end);
    require(line.substr(0, 3) == code);
    require(line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos);
    reply.remove_prefix(end + 2);
    const bool last = reply.empty();
    require(line.size() == 3 || line[3] == (last ? ' ' : '-'));
    // RFC 3463 §3: the class of an enhanced status code matches the reply's.
    const std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
    if (text.size() >= 5 && is_digit(text[0]) && text[1] == '.' && is_digit(text[2]))
      require(text[0] == code[0]);
  }
}

// RFC 5321 §4.5.2: the body is the lines before ".<CRLF>", each leading dot removed once.
// `raw` must be the octets after the DATA line up to and including the final dot line.
std::string unstuff(std::string_view raw) {
  std::string_view terminator = raw == ".\r\n" ? ".\r\n" : "\r\n.\r\n";
  require(raw.size() >= terminator.size() &&
          raw.substr(raw.size() - terminator.size()) == terminator);
  raw.remove_suffix(3);  // ".\r\n"; the CRLF before it ends the body's last line
  std::string out;
  while (!raw.empty()) {
    const std::size_t end = raw.find("\r\n");
    require(end != std::string_view::npos);  // lines end in CRLF, none ends early
    std::string_view line = raw.substr(0, end + 2);
    if (line.front() == '.') line.remove_prefix(1);
    out.append(line);
    raw.remove_prefix(end + 2);
  }
  return out;
}

// Mirrors parse_bdat() for the exact-mode model: "BDAT <digits>[ LAST]".
std::optional<std::uint64_t> bdat_size(std::string_view line) {
  if (line.size() < 7 || line.substr(line.size() - 2) != "\r\n") return std::nullopt;
  line.remove_suffix(2);
  if (strncasecmp(line.data(), "BDAT ", 5) != 0) return std::nullopt;
  line.remove_prefix(5);
  std::string_view digits = line.substr(0, line.find(' '));
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

class FuzzHost final : public smtp::Host {
 public:
  bool open = false;
  bool via_bdat = false;
  bool begun = false;  // message_begin() during the current feed()
  bool ended = false;  // message_end() during the current feed()
  bool tls_requested = false;
  bool closed = false;
  int replies = 0;  // during the current feed()
  char first_reply_class = 0;
  std::string body;  // what message_data() handed over for the open message
  std::uint64_t max_bytes = 0;

  void send(std::string_view reply) override {
    require(!closed);  // nothing after 221 / 421
    check_reply(reply);
    if (replies++ == 0) first_reply_class = reply[0];
  }
  smtp::RecipientVerdict check_recipient(const smtp::Envelope&, std::string_view rcpt) override {
    require(!rcpt.empty() && !closed);
    // A recipient's first octet picks a verdict, so every reply path is reached.
    return static_cast<smtp::RecipientVerdict>(static_cast<unsigned char>(rcpt[0]) % 5);
  }
  void message_begin(const smtp::Envelope& env, std::string_view trace) override {
    require(!open && !closed && !env.recipients.empty());
    require(trace.size() >= 2 && trace.substr(trace.size() - 2) == "\r\n");
    open = begun = true;
    via_bdat = env.via_bdat;
    body.clear();
  }
  void message_data(std::string_view chunk) override {
    require(open && !chunk.empty() && chunk.size() <= 64 * 1024);
    body.append(chunk);
    require(body.size() <= max_bytes);  // the session stops counting at SIZE
  }
  void message_end() override {
    require(open);
    open = false;
    ended = true;
  }
  void message_abort(smtp::AbortReason) override {
    require(open);
    open = false;
  }
  void start_tls() override { tls_requested = true; }
  void close() override {
    require(!closed);
    closed = true;
  }
};

// Exact mode's model of where message octets are in the input.
struct Model {
  std::size_t data_start = 0;       // input offset of the open DATA body
  bool bdat_known = true;           // every BDAT line of the open message was parsed
  std::string bdat_body;            // chunk octets of the open BDAT message
  std::uint64_t bdat_declared = 0;  // the sum of its BDAT sizes
  std::uint64_t chunk_left = 0;     // octets of a chunk still to come
  bool chunk_counts = false;        // they belong to the open message
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (core::set_log_to_stderr(false), true);
  (void)quiet;
  if (size < 1) return 0;
  const bool exact = (data[0] & 2) != 0;
  std::uint32_t rng = data[0] * 2654435761u + 1;  // split sizes come from the input
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  smtp::Limits limits;
  limits.hostname = "mx.example.org";
  limits.max_message_bytes = 4000;
  limits.max_recipients = 3;
  limits.max_command_line = 128;
  limits.max_commands_before_mail = 40;
  limits.max_errors = 40;
  limits.tls_available = true;
  core::ManualClock clock;
  FuzzHost host;
  host.max_bytes = limits.max_message_bytes;
  smtp::Session session(host, limits, clock, smtp::Peer{"192.0.2.1", false, "fz"});

  std::string buffer;
  std::size_t at = 0;        // input octets appended to the buffer
  std::size_t consumed = 0;  // input octets the session consumed (or net discarded)
  unsigned commits = 0;
  Model model;
  while (at < input.size() && !host.closed) {
    std::size_t n = 1;
    if (!exact) {
      rng = rng * 1103515245u + 12345u;
      n = 1 + (rng >> 16) % 97;
    }
    if (n > input.size() - at) n = input.size() - at;
    buffer.append(input.substr(at, n));
    at += n;
    for (;;) {
      if (session.wants_input()) {
        host.begun = host.ended = false;
        host.replies = 0;
        const bool was_open = host.open;
        const std::string offered = buffer;
        const std::size_t used = session.feed(buffer);
        require(used <= buffer.size());
        buffer.erase(0, used);
        consumed += used;
        if (exact && used > 0) {
          // One octet more than last time: a feed consumes all of the buffer or none.
          require(used == offered.size());
          if (model.chunk_left > 0) {
            require(used == 1);
            if (model.chunk_counts) model.bdat_body.append(offered);
            --model.chunk_left;
          } else if (auto chunk = bdat_size(offered); chunk && host.open) {
            // An accepted BDAT: a reply now only for a zero-size chunk.
            if (host.replies == 0 || host.first_reply_class == '2') {
              model.bdat_declared += *chunk;
              if (host.replies == 0) {
                model.chunk_left = *chunk;
                model.chunk_counts = true;
              }
            }
          } else if (chunk && host.replies == 0) {
            model.chunk_left = *chunk;  // refused after its chunk (RFC 3030 §3)
            model.chunk_counts = false;
          } else if ((was_open || host.begun) && host.via_bdat && !chunk &&
                     strncasecmp(offered.c_str(), "BDAT", 4) == 0) {
            model.bdat_known = false;  // a BDAT line the model does not parse
          }
          if (host.begun) {
            require(!was_open);
            if (host.via_bdat) {
              // The BDAT line that began the message was handled above.
              model.bdat_known = bdat_size(offered).has_value();
              if (!model.bdat_known) model.bdat_body.clear();
            } else {
              model.data_start = consumed;  // the body starts after the DATA line
            }
          }
          if (host.ended) {
            if (host.via_bdat) {
              if (model.bdat_known) {
                require(host.body == model.bdat_body);
                require(host.body.size() == model.bdat_declared);
              }
            } else {
              require(host.body ==
                      unstuff(input.substr(model.data_start, consumed - model.data_start)));
            }
          }
          if (!host.open) {
            model.bdat_body.clear();
            model.bdat_declared = 0;
            model.bdat_known = true;
          }
        }
        if (session.wants_input()) {
          require(buffer.size() < limits.max_command_line);
          break;
        }
      }
      if (host.closed) break;
      if (host.tls_requested) {
        host.tls_requested = false;
        consumed += buffer.size();
        buffer.clear();  // CVE-2011-0411: plaintext after STARTTLS is discarded
        model.chunk_left = 0;
        session.on_tls_ready();
      } else if (std::strcmp(session.state_name(), "committing") == 0) {
        switch (commits++ % 4) {
          case 1:
            session.on_committed(core::Error{core::Errc::full, 0, "fuzz"});
            break;
          case 2:
            session.on_committed(core::Error{core::Errc::io, 0, "fuzz"});
            break;
          default:
            session.on_committed({});
            break;
        }
      } else {
        break;
      }
    }
  }
  (void)session.current_timeout();
  if (data[0] & 1 && !host.closed) {
    session.on_timeout();  // net arms no timer once closed (current_timeout() is zero)
  } else {
    session.on_disconnect();
  }
  require(!host.open);  // every begun message was ended or aborted
  return 0;
}
