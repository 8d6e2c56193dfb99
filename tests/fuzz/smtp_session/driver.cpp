// libFuzzer driver for smtp::Session: random bytes, fed in random splits the way
// net would (keeping what feed() did not consume), with a host that accepts
// every recipient and completes commits and TLS handshakes at once.
//
// It checks the contract, not just the absence of crashes: feed() never claims
// more than it was offered, never leaves net holding a whole command line's
// worth while it still wants input, every reply is CRLF-terminated, and each
// message_begin() ends in exactly one message_end() or message_abort().
//
// Build (no CMake target on purpose; see the report):
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I src \
//     tests/fuzz/smtp_session/driver.cpp src/smtp/*.cpp src/core/*.cpp -o smtp_session_fuzz
//   ./smtp_session_fuzz -dict=tests/fuzz/smtp_session/smtp_session.dict \
//     tests/fuzz/smtp_session/corpus
#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

class FuzzHost final : public smtp::Host {
 public:
  bool open = false;
  bool tls_requested = false;
  bool closed = false;

  void send(std::string_view reply) override {
    require(reply.size() >= 5 && reply.substr(reply.size() - 2) == "\r\n");
  }
  smtp::RecipientVerdict check_recipient(const smtp::Envelope&, std::string_view rcpt) override {
    require(!rcpt.empty());
    // A recipient's first octet picks a verdict, so every reply path is reached.
    return static_cast<smtp::RecipientVerdict>(static_cast<unsigned char>(rcpt[0]) % 5);
  }
  void message_begin(const smtp::Envelope& env, std::string_view trace) override {
    require(!open && !env.recipients.empty() && trace.substr(trace.size() - 2) == "\r\n");
    open = true;
  }
  void message_data(std::string_view chunk) override {
    require(open && !chunk.empty() && chunk.size() <= 64 * 1024);
  }
  void message_end() override {
    require(open);
    open = false;
  }
  void message_abort(smtp::AbortReason) override {
    require(open);
    open = false;
  }
  void start_tls() override { tls_requested = true; }
  void close() override { closed = true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (core::set_log_to_stderr(false), true);
  (void)quiet;
  if (size < 1) return 0;
  std::uint32_t rng = data[0] * 2654435761u + 1;  // split sizes come from the input
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

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
  smtp::Session session(host, limits, clock, smtp::Peer{"192.0.2.1", false, "fz"});

  std::string buffer;
  std::size_t at = 0;
  unsigned commits = 0;
  while (at < input.size() && !host.closed) {
    rng = rng * 1103515245u + 12345u;
    std::size_t n = 1 + (rng >> 16) % 97;
    if (n > input.size() - at) n = input.size() - at;
    buffer.append(input.substr(at, n));
    at += n;
    for (;;) {
      if (session.wants_input()) {
        std::size_t used = session.feed(buffer);
        require(used <= buffer.size());
        buffer.erase(0, used);
        if (session.wants_input()) {
          require(buffer.size() < limits.max_command_line);
          break;
        }
      }
      if (host.closed) break;
      if (host.tls_requested) {
        host.tls_requested = false;
        buffer.clear();  // CVE-2011-0411: plaintext after STARTTLS is discarded
        session.on_tls_ready();
      } else if (std::string(session.state_name()) == "committing") {
        switch (commits++ % 4) {
          case 0:
            session.on_committed({});
            break;
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
  if (data[0] & 1) {
    session.on_timeout();
  } else {
    session.on_disconnect();
  }
  require(!host.open);  // every begun message was ended or aborted
  return 0;
}
