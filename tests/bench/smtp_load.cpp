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
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  unsigned connections = 10;
  unsigned long messages = 1000;
  std::size_t size = 4096;
  std::string rcpt = "bob@example.org";
  std::string from = "load@bench.example";
  double time_limit_s = 120;
};

void usage() {
  std::fputs(
      "usage: smtp_load --port P [--host 127.0.0.1] [--connections C] [--messages N]\n"
      "                 [--size BYTES] [--rcpt ADDR] [--from ADDR] [--time-limit S]\n",
      stderr);
}

bool parse_number(const char* text, double min, double max, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0' && out >= min && out <= max;
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; i += 2) {
    std::string_view key = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[i + 1];
    double n = 0;
    if (key == "--host") {
      o.host = value;
    } else if (key == "--rcpt") {
      o.rcpt = value;
    } else if (key == "--from") {
      o.from = value;
    } else if (key == "--port" && parse_number(value, 1, 65535, n)) {
      o.port = static_cast<int>(n);
    } else if (key == "--connections" && parse_number(value, 1, 1000, n)) {
      o.connections = static_cast<unsigned>(n);
    } else if (key == "--messages" && parse_number(value, 1, 1e8, n)) {
      o.messages = static_cast<unsigned long>(n);
    } else if (key == "--size" && parse_number(value, 256, 64e6, n)) {
      o.size = static_cast<std::size_t>(n);
    } else if (key == "--time-limit" && parse_number(value, 0.1, 86400, n)) {
      o.time_limit_s = n;
    } else {
      return false;
    }
  }
  return o.port != 0;
}

// The address to connect to; loopback only, since this tool must never load another host.
bool loopback_address(const std::string& host, int port, sockaddr_storage& addr, socklen_t& len) {
  std::memset(&addr, 0, sizeof addr);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return false;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
    return true;
  }
  return false;
}

enum class State { connecting, greeting, ehlo, mail, rcpt, data, body, rset, quit, closed };

struct Connection {
  int fd = -1;
  unsigned index = 0;
  State state = State::closed;
  std::string in;
  std::string out;
  std::size_t out_sent = 0;
  bool dot_sent = false;  // the whole body including "." has been handed to the kernel
  Clock::time_point dot_at;
  unsigned long sequence = 0;
};

class Load {
 public:
  explicit Load(const Options& o) : o_(o), filler_(make_filler(o.size)) {}

  int run();

 private:
  static std::string make_filler(std::size_t size);
  std::string message(Connection& c);
  void open(Connection& c);
  void close(Connection& c, bool failed);
  void send(Connection& c, std::string text);
  void flush(Connection& c);
  void receive(Connection& c);
  void on_reply(Connection& c, int code);
  void next_message(Connection& c);
  bool time_up() const { return Clock::now() >= deadline_; }

  const Options o_;
  const std::string filler_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::vector<Connection> conns_;
  Clock::time_point start_, deadline_;
  unsigned long claimed_ = 0, accepted_ = 0, errors_ = 0, reconnects_ = 0;
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
  c = Connection{-1, c.index, State::connecting, {}, {}, 0, false, {}, c.sequence};
  c.fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return close(c, true);
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) == 0) {
    c.state = State::greeting;
  } else if (errno != EINPROGRESS) {
    close(c, true);
  }
}

// A failure costs the message in flight (counted as an error); the connection is reopened while
// messages remain, at most 10 times per connection over the run, so a refusing server ends it.
void Load::close(Connection& c, bool failed) {
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
  c.state = State::closed;
  if (!failed) return;
  ++errors_;  // the message in flight, or a refused or dropped connection
  if (claimed_ < o_.messages && !time_up() && reconnects_ < 10ul * o_.connections) {
    ++reconnects_;
    open(c);
  }
}

void Load::send(Connection& c, std::string text) {
  c.out = std::move(text);
  c.out_sent = 0;
  c.dot_sent = false;
  flush(c);
}

void Load::flush(Connection& c) {
  while (c.out_sent < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) return close(c, true);
    c.out_sent += static_cast<std::size_t>(n);
  }
  if (c.state == State::body && !c.dot_sent) {
    c.dot_sent = true;
    c.dot_at = Clock::now();
  }
}

// RFC 5321 §4.2.1: a multiline reply is "code-text" lines ended by one "code text" line.
void Load::receive(Connection& c) {
  char buf[16384];
  bool ended = false;  // end of stream or failure: handled after the replies already read
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      ended = true;
      break;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  for (;;) {
    std::size_t end = c.in.find("\r\n", start);
    if (end == std::string::npos) break;
    std::string_view line(c.in.data() + start, end - start);
    start = end + 2;
    if (line.size() >= 4 && line[3] == '-') continue;
    int code = line.size() >= 3 ? std::atoi(std::string(line.substr(0, 3)).c_str()) : 0;
    c.in.erase(0, start);
    start = 0;
    on_reply(c, code);
    if (c.fd < 0) return;
  }
  c.in.erase(0, start);
  // The server closing after its 221 to QUIT is the normal end; anywhere else it is an error.
  if (ended) close(c, c.state != State::quit);
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
  if (!loopback_address(o_.host, o_.port, addr_, addr_len_)) {
    std::fprintf(stderr, "smtp_load: %s is not a loopback address\n", o_.host.c_str());
    return 2;
  }
  start_ = Clock::now();
  deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(o_.time_limit_s));
  latencies_ms_.reserve(o_.messages);
  conns_.resize(o_.connections);
  for (unsigned i = 0; i < conns_.size(); ++i) {
    conns_[i].index = i + 1;
    open(conns_[i]);
  }
  std::vector<pollfd> fds;
  std::vector<Connection*> owners;
  bool timed_out = false;
  for (;;) {
    fds.clear();
    owners.clear();
    for (auto& c : conns_) {
      if (c.fd < 0) continue;
      short events = POLLIN;
      if (c.state == State::connecting || c.out_sent < c.out.size()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      owners.push_back(&c);
    }
    if (fds.empty()) break;
    if (time_up()) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds.data(), fds.size(), 100);
    if (n < 0 && errno != EINTR) break;
    for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
      Connection& c = *owners[i];
      if (fds[i].revents == 0 || c.fd != fds[i].fd) continue;
      if (c.state == State::connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          close(c, true);
          continue;
        }
        c.state = State::greeting;
      }
      if (fds[i].revents & POLLOUT) flush(c);
      if (c.fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) receive(c);
    }
  }
  for (auto& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
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
