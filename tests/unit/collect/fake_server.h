// A scripted POP3 server and a driver for collect::ClientSession: every command the
// session sends is answered by FakeServer, and the answer is fed back to the session
// whole, one byte at a time, or in random splits (see feed modes).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "collect/client_session.h"
#include "core/log.h"

namespace postern::collect::test {

inline const bool kQuietLogs = (core::set_log_to_stderr(false), true);

struct ServerMessage {
  std::string uid;
  std::string body;  // CRLF lines, not stuffed
};

struct FakeServer {
  std::vector<ServerMessage> messages;
  std::vector<std::string> capa = {"TOP", "UIDL", "USER"};
  bool capa_supported = true;
  bool uidl_supported = true;
  std::string password = "secret";
  std::string auth_error = "-ERR [AUTH] Authentication failed.";
  std::set<std::size_t> marked;  // 1-based
  std::vector<std::size_t> removed;
  bool tls = false;

  std::string answer(std::string_view line) {
    const std::string cmd(line.substr(0, line.find(' ')));
    const std::string arg = line.find(' ') == std::string_view::npos
                                ? std::string()
                                : std::string(line.substr(line.find(' ') + 1));
    if (cmd == "CAPA") {
      if (!capa_supported) return "-ERR unknown command\r\n";
      std::string out = "+OK\r\n";
      for (const auto& c : capa) out += c + "\r\n";
      return out + ".\r\n";
    }
    if (cmd == "STLS") {
      tls = true;
      return "+OK Begin TLS negotiation now.\r\n";
    }
    if (cmd == "USER") return "+OK\r\n";
    if (cmd == "PASS") return arg == password ? "+OK Logged in.\r\n" : auth_error + "\r\n";
    if (cmd == "AUTH") {
      // "PLAIN " + base64("\0alice\0secret")
      return arg == "PLAIN AGFsaWNlAHNlY3JldA==" ? "+OK Logged in.\r\n" : auth_error + "\r\n";
    }
    if (cmd == "STAT") {
      std::uint64_t total = 0;
      for (const auto& m : messages) total += m.body.size();
      return "+OK " + std::to_string(messages.size()) + " " + std::to_string(total) + "\r\n";
    }
    if (cmd == "LIST") {
      std::string out = "+OK\r\n";
      for (std::size_t i = 0; i < messages.size(); ++i)
        out += std::to_string(i + 1) + " " + std::to_string(messages[i].body.size()) + "\r\n";
      return out + ".\r\n";
    }
    if (cmd == "UIDL") {
      if (!uidl_supported) return "-ERR unknown command\r\n";
      std::string out = "+OK\r\n";
      for (std::size_t i = 0; i < messages.size(); ++i)
        out += std::to_string(i + 1) + " " + messages[i].uid + "\r\n";
      return out + ".\r\n";
    }
    if (cmd == "TOP" || cmd == "RETR") {
      const std::size_t n = std::stoul(arg);
      if (n < 1 || n > messages.size()) return "-ERR no such message\r\n";
      std::string body = messages[n - 1].body;
      if (cmd == "TOP") body = body.substr(0, body.find("\r\n\r\n") + 4);
      return "+OK\r\n" + stuff(body) + ".\r\n";
    }
    if (cmd == "DELE") {
      marked.insert(std::stoul(arg));
      return "+OK Marked to be deleted.\r\n";
    }
    if (cmd == "QUIT") {
      removed.assign(marked.begin(), marked.end());
      return "+OK Logging out, messages deleted.\r\n";
    }
    return "-ERR unknown command\r\n";
  }

  static std::string stuff(const std::string& body) {
    std::string out;
    bool start = true;
    for (char c : body) {
      if (start && c == '.') out += '.';
      out += c;
      start = c == '\n';
    }
    if (!out.empty() && out.back() != '\n') out += "\r\n";
    return out;
  }
};

enum class Split { whole, bytes, random };

// The host side: records a transcript, answers commands with FakeServer, collects
// delivered messages, and drives completions the way collect::Run does.
class Driver final : public ClientHost {
 public:
  FakeServer server;
  std::vector<std::string> transcript;
  std::map<std::string, std::string> delivered;  // uid -> body
  std::set<std::string> already;                 // uids collected in an earlier run
  bool delete_after = false;
  std::set<std::string> remove_uids;  // durable and old: DELE in plan
  std::optional<core::Error> delivery_error;
  std::optional<Outcome> outcome;
  std::size_t cut_after_bytes = SIZE_MAX;  // the link breaks after this many server bytes
  Split split = Split::whole;

