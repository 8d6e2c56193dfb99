// Tracer: the UDP probe socket, its error queue, uv_poll and one uv timer around TraceMachine.
#include "diag/tracer.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace postern::diag {

struct Tracer::Io {
  uv_poll_t poll;
  uv_timer_t timer;
  int fd = -1;
  int open_handles = 0;
  Tracer* owner = nullptr;  // null once the tracer let go
};

namespace {

Micros now_us() {
  return static_cast<Micros>(uv_hrtime() / 1000);
}

std::string numeric(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

std::uint16_t port_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return 0;
}

// Errors a sendto() may report that belong to an earlier ICMP answer (sk_err), not to
// this datagram: the kernel hands a pending socket error to the next call.
bool maybe_stale(int err) {
  return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH || err == EPROTO ||
         err == EMSGSIZE || err == EACCES;
}

}  // namespace

Tracer::Tracer(const sockaddr_storage& destination, const TraceOptions& options, Family family,
               HopFn on_hop, DoneFn on_done, TraceResult result_template)
    : destination_(destination),
      family_(family),
      machine_(options, family),
      on_hop_(std::move(on_hop)),
      on_done_(std::move(on_done)),
      result_(std::move(result_template)) {}

core::Result<std::unique_ptr<Tracer>> Tracer::start(uv_loop_t* loop,
                                                    const sockaddr_storage& destination,
                                                    const TraceOptions& options, HopFn on_hop,
                                                    DoneFn on_done, TraceResult result_template) {
  if (auto ok = check_options(options); !ok) return ok.error();
  if (destination.ss_family != AF_INET && destination.ss_family != AF_INET6) {
    return core::make_error(core::Errc::invalid, "trace-family");
  }
  const Family family = destination.ss_family == AF_INET ? Family::ipv4 : Family::ipv6;
  const int fd =
      ::socket(destination.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return core::make_error(core::Errc::io, "trace-socket", errno);
  const int on = 1;
  int rc;
  if (family == Family::ipv4) {
    const int probe = IP_PMTUDISC_PROBE;
    rc = ::setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on);
    if (rc == 0) rc = ::setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
  } else {
    const int probe = IPV6_PMTUDISC_PROBE;
    rc = ::setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
    if (rc == 0) rc = ::setsockopt(fd, SOL_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof probe);
  }
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    return core::make_error(core::Errc::io, "trace-socket", err);
  }

  std::unique_ptr<Tracer> tracer(new Tracer(destination, options, family, std::move(on_hop),
                                            std::move(on_done), std::move(result_template)));
  tracer->result_.address = numeric(reinterpret_cast<const sockaddr*>(&destination));
  auto* io = new Io;
  io->fd = fd;
  io->owner = tracer.get();
  if (uv_poll_init_socket(loop, &io->poll, fd) != 0) {
    ::close(fd);
    delete io;
    return core::make_error(core::Errc::io, "trace-poll");
  }
  uv_timer_init(loop, &io->timer);
  io->poll.data = io;
  io->timer.data = io;
  io->open_handles = 2;
  tracer->io_ = io;
  uv_poll_start(&io->poll, UV_READABLE, &Tracer::on_poll);
  uv_timer_start(&io->timer, &Tracer::on_timer, 0, 0);  // first probe on the next turn
  return tracer;
}

Tracer::~Tracer() {
  close_io();
}

void Tracer::on_close(uv_handle_t* handle) noexcept {
  auto* io = static_cast<Io*>(handle->data);
  if (--io->open_handles == 0) {
    if (io->fd >= 0) ::close(io->fd);  // only now: libuv no longer watches it
    delete io;
  }
}

void Tracer::close_io() {
  if (io_ == nullptr) return;
  io_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&io_->poll), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&io_->timer), on_close);
  io_ = nullptr;
}

void Tracer::on_poll(uv_poll_t* handle, int status, int) noexcept {
  auto* io = static_cast<Io*>(handle->data);
  Tracer* self = io->owner;
  if (self == nullptr) return;
  self->drain();
  // libuv reports a pending error-queue entry (POLLERR) as UV_EBADF and stops watching
  // (uv__poll_io); the queue is drained now, so watch again.
  if (status < 0 && self->io_ != nullptr) uv_poll_start(&io->poll, UV_READABLE, &Tracer::on_poll);
  self->pump();
}

void Tracer::on_timer(uv_timer_t* handle) noexcept {
  auto* io = static_cast<Io*>(handle->data);
  if (io->owner != nullptr) io->owner->pump();
}

