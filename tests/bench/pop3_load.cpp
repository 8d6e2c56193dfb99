// pop3_load: C concurrent POP3 clients on loopback, each reading (never deleting) its own maildrop.
//
// Each round per connection: USER/PASS, LIST, UIDL, RETR of every listed message (read to the
// terminating "."), QUIT. Connection i logs in as --user with "{n}" replaced by i (1..C), since
// a maildrop is locked per session (RFC 1939 §8, [IN-USE] of RFC 2449). Every RETR is checked
// against its LIST size (RFC 1939 §11: the exact size of the message, after un-stuffing), so a
// short or corrupt transfer counts as an error. Bounded: --rounds per connection and
// --time-limit seconds; without --rounds the time limit ends the run and the sessions then in
// progress are cut off uncounted. Plain non-blocking sockets and poll(2); loopback only.
// --tls: implicit TLS (RFC 8314 §3.3, the pop3s port) through mbedTLS, a full handshake per
// session (no resumption, as a polling client reconnects), offering only
// ECDHE-ECDSA/RSA-AES128-GCM-SHA256 so every server is measured with the same cipher; the
// certificate is not verified (both servers use self-signed ones on loopback).
//
// Output: one machine-readable line (bench=pop3_load key=value ...) and one human line.
// Exit status: 0 with zero errors (and every round done when --rounds was given), 1 otherwise,
// 2 on bad usage.
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "load_client.h"
#include "tls_client.h"

namespace {

namespace bench = postern::bench;
using bench::Clock;

struct Options : bench::Target {  // time limit: 30 s by default
  std::string user = "bench{n}@example.org";
  std::string password;
  unsigned long rounds = 0;  // 0: until the time limit
  bool tls = false;
};

void usage() {
  std::fputs(
      "usage: pop3_load --port P --password PW [--host 127.0.0.1] [--connections C]\n"
      "                 [--user 'bench{n}@example.org'] [--rounds R] [--time-limit S] [--tls]\n"
      "  {n} in --user becomes the connection number, 1..C\n",
      stderr);
}

bool parse_options(int argc, char** argv, Options& o) {
  auto flag = [&](std::string_view key) {
    if (key != "--tls") return false;
    o.tls = true;
    return true;
  };
  auto own = [&](std::string_view key, const char* value) {
    double n = 0;
    if (key == "--user") {
      o.user = value;
    } else if (key == "--password") {
      o.password = value;
    } else if (key == "--rounds" && bench::parse_number(value, 1, 1e7, n)) {
      o.rounds = static_cast<unsigned long>(n);
    } else {
      return false;
    }
    return true;
  };
  return bench::parse_args(argc, argv, o, flag, own) && !o.password.empty();
}

enum class State { connecting, handshake, greeting, user, pass, list, uidl, retr, quit, closed };

struct Connection : bench::Stream {
  unsigned index = 0;
  std::string user;
  State state = State::closed;
  bool status_seen = false;          // multi-line reply: the "+OK" line has been read
  std::vector<std::uint64_t> sizes;  // from LIST, by message number - 1
  std::size_t uidl_lines = 0;
  std::size_t next = 0;          // RETR: index into sizes
  std::uint64_t body_bytes = 0;  // RETR in progress: octets after un-stuffing, CRLF included
  unsigned long rounds_done = 0;
  std::unique_ptr<bench::TlsSession> tls;  // with --tls, for the current socket
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o), reconnects_(o.connections) {}
  int run();

 private:
  void open(Connection& c);
  void on_ready(Connection& c, short revents);
  void handshake(Connection& c);
  void close(Connection& c, bool failed);
  void send(Connection& c, std::string text);
  void flush(Connection& c);
  void receive(Connection& c);
  void on_line(Connection& c, std::string_view line);
  void on_status(Connection& c, bool ok);
  void on_data_line(Connection& c, std::string_view line);
  void on_end_of_data(Connection& c);
  void next_retr(Connection& c);
  bool multi_line(State s) const {
    return s == State::list || s == State::uidl || s == State::retr;
  }
  bool time_up() const { return Clock::now() >= deadline_; }

  const Options o_;
  std::unique_ptr<bench::TlsClient> tls_;
  bench::Endpoint endpoint_;
  std::vector<Connection> conns_;
  Clock::time_point start_, deadline_;
  unsigned long errors_ = 0, messages_ = 0, rounds_ = 0;
  bench::ReconnectBudget reconnects_;
  std::uint64_t bytes_ = 0;
};

