// load_client.cpp: options, the loopback endpoint and the non-blocking socket of the load tools.
#include "load_client.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace postern::bench {

bool parse_number(const char* text, double min, double max, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0' && out >= min && out <= max;
}

bool parse_target_option(std::string_view key, const char* value, Target& target) {
  double n = 0;
  if (key == "--host") {
    target.host = value;
  } else if (key == "--port" && parse_number(value, 1, 65535, n)) {
    target.port = static_cast<int>(n);
  } else if (key == "--connections" && parse_number(value, 1, 1000, n)) {
    target.connections = static_cast<unsigned>(n);
  } else if (key == "--time-limit" && parse_number(value, 0.1, 86400, n)) {
    target.time_limit_s = n;
  } else {
    return false;
  }
  return true;
}

Clock::time_point deadline_after(Clock::time_point start, double seconds) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

bool loopback_endpoint(const std::string& host, int port, Endpoint& out) {
  std::memset(&out.addr, 0, sizeof out.addr);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return false;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out.len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    out.len = sizeof *v6;
    return true;
  }
  return false;
}

long send_some(int fd, const char* data, std::size_t size) {
  for (;;) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n > 0 ? n : -1;
  }
}

long recv_some(int fd, char* data, std::size_t size) {
  for (;;) {
    ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n > 0 ? n : -1;  // 0: end of stream
  }
}

bool Stream::open(const Endpoint& to) {
  close();
  ++generation;
  in.clear();
  out.clear();
  out_sent = 0;
  fd = ::socket(to.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to.addr), to.len) != 0 &&
      errno != EINPROGRESS) {
    close();
    return false;
  }
  return true;
}

bool Stream::connect_succeeded() const {
  int err = 0;
  socklen_t len = sizeof err;
  return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

void Stream::close() {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace postern::bench