void Tracer::drain() {
  if (io_ == nullptr) return;
  const int fd = io_->fd;
  // Bounded: at most 256 entries per turn; the rest wait for the next poll event.
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage name{};
    char data[64];
    // Zeroed, so an offender nobody wrote reads as AF_UNSPEC (no address), never as stack
    // garbage: qemu-user 7.2 drops the offender for 32-bit guests (see tracer_test.cpp).
    alignas(cmsghdr) char control[512] = {};
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_name = &name;
    msg.msg_namelen = sizeof name;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
    const Micros at = now_us();
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err ee;
      if (c->cmsg_len < CMSG_LEN(sizeof ee)) continue;  // truncated: nothing to classify
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      // SO_EE_OFFENDER: the responder's address follows the structure. AF_UNSPEC when the
      // kernel knows none (a local error); numeric() then gives "". Copied, not cast: on
      // armhf and mipsel (12-byte cmsghdr) it is only 4-byte aligned.
      sockaddr_storage offender{};
      const std::size_t room = c->cmsg_len - CMSG_LEN(sizeof ee);
      std::memcpy(&offender, CMSG_DATA(c) + sizeof ee, std::min(room, sizeof offender));
      const Classified what = classify_error(ee);
      ProbeReply reply;
      reply.kind = what.kind;
      reply.mtu = what.mtu;
      reply.port = port_of(name);
      reply.from = numeric(reinterpret_cast<const sockaddr*>(&offender));
      reply.at = at;
      machine_.on_reply(reply);
    }
  }
  // A datagram back from the destination itself (something listens on the port) also
  // means "reached". recvfrom also returns, and so clears, a pending socket error.
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    char data[64];
    const ssize_t n = ::recvfrom(fd, data, sizeof data, MSG_DONTWAIT | MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      continue;  // a pending error reported once; its queue entry was read above
    }
    ProbeReply reply;
    reply.kind = ReplyKind::destination;
    reply.port = port_of(from);
    reply.from = numeric(reinterpret_cast<const sockaddr*>(&from));
    reply.at = now_us();
    if (reply.from == result_.address) machine_.on_reply(reply);
  }
}

void Tracer::send(const ProbeRequest& probe) {
  const int fd = io_->fd;
  const int ttl = probe.ttl;
  sockaddr_storage to = destination_;
  socklen_t to_len;
  int rc;
  if (family_ == Family::ipv4) {
    reinterpret_cast<sockaddr_in&>(to).sin_port = htons(probe.port);
    to_len = sizeof(sockaddr_in);
    rc = ::setsockopt(fd, SOL_IP, IP_TTL, &ttl, sizeof ttl);
  } else {
    reinterpret_cast<sockaddr_in6&>(to).sin6_port = htons(probe.port);
    to_len = sizeof(sockaddr_in6);
    rc = ::setsockopt(fd, SOL_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
  }
  if (rc != 0) {
    machine_.on_send_failed(probe.id, errno, now_us());
    return;
  }
  payload_.assign(static_cast<std::size_t>(probe.payload_bytes), '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::sendto(fd, payload_.data(), payload_.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 to_len) >= 0) {
      return;
    }
    const int err = errno;
    // Read the queue first: it holds the exact MTU for EMSGSIZE, and clears an error
    // that belonged to an earlier probe, so the retry tells which it was.
    drain();
    if (attempt == 1 || !maybe_stale(err) || err == EMSGSIZE) {
      machine_.on_send_failed(probe.id, err, now_us());
      return;
    }
  }
}

void Tracer::pump() {
  if (io_ == nullptr) return;
  Micros now = now_us();
  machine_.on_tick(now);
  // Bounded: one hop's probes plus their MTU re-sends cannot exceed this per turn.
  for (int i = 0; i < 1024 && !machine_.done(); ++i) {
    auto probe = machine_.next_probe(now);
    if (!probe) break;
    send(*probe);
    now = now_us();
  }
  for (const auto& hop : machine_.take_completed()) {
    if (on_hop_) on_hop_(hop);
  }
  if (!machine_.done()) {
    const auto wake = machine_.next_wakeup();
    const Micros delay_us = wake ? std::max<Micros>(0, *wake - now) : 0;
    uv_timer_start(&io_->timer, &Tracer::on_timer,
                   static_cast<std::uint64_t>((delay_us + 999) / 1000), 0);
    return;
  }
  close_io();
  result_.hops = machine_.hops();
  result_.outcome = machine_.outcome();
  result_.error = machine_.error();
  for (const auto& hop : result_.hops) {
    if (hop.mtu > 0 && (result_.path_mtu == 0 || hop.mtu < result_.path_mtu))
      result_.path_mtu = hop.mtu;
  }
  POSTERN_LOG_DEBUG("diag trace event=done address=%s outcome=%s hops=%zu", result_.address.c_str(),
                    to_string(result_.outcome), result_.hops.size());
  DoneFn done = std::move(on_done_);
  if (done) done(std::move(result_));  // last: the owner may destroy us here
}

}  // namespace postern::diag