void Load::open(Connection& c) {
  c.state = State::connecting;
  c.tls.reset();
  if (!c.open(endpoint_)) return close(c, true);
}

void Load::on_ready(Connection& c, short revents) {
  if (c.state == State::connecting) {
    if (!c.connect_succeeded()) return close(c, true);
    if (tls_) {
      c.tls = std::make_unique<bench::TlsSession>();
      if (!c.tls->start(*tls_, c.fd)) return close(c, true);
    }
    c.state = c.tls ? State::handshake : State::greeting;
  }
  if (c.state == State::handshake) return handshake(c);
  if (revents & POLLOUT) flush(c);
  if (c.fd >= 0 && (revents & (POLLIN | POLLHUP | POLLERR))) receive(c);
}

void Load::handshake(Connection& c) {
  int rc = c.tls->handshake();
  if (rc == 0) return;
  if (rc < 0) {
    std::fprintf(stderr, "pop3_load: %s: TLS handshake failed: %s\n", c.user.c_str(),
                 bench::TlsSession::error_text(rc).c_str());
    return close(c, true);
  }
  c.state = State::greeting;
  receive(c);  // the greeting may have come in the handshake's last read
}

// After a failure the connection is reopened for the next round, at most 10 times per
// connection over the run, so a refusing server ends the run instead of spinning.
void Load::close(Connection& c, bool failed) {
  c.close();
  c.state = State::closed;
  if (failed) ++errors_;
  bool more = o_.rounds == 0 || c.rounds_done < o_.rounds;
  if (!failed && more && !time_up()) return open(c);
  if (failed && more && !time_up() && reconnects_.take()) open(c);
}

void Load::send(Connection& c, std::string text) {
  c.set_request(std::move(text));
  c.status_seen = false;
  flush(c);
}

void Load::flush(Connection& c) {
  bool ok =
      c.tls ? c.flush([&](const char* d, std::size_t n) { return c.tls->send_some(d, n); })
            : c.flush([&](const char* d, std::size_t n) { return bench::send_some(c.fd, d, n); });
  if (!ok) close(c, true);
}

void Load::receive(Connection& c) {
  // End of stream or failure: handled after the lines already read.
  bool open =
      c.tls ? c.fill([&](char* d, std::size_t n) { return c.tls->recv_some(d, n); }, false)
            : c.fill([&](char* d, std::size_t n) { return bench::recv_some(c.fd, d, n); }, true);
  if (!c.take_lines([&](std::string_view line) { on_line(c, line); })) return;  // closed/reopened
  // The server closing after its +OK to QUIT is the normal end; anywhere else it is an error.
  if (!open) close(c, c.state != State::quit);
}

void Load::on_line(Connection& c, std::string_view line) {
  if (!multi_line(c.state) || !c.status_seen) {
    bool ok = line.substr(0, 3) == "+OK";
    if (ok && multi_line(c.state)) {
      c.status_seen = true;
      return;
    }
    return on_status(c, ok);
  }
  if (line == ".") return on_end_of_data(c);
  on_data_line(c, line);
}

// RFC 1939 §3: a data line beginning with "." has had one more "." prepended.
void Load::on_data_line(Connection& c, std::string_view line) {
  if (!line.empty() && line[0] == '.') line.remove_prefix(1);
  if (c.state == State::retr) {
    c.body_bytes += line.size() + 2;
  } else if (c.state == State::list) {
    unsigned long number = 0;
    unsigned long long size = 0;
    if (std::sscanf(std::string(line).c_str(), "%lu %llu", &number, &size) != 2 ||
        number != c.sizes.size() + 1) {
      ++errors_;  // RFC 1939 §5 LIST: "msg size" lines in order (no deleted messages here)
    }
    c.sizes.push_back(size);
  } else {
    ++c.uidl_lines;
  }
}

