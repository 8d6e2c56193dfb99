// Test harness for smtp::Session: a RecordingHost that turns every Host call
// into a transcript line, and feed_all_ways(), which replays a script whole,
// one byte at a time and in random splits, like net would (keeping unconsumed
// bytes and offering them again), and checks that every way gives the same result.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/result.h"
#include "smtp/session.h"

// Transcripts print one line each when a CHECK fails.
namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& lines) {
    std::string out = "\n";
    for (const auto& line : lines) out += "  | " + line + "\n";
    return String(out.c_str());
  }
};
}  // namespace doctest

namespace postern::smtp::test {

// Rejections log at info level; keep the test output readable.
inline const bool kQuietLogs = (core::set_log_to_stderr(false), true);

class RecordingHost final : public Host {
 public:
  std::vector<std::string> transcript;
  std::vector<std::string> bodies;  // one per message_end(), trace headers excluded
  std::vector<std::string> traces;  // trace headers of each message_begin()
  std::map<std::string, RecipientVerdict> verdicts;  // default accept
  bool tls_started = false;

  void send(std::string_view reply) override {
    CHECK(reply.size() >= 2);
    CHECK(reply.substr(reply.size() - 2) == "\r\n");
    while (!reply.empty()) {
      std::size_t end = reply.find("\r\n");
      transcript.push_back("S: " + std::string(reply.substr(0, end)));
      reply.remove_prefix(end + 2);
    }
  }
  RecipientVerdict check_recipient(const Envelope&, std::string_view rcpt) override {
    transcript.push_back("check " + std::string(rcpt));
    auto it = verdicts.find(std::string(rcpt));
    return it == verdicts.end() ? RecipientVerdict::accept : it->second;
  }
  void message_begin(const Envelope& env, std::string_view trace) override {
    std::string line = "begin from=<" + env.reverse_path + "> to=";
    for (const auto& r : env.recipients) line += "<" + r + ">";
    if (env.via_bdat) line += " bdat";
    transcript.push_back(line);
    traces.emplace_back(trace);
    body_.clear();
    open_ = true;
  }
  void message_data(std::string_view chunk) override {
    CHECK(open_);
    CHECK(!chunk.empty());
    CHECK(chunk.size() <= 64 * 1024);
    body_ += chunk;
    // Consecutive pieces are one line, so the transcript does not depend on splits.
    if (!transcript.empty() && transcript.back().rfind("data ", 0) == 0) {
      transcript.back() = "data " + std::to_string(body_.size());
    } else {
      transcript.push_back("data " + std::to_string(body_.size()));
    }
  }
  void message_end() override {
    CHECK(open_);
    open_ = false;
    transcript.push_back("end");
    bodies.push_back(body_);
  }
  void message_abort(AbortReason reason) override {
    CHECK(open_);
    open_ = false;
    transcript.push_back(std::string("abort ") + to_string(reason));
  }
  void start_tls() override {
    tls_started = true;
    transcript.push_back("start_tls");
  }
  void close() override { transcript.push_back("close"); }

