// smtp_load: C concurrent SMTP clients on loopback, one message at a time each, timing "." -> 250.
//
// Each connection: EHLO once, then MAIL/RCPT/DATA/body/"." per message, waiting for every reply
// (no pipelining, RFC 2920 is not used), then QUIT. Every message has a unique Message-ID, so a
// server's duplicate suppression never answers for a message it did not store. Bounded: stops
// after N messages in total or after --time-limit seconds, whichever comes first. Plain
// non-blocking sockets and poll(2); loopback addresses only.
//
// Output: one machine-readable line (bench=smtp_load key=value ...) and one human line.
// Exit status: 0 when every message got its 250, 1 otherwise, 2 on bad usage.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "load_client.h"

namespace {

namespace bench = postern::bench;
using bench::Clock;

struct Options : bench::Target {
  Options() { time_limit_s = 120; }
  unsigned long messages = 1000;
  std::size_t size = 4096;
  std::string rcpt = "bob@example.org";
  std::string from = "load@bench.example";
};

void usage() {
  std::fputs(
      "usage: smtp_load --port P [--host 127.0.0.1] [--connections C] [--messages N]\n"
      "                 [--size BYTES] [--rcpt ADDR] [--from ADDR] [--time-limit S]\n",
      stderr);
}

bool parse_options(int argc, char** argv, Options& o) {
  auto no_flags = [](std::string_view) { return false; };
  auto own = [&](std::string_view key, const char* value) {
    double n = 0;
    if (key == "--rcpt") {
      o.rcpt = value;
    } else if (key == "--from") {
      o.from = value;
    } else if (key == "--messages" && bench::parse_number(value, 1, 1e8, n)) {
      o.messages = static_cast<unsigned long>(n);
    } else if (key == "--size" && bench::parse_number(value, 256, 64e6, n)) {
      o.size = static_cast<std::size_t>(n);
    } else {
      return false;
    }
    return true;
  };
  return bench::parse_args(argc, argv, o, no_flags, own);
}

enum class State { connecting, greeting, ehlo, mail, rcpt, data, body, rset, quit, closed };

struct Connection : bench::Stream {
  unsigned index = 0;
  State state = State::closed;
  bool dot_sent = false;  // the whole body including "." has been handed to the kernel
  Clock::time_point dot_at;
  unsigned long sequence = 0;
};

class Load {
 public:
  explicit Load(const Options& o)
      : o_(o), filler_(make_filler(o.size)), reconnects_(o.connections) {}

  int run();

 private:
  static std::string make_filler(std::size_t size);
  std::string message(Connection& c);
  void open(Connection& c);
  void on_ready(Connection& c, short revents);
  void close(Connection& c, bool failed);
  void send(Connection& c, std::string text);
  void flush(Connection& c);
  void receive(Connection& c);
  void on_reply(Connection& c, int code);
  void next_message(Connection& c);
  bool time_up() const { return Clock::now() >= deadline_; }

