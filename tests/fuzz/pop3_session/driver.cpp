// libFuzzer driver for pop3::Session: arbitrary client bytes, split and completed in
// input-chosen ways, against a fake host with a small maildrop.
//
// Build (no CMake target on purpose; CI runs it briefly):
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I src \
//     tests/fuzz/pop3_session/driver.cpp src/pop3/*.cpp src/core/*.cpp -o pop3_session_fuzz
//   ./pop3_session_fuzz -dict=tests/fuzz/pop3_session/pop3_session.dict \
//     tests/fuzz/pop3_session/corpus
// Checks beyond the sanitizers: feed() never claims more than it was given, nothing is sent
// after close(), session_ended() comes at most once, and every reply line ends with CRLF.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "pop3/session.h"

namespace {

using namespace postern;

class FuzzHost final : public pop3::Host {
 public:
  std::vector<std::string> bodies = {"Subject: a\r\n\r\n.dot\r\nbody\r\n", "", "no crlf",
                                     "H: x\r\n\r\n" + std::string(300, '.')};
  std::size_t chunk_size = 5;
  bool password_pending = false, update_pending = false, tls_pending = false;
  bool closed = false;
  int ended = 0;
  std::size_t budget = 64;

  void send(std::string_view bytes) override {
    if (closed) std::abort();
    if (!bytes.empty() && bytes.substr(0, 1) != "+" && bytes.substr(0, 1) != "-" && !streaming_)
      std::abort();
    budget = bytes.size() >= budget ? 0 : budget - bytes.size();
  }
  void check_password(std::string_view, std::string_view password) override {
    password_pending = true;
    password_ok = password == "secret";
  }
  core::Result<pop3::Maildrop> open_maildrop(std::string_view user) override {
    if (user == "busy") return core::make_error(core::Errc::busy, "fuzz");
    pop3::Maildrop drop;
    for (std::size_t i = 0; i < bodies.size(); ++i)
      drop.messages.push_back({bodies[i].size(), "uid" + std::to_string(i), i});
    streaming_ = true;  // after login, stream chunks may start with any byte
    return drop;
  }
  core::Result<std::string> read_message_chunk(const pop3::MessageEntry& m,
                                               std::size_t index) override {
    const std::string& body = bodies.at(m.key);
    if (index * chunk_size >= body.size()) return std::string();
    return body.substr(index * chunk_size, chunk_size);
  }
  bool can_send_more() const override { return budget > 0; }
  void update(const std::vector<std::uint64_t>&, const std::vector<std::uint64_t>&) override {
    update_pending = true;
  }
  void session_ended(const pop3::SessionSummary&) override {
    if (++ended > 1) std::abort();
  }
  void start_tls() override { tls_pending = true; }
  void close() override { closed = true; }

  bool password_ok = false;

 private:
  bool streaming_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (core::set_log_to_stderr(false), true);
  (void)quiet;
  if (size < 2) return 0;
  const std::uint8_t flags = data[0], splits = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  FuzzHost host;
  host.chunk_size = 1 + (flags >> 4);
  core::ManualClock clock;
  pop3::Limits limits;
  limits.max_line = 16 + (splits & 0x3f) * 4;
  pop3::Peer peer{"fuzz", (flags & 1) != 0, (flags & 2) != 0, "f"};
  pop3::Session session(host, limits, clock, peer);

  std::string buffer;
  std::size_t at = 0;
  const std::size_t step = 1 + (splits >> 6) * 7;
  while (at < input.size() || !buffer.empty()) {
    if (at < input.size()) {
      buffer.append(input.substr(at, step));
      at += step;
    }
    const std::size_t n = session.wants_input() ? session.feed(buffer) : 0;
    if (n > buffer.size()) std::abort();
    buffer.erase(0, n);
    bool progressed = n > 0;
    if (host.tls_pending) {
      buffer.clear();
      host.tls_pending = false;
      session.on_tls_ready();
      progressed = true;
    }
    if (host.password_pending) {
      host.password_pending = false;
      if (flags & 4) {
        session.on_password_checked(core::make_error(core::Errc::io, "fuzz"));
      } else {
        session.on_password_checked(host.password_ok);
      }
      progressed = true;
    }
    if (host.update_pending) {
      host.update_pending = false;
      session.on_updated(flags & 8 ? core::Result<void>(core::make_error(core::Errc::full, "f"))
                                   : core::Result<void>());
      progressed = true;
    }
    if (!session.wants_input() && host.budget == 0 && !host.closed) {
      host.budget = 64;
      session.on_drain();
      progressed = true;
    }
    if (host.closed || host.ended) break;
    if (!progressed && at >= input.size()) break;
  }
  if (!host.ended) session.on_disconnect();
  if (host.ended != 1) std::abort();
  return 0;
}