 private:
  std::string body_;
  bool open_ = false;
};

struct Step {
  enum class Kind { client, commit, tls_ready, timeout, disconnect } kind;
  std::string bytes;
  std::optional<core::Error> commit_error;
};
inline Step client(std::string bytes) {
  return Step{Step::Kind::client, std::move(bytes), {}};
}
inline Step commit_ok() {
  return Step{Step::Kind::commit, {}, {}};
}
inline Step commit_fails(core::Errc code) {
  return Step{Step::Kind::commit, {}, core::Error{code, 0, "test.commit"}};
}
inline Step tls_ready() {
  return Step{Step::Kind::tls_ready, {}, {}};
}
inline Step timeout() {
  return Step{Step::Kind::timeout, {}, {}};
}
inline Step disconnect() {
  return Step{Step::Kind::disconnect, {}, {}};
}

inline Limits test_limits() {
  Limits l;
  l.hostname = "mx.example.org";
  l.max_message_bytes = 10000;
  l.max_recipients = 3;
  l.max_command_line = 512;
  l.max_discarded_command_bytes = 4096;
  l.max_commands_before_mail = 30;
  l.max_errors = 10;
  l.tls_available = true;
  return l;
}

struct Run {
  std::vector<std::string> transcript;
  std::vector<std::string> bodies;
  std::vector<std::string> traces;
  std::string state;
  std::size_t leftover = 0;  // bytes net still holds at the end
};

enum class Split { whole, bytes, random };

inline Run run_script(const std::vector<Step>& script, const Limits& limits, Split split,
                      unsigned seed = 1,
                      const std::map<std::string, RecipientVerdict>& verdicts = {}) {
  RecordingHost host;
  host.verdicts = verdicts;
  core::ManualClock clock;
  Session session(host, limits, clock, Peer{"192.0.2.7", false, "s1"});
  std::string buffer;  // what net holds: offered but not consumed
  std::mt19937 rng(seed);
  auto pump = [&] {
    while (session.wants_input() && !buffer.empty()) {
      std::size_t n = session.feed(buffer);
      REQUIRE(n <= buffer.size());
      buffer.erase(0, n);
      if (n == 0) break;
    }
    // The session must never make net hold more than a command line.
    if (session.wants_input()) CHECK(buffer.size() < limits.max_command_line);
  };
  for (const Step& step : script) {
    switch (step.kind) {
      case Step::Kind::client: {
        std::size_t at = 0;
        while (at < step.bytes.size()) {
          std::size_t n = step.bytes.size() - at;
          if (split == Split::bytes) n = 1;
          if (split == Split::random) n = std::min<std::size_t>(n, 1 + rng() % 37);
          buffer.append(step.bytes, at, n);
          at += n;
          pump();
        }
        break;
      }
      case Step::Kind::commit:
        if (step.commit_error) {
          session.on_committed(*step.commit_error);
        } else {
          session.on_committed({});
        }
        pump();
        break;
      case Step::Kind::tls_ready:
        // net discards plaintext buffered after STARTTLS (CVE-2011-0411).
        REQUIRE(host.tls_started);
        host.transcript.push_back("net discards " + std::to_string(buffer.size()) + " bytes");
        buffer.clear();
        session.on_tls_ready();
        pump();
        break;
      case Step::Kind::timeout:
        session.on_timeout();
        break;
      case Step::Kind::disconnect:
        session.on_disconnect();
        break;
    }
  }
  return Run{host.transcript, host.bodies, host.traces, session.state_name(), buffer.size()};
}

// Replays `script` whole, byte by byte and in 8 random splits; all must agree.
inline Run feed_all_ways(const std::vector<Step>& script, const Limits& limits = test_limits(),
                         const std::map<std::string, RecipientVerdict>& verdicts = {}) {
  Run whole = run_script(script, limits, Split::whole, 1, verdicts);
  Run bytes = run_script(script, limits, Split::bytes, 1, verdicts);
  CHECK(bytes.transcript == whole.transcript);
  CHECK(bytes.bodies == whole.bodies);
  CHECK(bytes.state == whole.state);
  for (unsigned seed = 1; seed <= 8; ++seed) {
    Run random = run_script(script, limits, Split::random, seed, verdicts);
    CHECK(random.transcript == whole.transcript);
    CHECK(random.bodies == whole.bodies);
    CHECK(random.state == whole.state);
  }
  return whole;
}

// The greeting line every transcript starts with.
inline const std::string kGreeting = "S: 220 mx.example.org ESMTP postern";

inline std::vector<std::string> ehlo_reply(bool starttls = true) {
  std::vector<std::string> v = {"S: 250-mx.example.org", "S: 250-PIPELINING", "S: 250-SIZE 10000",
                                "S: 250-8BITMIME", "S: 250-ENHANCEDSTATUSCODES"};
  if (starttls) v.push_back("S: 250-STARTTLS");
  v.insert(v.end(), {"S: 250-CHUNKING", "S: 250-SMTPUTF8", "S: 250 HELP"});
  return v;
}

// Concatenates transcript pieces.
inline std::vector<std::string> lines(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace postern::smtp::test