void Load::on_end_of_data(Connection& c) {
  if (c.state == State::list) {
    c.state = State::uidl;
    c.uidl_lines = 0;
    return send(c, "UIDL\r\n");
  }
  if (c.state == State::uidl) {
    if (c.uidl_lines != c.sizes.size()) ++errors_;
    c.next = 0;
    return next_retr(c);
  }
  if (c.body_bytes != c.sizes[c.next]) {
    std::fprintf(stderr, "pop3_load: %s message %zu: RETR gave %llu octets, LIST said %llu\n",
                 c.user.c_str(), c.next + 1, static_cast<unsigned long long>(c.body_bytes),
                 static_cast<unsigned long long>(c.sizes[c.next]));
    ++errors_;
  } else {
    ++messages_;
    bytes_ += c.body_bytes;
  }
  ++c.next;
  next_retr(c);
}

void Load::next_retr(Connection& c) {
  if (c.next >= c.sizes.size() || time_up()) {
    c.state = State::quit;
    return send(c, "QUIT\r\n");
  }
  c.state = State::retr;
  c.body_bytes = 0;
  send(c, "RETR " + std::to_string(c.next + 1) + "\r\n");
}

void Load::on_status(Connection& c, bool ok) {
  if (!ok) {
    std::fprintf(stderr, "pop3_load: %s: -ERR in state %d\n", c.user.c_str(),
                 static_cast<int>(c.state));
    return close(c, true);
  }
  switch (c.state) {
    case State::greeting:
      c.state = State::user;
      return send(c, "USER " + c.user + "\r\n");
    case State::user:
      c.state = State::pass;
      return send(c, "PASS " + o_.password + "\r\n");
    case State::pass:
      c.state = State::list;
      c.sizes.clear();
      return send(c, "LIST\r\n");
    case State::quit:
      // RFC 1939 §6: the +OK to QUIT ends the session; only then is the round complete.
      ++c.rounds_done;
      ++rounds_;
      return close(c, false);
    case State::list:
    case State::uidl:
    case State::retr:
    case State::connecting:
    case State::handshake:
    case State::closed:
      return close(c, true);
  }
}

int Load::run() {
  if (!bench::loopback_endpoint(o_.host, o_.port, endpoint_)) {
    std::fprintf(stderr, "pop3_load: %s is not a loopback address\n", o_.host.c_str());
    return 2;
  }
  if (o_.tls) {
    tls_ = std::make_unique<bench::TlsClient>();
    if (!tls_->init("pop3_load")) {
      std::fputs("pop3_load: cannot set up the TLS client\n", stderr);
      return 2;
    }
  }
  start_ = Clock::now();
  deadline_ = bench::deadline_after(start_, o_.time_limit_s);
  conns_.resize(o_.connections);
  for (unsigned i = 0; i < conns_.size(); ++i) {
    Connection& c = conns_[i];
    c.index = i + 1;
    c.user = o_.user;
    if (auto at = c.user.find("{n}"); at != std::string::npos)
      c.user.replace(at, 3, std::to_string(c.index));
    open(c);
  }
  bool cut = bench::poll_until(
      conns_, deadline_,
      [](const Connection& c) -> short {
        bool out =
            c.state == State::connecting || c.output_pending() || (c.tls && c.tls->wants_write());
        return out ? POLLIN | POLLOUT : POLLIN;
      },
      [this](Connection& c, short revents) { on_ready(c, revents); });
  for (auto& c : conns_) c.close();
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  bool timed_out = cut && o_.rounds != 0;  // a round count was asked for and not reached
  double mps = elapsed > 0 ? static_cast<double>(messages_) / elapsed : 0;
  double mbps = elapsed > 0 ? static_cast<double>(bytes_) / 1e6 / elapsed : 0;
  std::printf(
      "bench=pop3_load tls=%d connections=%u rounds=%lu messages=%lu bytes=%llu errors=%lu "
      "timed_out=%d elapsed_s=%.3f msgs_per_s=%.1f mb_per_s=%.2f\n",
      o_.tls ? 1 : 0, o_.connections, rounds_, messages_, static_cast<unsigned long long>(bytes_),
      errors_, timed_out ? 1 : 0, elapsed, mps, mbps);
  std::printf(
      "pop3_load: %lu sessions over %u connections retrieved %lu messages (%.1f MB) in %.2f s: "
      "%.1f msg/s, %.2f MB/s; %lu errors%s\n",
      rounds_, o_.connections, messages_, static_cast<double>(bytes_) / 1e6, elapsed, mps, mbps,
      errors_, timed_out ? " (time limit reached)" : "");
  return errors_ == 0 && !timed_out && messages_ > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    usage();
    return 2;
  }
  return Load(options).run();
}