  void run(Login login = {"alice", "secret", TlsMode::plain}, bool tls_active = false) {
    ClientSession session(*this, std::move(login), tls_active, limits);
    session_ = &session;
    wire_ = "+OK Dovecot ready.\r\n";
    pump();
    session_ = nullptr;
  }
  ClientLimits limits;
  std::size_t bytes_fed() const { return sent_; }

  void send(std::string_view bytes) override {
    REQUIRE(bytes.size() >= 2);
    REQUIRE(bytes.substr(bytes.size() - 2) == "\r\n");
    const std::string line(bytes.substr(0, bytes.size() - 2));
    transcript.push_back("C: " + line);
    wire_ += server.answer(line);
  }
  void start_tls() override {
    transcript.push_back("H: start_tls");
    tls_pending_ = true;
  }
  std::string header_digest(std::string_view headers) override {
    return std::to_string(std::hash<std::string_view>{}(headers) % 100000);
  }
  Plan plan(const Listing& listing) override {
    Plan plan;
    plan.remove_after_fetch = delete_after;
    for (std::size_t i = 0; i < listing.entries.size(); ++i) {
      const auto& uid = listing.entries[i].uid;
      if (remove_uids.count(uid)) plan.remove.push_back(i);
      if (!already.count(uid)) plan.fetch.push_back(i);
    }
    transcript.push_back("H: plan listed=" + std::to_string(listing.entries.size()) +
                         " fetch=" + std::to_string(plan.fetch.size()) +
                         (listing.uid_from_headers ? " headers" : ""));
    return plan;
  }
  void message_begin(const Entry& entry) override {
    current_uid_ = entry.uid;
    current_.clear();
  }
  void message_data(std::string_view bytes) override { current_ += bytes; }
  void message_end() override {
    transcript.push_back("H: deliver " + current_uid_ + " " + std::to_string(current_.size()));
    pending_.push_back({current_uid_, current_});
  }
  void finished(const Outcome& o) override {
    transcript.push_back("H: finished " + std::string(to_string(o.failure)) + " fetched=" +
                         std::to_string(o.fetched) + " deleted=" + std::to_string(o.deleted));
    outcome = o;
  }

 private:
  void pump() {
    std::mt19937 rng(42);
    std::size_t& sent = sent_;
    sent = 0;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      if (session_->done()) return;
      if (session_->wants_input() && !wire_.empty()) {
        // Move bytes from the wire to the session's buffer in the chosen split.
        std::size_t take = wire_.size();
        if (split == Split::bytes) take = 1;
        if (split == Split::random) take = std::uniform_int_distribution<std::size_t>(1, 9)(rng);
        take = std::min(take, wire_.size());
        if (sent + take > cut_after_bytes) take = cut_after_bytes - sent;
        if (take == 0) {
          session_->on_connection_lost();
          return;
        }
        buffer_ += wire_.substr(0, take);
        wire_.erase(0, take);
        sent += take;
        const std::size_t n = session_->feed(buffer_);
        REQUIRE(n <= buffer_.size());
        buffer_.erase(0, n);
        if (tls_pending_) buffer_.clear();
        continue;
      }
      if (tls_pending_) {
        tls_pending_ = false;
        session_->on_tls_ready();
        refeed();
        continue;
      }
      if (!pending_.empty()) {
        auto [uid, body] = pending_.front();
        pending_.erase(pending_.begin());
        if (delivery_error) {
          session_->on_delivered(*delivery_error);
        } else {
          delivered[uid] = body;
          session_->on_delivered({});
        }
        refeed();
        continue;
      }
      if (wire_.empty() && !session_->done()) {
        session_->on_connection_lost();  // nothing more will come
        return;
      }
      if (!session_->wants_input()) FAIL("session stalled");
    }
  }
  void refeed() {
    if (!session_->wants_input() || buffer_.empty()) return;
    buffer_.erase(0, session_->feed(buffer_));
  }
  std::size_t sent_ = 0;
  ClientSession* session_ = nullptr;
  std::string wire_, buffer_;
  bool tls_pending_ = false;
  std::string current_uid_, current_;
  std::vector<std::pair<std::string, std::string>> pending_;
};

inline std::string lines(const std::vector<std::string>& transcript) {
  std::string out;
  for (const auto& line : transcript) out += line + "\n";
  return out;
}

}  // namespace postern::collect::test
