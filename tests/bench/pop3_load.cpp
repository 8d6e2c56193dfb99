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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  unsigned connections = 10;
  std::string user = "bench{n}@example.org";
  std::string password;
  unsigned long rounds = 0;  // 0: until the time limit
  double time_limit_s = 30;
  bool tls = false;
};

void usage() {
  std::fputs(
      "usage: pop3_load --port P --password PW [--host 127.0.0.1] [--connections C]\n"
      "                 [--user 'bench{n}@example.org'] [--rounds R] [--time-limit S] [--tls]\n"
      "  {n} in --user becomes the connection number, 1..C\n",
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
    if (key == "--tls") {
      o.tls = true;
      --i;  // a flag: no value follows
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* value = argv[i + 1];
    double n = 0;
    if (key == "--host") {
      o.host = value;
    } else if (key == "--user") {
      o.user = value;
    } else if (key == "--password") {
      o.password = value;
    } else if (key == "--port" && parse_number(value, 1, 65535, n)) {
      o.port = static_cast<int>(n);
    } else if (key == "--connections" && parse_number(value, 1, 1000, n)) {
      o.connections = static_cast<unsigned>(n);
    } else if (key == "--rounds" && parse_number(value, 1, 1e7, n)) {
      o.rounds = static_cast<unsigned long>(n);
    } else if (key == "--time-limit" && parse_number(value, 0.1, 86400, n)) {
      o.time_limit_s = n;
    } else {
      return false;
    }
  }
  return o.port != 0 && !o.password.empty();
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

// The client side of TLS shared by every connection. Not movable: mbedtls_ssl_setup keeps a
// pointer to the config, the config one to the DRBG, the DRBG one to the entropy source.
class TlsClient {
 public:
  TlsClient() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_ssl_config_init(&config_);
  }
  ~TlsClient() {
    mbedtls_ssl_config_free(&config_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool init() {
    static const char kPersonal[] = "pop3_load";
    if (mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                              reinterpret_cast<const unsigned char*>(kPersonal),
                              sizeof kPersonal - 1) != 0 ||
        mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
      return false;
    mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_NONE);  // self-signed, loopback
    mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
    mbedtls_ssl_conf_ciphersuites(&config_, kSuites);
    return true;
  }
  const mbedtls_ssl_config* config() const { return &config_; }

 private:
  static constexpr int kSuites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                                    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0};
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_ssl_config config_;
};

struct SslFree {
  void operator()(mbedtls_ssl_context* ssl) const {
    mbedtls_ssl_free(ssl);
    delete ssl;
  }
};

enum class State { connecting, handshake, greeting, user, pass, list, uidl, retr, quit, closed };

struct Connection {
  int fd = -1;
  unsigned index = 0;
  std::string user;
  State state = State::closed;
  std::string in;
  std::size_t in_used = 0;  // bytes of `in` already consumed
  std::string out;
  std::size_t out_sent = 0;
  bool status_seen = false;          // multi-line reply: the "+OK" line has been read
  std::vector<std::uint64_t> sizes;  // from LIST, by message number - 1
  std::size_t uidl_lines = 0;
  std::size_t next = 0;          // RETR: index into sizes
  std::uint64_t body_bytes = 0;  // RETR in progress: octets after un-stuffing, CRLF included
  unsigned long rounds_done = 0;
  unsigned long generation = 0;  // bumped by each open(): a reopened socket may reuse the fd
  std::unique_ptr<mbedtls_ssl_context, SslFree> ssl;  // with --tls; its BIO points here
  bool tls_wants_write = false;                       // the last TLS call wanted POLLOUT
};

// BIO callbacks for mbedTLS over the connection's non-blocking socket.
int bio_send(void* context, const unsigned char* data, std::size_t size) noexcept {
  auto* c = static_cast<Connection*>(context);
  ssize_t n = ::send(c->fd, data, size, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    c->tls_wants_write = true;
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

int bio_recv(void* context, unsigned char* data, std::size_t size) noexcept {
  auto* c = static_cast<Connection*>(context);
  ssize_t n = ::recv(c->fd, data, size, 0);
  if (n >= 0) return static_cast<int>(n);  // 0: end of stream
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

class Load {
 public:
  explicit Load(const Options& o) : o_(o) {}
  int run();

 private:
  void open(Connection& c);
  void handshake(Connection& c);
  long send_some(Connection& c, const char* data, std::size_t size);
  long recv_some(Connection& c, char* data, std::size_t size);
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
  std::unique_ptr<TlsClient> tls_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::vector<Connection> conns_;
  Clock::time_point start_, deadline_;
  unsigned long errors_ = 0, messages_ = 0, rounds_ = 0, reconnects_ = 0;
  std::uint64_t bytes_ = 0;
};

void Load::open(Connection& c) {
  ++c.generation;
  c.fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c.state = State::connecting;
  c.in.clear();
  c.in_used = 0;
  c.out.clear();
  c.out_sent = 0;
  c.ssl.reset();
  if (c.fd < 0) return close(c, true);
  if (tls_) {
    c.ssl.reset(new mbedtls_ssl_context);
    mbedtls_ssl_init(c.ssl.get());
    if (mbedtls_ssl_setup(c.ssl.get(), tls_->config()) != 0) return close(c, true);
    mbedtls_ssl_set_bio(c.ssl.get(), &c, bio_send, bio_recv, nullptr);
  }
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0 &&
      errno != EINPROGRESS) {
    close(c, true);
  }
}

void Load::handshake(Connection& c) {
  c.tls_wants_write = false;
  int rc = mbedtls_ssl_handshake(c.ssl.get());
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
  if (rc != 0) {
    char text[128];
    mbedtls_strerror(rc, text, sizeof text);
    std::fprintf(stderr, "pop3_load: %s: TLS handshake failed: %s\n", c.user.c_str(), text);
    return close(c, true);
  }
  c.state = State::greeting;
  receive(c);  // the greeting may have come in the handshake's last read
}

// > 0: bytes moved; 0: would block; < 0: closed by the peer or failed.
long Load::send_some(Connection& c, const char* data, std::size_t size) {
  if (c.ssl) {
    c.tls_wants_write = false;
    int n = mbedtls_ssl_write(c.ssl.get(), reinterpret_cast<const unsigned char*>(data), size);
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) return 0;
    return n > 0 ? n : -1;
  }
  for (;;) {
    ssize_t n = ::send(c.fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n > 0 ? n : -1;
  }
}

long Load::recv_some(Connection& c, char* data, std::size_t size) {
  if (c.ssl) {
    c.tls_wants_write = false;
    int n = mbedtls_ssl_read(c.ssl.get(), reinterpret_cast<unsigned char*>(data), size);
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) return 0;
    return n > 0 ? n : -1;  // 0 or CONN_EOF / PEER_CLOSE_NOTIFY: the session is over
  }
  for (;;) {
    ssize_t n = ::recv(c.fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n > 0 ? n : -1;
  }
}

// After a failure the connection is reopened for the next round, at most 10 times per
// connection over the run, so a refusing server ends the run instead of spinning.
void Load::close(Connection& c, bool failed) {
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
  c.state = State::closed;
  if (failed) ++errors_;
  bool more = o_.rounds == 0 || c.rounds_done < o_.rounds;
  if (!failed && more && !time_up()) return open(c);
  if (failed && more && !time_up() && reconnects_ < 10ul * o_.connections) {
    ++reconnects_;
    open(c);
  }
}

void Load::send(Connection& c, std::string text) {
  c.out = std::move(text);
  c.out_sent = 0;
  c.status_seen = false;
  flush(c);
}

void Load::flush(Connection& c) {
  while (c.out_sent < c.out.size()) {
    long n = send_some(c, c.out.data() + c.out_sent, c.out.size() - c.out_sent);
    if (n == 0) return;
    if (n < 0) return close(c, true);
    c.out_sent += static_cast<std::size_t>(n);
  }
}

void Load::receive(Connection& c) {
  char buf[65536];
  bool ended = false;  // end of stream or failure: handled after the lines already read
  for (;;) {
    long n = recv_some(c, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      ended = true;
      break;
    }
    c.in.append(buf, static_cast<std::size_t>(n));
    // A short plaintext read drained the socket; TLS may still hold a decrypted record.
    if (!c.ssl && n < static_cast<long>(sizeof buf)) break;
  }
  unsigned long generation = c.generation;
  for (;;) {
    std::size_t end = c.in.find("\r\n", c.in_used);
    if (end == std::string::npos) break;
    std::string_view line(c.in.data() + c.in_used, end - c.in_used);
    c.in_used = end + 2;
    on_line(c, line);
    if (c.fd < 0 || c.generation != generation) return;  // closed or reopened: buffer gone
  }
  c.in.erase(0, c.in_used);
  c.in_used = 0;
  // The server closing after its +OK to QUIT is the normal end; anywhere else it is an error.
  if (ended) close(c, c.state != State::quit);
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
  if (!loopback_address(o_.host, o_.port, addr_, addr_len_)) {
    std::fprintf(stderr, "pop3_load: %s is not a loopback address\n", o_.host.c_str());
    return 2;
  }
  if (o_.tls) {
    tls_ = std::make_unique<TlsClient>();
    if (!tls_->init()) {
      std::fputs("pop3_load: cannot set up the TLS client\n", stderr);
      return 2;
    }
  }
  start_ = Clock::now();
  deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(o_.time_limit_s));
  conns_.resize(o_.connections);
  for (unsigned i = 0; i < conns_.size(); ++i) {
    Connection& c = conns_[i];
    c.index = i + 1;
    c.user = o_.user;
    if (auto at = c.user.find("{n}"); at != std::string::npos)
      c.user.replace(at, 3, std::to_string(c.index));
    open(c);
  }
  std::vector<pollfd> fds;
  std::vector<Connection*> owners;
  bool cut = false;
  for (;;) {
    fds.clear();
    owners.clear();
    for (auto& c : conns_) {
      if (c.fd < 0) continue;
      short events = POLLIN;
      if (c.state == State::connecting || c.out_sent < c.out.size() || c.tls_wants_write)
        events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      owners.push_back(&c);
    }
    if (fds.empty()) break;
    if (time_up()) {
      cut = true;
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
        c.state = c.ssl ? State::handshake : State::greeting;
      }
      if (c.state == State::handshake) {
        handshake(c);
        continue;
      }
      if (fds[i].revents & POLLOUT) flush(c);
      if (c.fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) receive(c);
    }
  }
  for (auto& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
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