  const Options o_;
  const std::string filler_;
  bench::Endpoint endpoint_;
  std::vector<Connection> conns_;
  Clock::time_point start_, deadline_;
  unsigned long claimed_ = 0, accepted_ = 0, errors_ = 0;
  bench::ReconnectBudget reconnects_;
  std::vector<double> latencies_ms_;
};

// Lines of 76 printable characters: no line starts with ".", so no dot-stuffing is needed.
std::string Load::make_filler(std::size_t size) {
  std::string text;
  text.reserve(size + 80);
  static const char kLine[] =
      "The quick brown fox jumps over the lazy dog; postern load bench 0123456789ab\r\n";
  while (text.size() < size) text += kLine;
  return text;
}

std::string Load::message(Connection& c) {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  char head[512];
  int n = std::snprintf(head, sizeof head,
                        "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
                        "Message-ID: <%lu.%u.%ld.%ld@smtp-load.bench>\r\n"
                        "Subject: load message %u/%lu\r\n\r\n",
                        o_.from.c_str(), o_.rcpt.c_str(), date, c.sequence, c.index,
                        static_cast<long>(getpid()), static_cast<long>(now), c.index, c.sequence);
  std::string text(head, static_cast<std::size_t>(std::max(n, 0)));
  std::size_t body = o_.size > text.size() + 80 ? o_.size - text.size() : 80;
  // Cut the filler at a line end so the message ends in CRLF before the final ".".
  std::size_t cut = filler_.rfind("\r\n", body);
  text.append(filler_, 0, cut == std::string::npos ? 78 : cut + 2);
  text += ".\r\n";
  return text;
}

void Load::open(Connection& c) {
  c.state = State::connecting;
  c.dot_sent = false;
  if (!c.open(endpoint_)) close(c, true);
}

void Load::on_ready(Connection& c, short revents) {
  if (c.state == State::connecting) {
    if (!c.connect_succeeded()) return close(c, true);
    c.state = State::greeting;
  }
  if (revents & POLLOUT) flush(c);
  if (c.fd >= 0 && (revents & (POLLIN | POLLHUP | POLLERR))) receive(c);
}

// A failure costs the message in flight (counted as an error); the connection is reopened while
// messages remain, at most 10 times per connection over the run, so a refusing server ends it.
void Load::close(Connection& c, bool failed) {
  c.close();
  c.state = State::closed;
  if (!failed) return;
  ++errors_;  // the message in flight, or a refused or dropped connection
  if (claimed_ < o_.messages && !time_up() && reconnects_.take()) open(c);
}

void Load::send(Connection& c, std::string text) {
  c.set_request(std::move(text));
  c.dot_sent = false;
  flush(c);
}

void Load::flush(Connection& c) {
  if (!c.flush([&](const char* d, std::size_t n) { return bench::send_some(c.fd, d, n); }))
    return close(c, true);
  if (c.state == State::body && !c.dot_sent && !c.output_pending()) {
    c.dot_sent = true;
    c.dot_at = Clock::now();
  }
}

// RFC 5321 §4.2.1: a multiline reply is "code-text" lines ended by one "code text" line.
void Load::receive(Connection& c) {
  // End of stream or failure: handled after the replies already read.
  bool open = c.fill([&](char* d, std::size_t n) { return bench::recv_some(c.fd, d, n); }, true);
  bool same = c.take_lines([&](std::string_view line) {
    if (line.size() >= 4 && line[3] == '-') return;
    on_reply(c, line.size() >= 3 ? std::atoi(std::string(line.substr(0, 3)).c_str()) : 0);
  });
  if (!same) return;  // closed or reopened by a reply
  // The server closing after its 221 to QUIT is the normal end; anywhere else it is an error.
  if (!open) close(c, c.state != State::quit);
}

void Load::next_message(Connection& c) {
  if (claimed_ >= o_.messages || time_up()) {
    c.state = State::quit;
    return send(c, "QUIT\r\n");
  }
  ++claimed_;
  ++c.sequence;
  c.state = State::mail;
  send(c, "MAIL FROM:<" + o_.from + ">\r\n");
}

void Load::on_reply(Connection& c, int code) {
  switch (c.state) {
    case State::greeting:
      if (code != 220) return close(c, true);
      c.state = State::ehlo;
      return send(c, "EHLO smtp-load.bench\r\n");
    case State::ehlo:
      if (code != 250) return close(c, true);
      return next_message(c);
    case State::mail:
    case State::rcpt:
    case State::data: {
      int want = c.state == State::data ? 354 : 250;
      if (code != want) {
        ++errors_;
        c.state = State::rset;
        return send(c, "RSET\r\n");
      }
      if (c.state == State::mail) {
        c.state = State::rcpt;
        return send(c, "RCPT TO:<" + o_.rcpt + ">\r\n");
      }
      if (c.state == State::rcpt) {
        c.state = State::data;
        return send(c, "DATA\r\n");
      }
      c.state = State::body;
      return send(c, message(c));
    }
    case State::body:
      if (code == 250 && c.dot_sent) {
        ++accepted_;
        latencies_ms_.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - c.dot_at).count());
      } else {
        ++errors_;
      }
      return next_message(c);
    case State::rset:
      if (code != 250) return close(c, true);
      return next_message(c);
    case State::quit:
      return close(c, false);
    case State::connecting:
    case State::closed:
      return close(c, true);  // a reply before the greeting is a broken server
  }
}

int Load::run() {
  if (!bench::loopback_endpoint(o_.host, o_.port, endpoint_)) {
    std::fprintf(stderr, "smtp_load: %s is not a loopback address\n", o_.host.c_str());
    return 2;
  }
  start_ = Clock::now();
  deadline_ = bench::deadline_after(start_, o_.time_limit_s);
  latencies_ms_.reserve(o_.messages);
  conns_.resize(o_.connections);
  for (unsigned i = 0; i < conns_.size(); ++i) {
    conns_[i].index = i + 1;
    open(conns_[i]);
  }
  bool timed_out = bench::poll_until(
      conns_, deadline_,
      [](const Connection& c) -> short {
        bool out = c.state == State::connecting || c.output_pending();
        return out ? POLLIN | POLLOUT : POLLIN;
      },
      [this](Connection& c, short revents) { on_ready(c, revents); });
  for (auto& c : conns_) c.close();
  double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  std::sort(latencies_ms_.begin(), latencies_ms_.end());
  auto pct = [&](double p) {
    if (latencies_ms_.empty()) return 0.0;
    return latencies_ms_[static_cast<std::size_t>(p *
                                                  static_cast<double>(latencies_ms_.size() - 1))];
  };
  unsigned long unfinished = o_.messages - std::min(o_.messages, accepted_ + errors_);
  double rate = elapsed > 0 ? static_cast<double>(accepted_) / elapsed : 0;
  std::printf(
      "bench=smtp_load connections=%u messages=%lu size=%zu accepted=%lu errors=%lu "
      "unfinished=%lu timed_out=%d elapsed_s=%.3f accepted_msgs_per_s=%.1f p50_ms=%.2f "
      "p99_ms=%.2f\n",
      o_.connections, o_.messages, o_.size, accepted_, errors_, unfinished, timed_out ? 1 : 0,
      elapsed, rate, pct(0.50), pct(0.99));
  std::printf(
      "smtp_load: %lu of %lu messages of %zu bytes accepted over %u connections in %.2f s: "
      "%.1f msg/s; '.' -> 250 latency p50 %.2f ms, p99 %.2f ms; %lu errors%s\n",
      accepted_, o_.messages, o_.size, o_.connections, elapsed, rate, pct(0.50), pct(0.99), errors_,
      timed_out ? " (time limit reached)" : "");
  return accepted_ == o_.messages && errors_ == 0 ? 0 : 1;
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
