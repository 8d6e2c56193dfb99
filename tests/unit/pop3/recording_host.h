// Test doubles for pop3::Session: a RecordingHost that turns every call into a transcript
// line, and a FakeNet that drives the session the way net::Connection will.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "pop3/host.h"
#include "pop3/session.h"

namespace postern::pop3::test {

// Keeps test output readable: the session logs through core::log.
inline const bool kQuietLogs = (core::set_log_to_stderr(false), true);

struct StoredMessage {
  std::string unique_id;
  std::string body;  // stored form: CRLF lines, not dot-stuffed
};

class RecordingHost final : public Host {
 public:
  // The transcript: "S: <line>" per complete server line, "H: <call>" per host call.
  std::vector<std::string> transcript;
  std::string raw;                      // every byte sent, in order
  std::vector<std::size_t> send_sizes;  // the size of each send() call, in order

  // Fixture.
  std::map<std::string, std::string> passwords{{"alice", "secret"}};
  std::map<std::string, std::vector<StoredMessage>> maildrops;
  std::optional<core::Error> open_error;  // open_maildrop fails with this
  std::optional<core::Error> read_error;  // read_message_chunk fails with this...
  std::size_t read_error_at_chunk = 0;    // ...from this chunk index on
  std::size_t chunk_size = 7;             // small, so boundaries fall everywhere
  std::size_t send_budget = SIZE_MAX;     // can_send_more() false once exhausted

  // Pending asynchronous requests.
  std::optional<std::pair<std::string, std::string>> password_check;
  std::optional<std::string> maildrop_request;  // open_maildrop() awaiting its snapshot
  bool update_pending = false;
  bool tls_pending = false;
  bool closed = false;
  std::optional<SessionSummary> summary;
  std::vector<std::uint64_t> last_deleted, last_retrieved;
  std::size_t chunk_reads = 0;

  void send(std::string bytes) override {
    raw += bytes;
    send_sizes.push_back(bytes.size());
    partial_ += bytes;
    std::size_t end;
    while ((end = partial_.find("\r\n")) != std::string::npos) {
      transcript.push_back("S: " + partial_.substr(0, end));
      partial_.erase(0, end + 2);
    }
    send_budget = bytes.size() >= send_budget ? 0 : send_budget - bytes.size();
  }
  void check_password(std::string_view user, std::string_view password) override {
    transcript.push_back("H: check_password " + std::string(user) + " " + std::string(password));
    password_check.emplace(std::string(user), std::string(password));
  }
  void open_maildrop(std::string_view user) override {
    transcript.push_back("H: open_maildrop " + std::string(user));
    maildrop_request = std::string(user);
  }
  // The snapshot the host would take for `user` (FakeNet answers with it).
  core::Result<Maildrop> snapshot(const std::string& user) {
    if (open_error) return *open_error;
    Maildrop drop;
    std::uint64_t key = 100;
    for (const auto& m : maildrops[user])
      drop.messages.push_back(MessageEntry{key++, m.body.size(), UniqueId(m.unique_id)});
    opened_user_ = user;
    return drop;
  }
  core::Result<std::string> read_message_chunk(const MessageEntry& message,
                                               std::size_t chunk_index) override {
    ++chunk_reads;
    if (read_error && chunk_index >= read_error_at_chunk) return *read_error;
    const std::string& body = maildrops[opened_user_].at(message.key - 100).body;
    const std::size_t offset = chunk_index * chunk_size;
    if (offset >= body.size()) return std::string();
    return body.substr(offset, chunk_size);
  }
  bool can_send_more() const override { return send_budget > 0; }
  void update(const std::vector<std::uint64_t>& deleted,
              const std::vector<std::uint64_t>& retrieved) override {
    transcript.push_back("H: update deleted=" + join(deleted) + " retrieved=" + join(retrieved));
    last_deleted = deleted;
    last_retrieved = retrieved;
    update_pending = true;
  }
  void session_ended(const SessionSummary& s) override {
    transcript.push_back("H: session_ended reason=" + std::string(to_string(s.reason)) +
                         " user=" + s.user + " retrieved=" + std::to_string(s.retrieved) +
                         " deleted=" + std::to_string(s.marked_deleted) +
                         " removed=" + std::to_string(s.removed));
    summary = s;
  }
  void start_tls() override {
    transcript.push_back("H: start_tls");
    tls_pending = true;
  }
  void close() override {
    transcript.push_back("H: close");
    closed = true;
  }

  std::string unfinished_line() const { return partial_; }

 private:
  static std::string join(const std::vector<std::uint64_t>& keys) {
    std::string out;
    for (auto k : keys) out += (out.empty() ? "" : ",") + std::to_string(k);
    return out.empty() ? "-" : out;
  }
  std::string partial_;
  std::string opened_user_;
};

inline Limits default_limits() {
  Limits limits;
  limits.greeting_host = "mail.example";
  return limits;
}

inline Peer remote_peer() {
  return Peer{"192.0.2.7", false, false, "t1"};
}
inline Peer tls_peer() {
  return Peer{"192.0.2.7", false, true, "t1"};
}
inline Peer loopback_peer() {
  return Peer{"127.0.0.1", true, false, "t1"};
}

// Drives a Session as net::Connection will: keeps unconsumed bytes, offers them again after
// each completion, and (in auto mode) answers the host's asynchronous requests at once.
class FakeNet {
 public:
  explicit FakeNet(Limits limits = default_limits(), Peer peer = tls_peer())
      : limits_(std::move(limits)), session(host, limits_, clock, std::move(peer)) {}

  void client(std::string_view bytes) {
    buffer += bytes;
    run();
  }
  // Feeds and completes until nothing more can happen.
  void run() {
    for (;;) {
      if (session.wants_input() && !buffer.empty()) {
        const std::size_t n = session.feed(buffer);
        REQUIRE(n <= buffer.size());
        buffer.erase(0, n);
      }
      if (host.tls_pending) buffer.clear();  // RFC 2595 §4: net discards buffered plaintext
      if (!auto_complete || !complete_one()) return;
    }
  }
  bool complete_one() {
    if (host.password_check) {
      auto [user, password] = *host.password_check;
      host.password_check.reset();
      auto it = host.passwords.find(user);
      session.on_password_checked(it != host.passwords.end() && it->second == password);
      return true;
    }
    if (host.maildrop_request) {
      const std::string user = *host.maildrop_request;
      host.maildrop_request.reset();
      session.on_maildrop_opened(host.snapshot(user));
      return true;
    }
    if (host.update_pending) {
      host.update_pending = false;
      session.on_updated(update_outcome);
      return true;
    }
    if (host.tls_pending) {
      host.tls_pending = false;
      session.on_tls_ready();
      return true;
    }
    // net's write queue drained: a streamed reply that stopped at can_send_more() goes on.
    if (drain_budget > 0 && host.send_budget == 0 && !session.wants_input() &&
        session.state() != State::closed) {
      host.send_budget = drain_budget;
      session.on_drain();
      return true;
    }
    return false;
  }

  Limits limits_;
  RecordingHost host;
  core::ManualClock clock;
  Session session;
  std::string buffer;
  bool auto_complete = true;
  // Non-zero: run() answers a full write queue by refilling host.send_budget with this many
  // octets and calling on_drain(), as net does once its queue falls below the low-water mark.
  std::size_t drain_budget = 0;
  core::Result<void> update_outcome;
};

using Setup = std::function<void(FakeNet&)>;

// One line per entry, so a failed CHECK prints both transcripts readably.
inline std::string lines(const std::vector<std::string>& transcript) {
  std::string out;
  for (const auto& line : transcript) out += line + "\n";
  return out;
}

// Replays `script` whole, one byte at a time, and in random splits from a fixed seed; each
// run must produce `expected` exactly. Returns the transcript of the whole run.
inline std::vector<std::string> feed_all_ways(const std::string& script,
                                              const std::vector<std::string>& expected,
                                              const Setup& setup = {},
                                              Limits limits = default_limits(),
                                              Peer peer = tls_peer()) {
  auto replay = [&](const std::vector<std::size_t>& cuts, const char* how) {
    FakeNet net(limits, peer);
    if (setup) setup(net);
    net.host.transcript.clear();  // the greeting is checked separately
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
      net.client(std::string_view(script).substr(from, cut - from));
      from = cut;
    }
    net.client(std::string_view(script).substr(from));
    INFO("split: " << std::string(how));
    CHECK(lines(net.host.transcript) == lines(expected));
    return net.host.transcript;
  };
  std::vector<std::string> whole = replay({}, "whole");
  std::vector<std::size_t> bytewise;
  for (std::size_t i = 1; i < script.size(); ++i) bytewise.push_back(i);
  replay(bytewise, "byte at a time");
  std::mt19937 rng(1939);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (script.size() > 1) {
      at += 1 + rng() % 9;
      if (at >= script.size()) break;
      cuts.push_back(at);
    }
    replay(cuts, "random");
  }
  return whole;
}

}  // namespace postern::pop3::test
