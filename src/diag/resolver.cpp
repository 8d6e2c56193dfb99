// Resolver: c-ares sockets on uv_poll, its timeouts on a uv timer, MX then A/AAAA.
#include "diag/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "core/log.h"
#include "diag/mx.h"

namespace postern::diag {

namespace {

constexpr int kClassIn = 1;  // RFC 1035 §3.2.4
constexpr int kTypeMx = 15;  // RFC 1035 §3.2.2

core::Error ares_failure(int status, const char* where_nxdomain) {
  if (status == ARES_ENOTFOUND)
    return core::make_error(core::Errc::not_found, where_nxdomain, status);
  if (status == ARES_ENODATA)
    return core::make_error(core::Errc::not_found, "resolve-no-address", status);
  return core::make_error(core::Errc::io, "resolve-failed", status);
}

int to_af(AddressFamily family) {
  switch (family) {
    case AddressFamily::ipv4:
      return AF_INET;
    case AddressFamily::ipv6:
      return AF_INET6;
    case AddressFamily::any:
      break;
  }
  return AF_UNSPEC;
}

}  // namespace

struct Resolver::Request {
  Resolver* resolver;
  Target target;
  AddressFamily family;
  DoneFn done;
  std::string mx;
};

struct Resolver::Watch {
  uv_poll_t poll;
  Resolver* resolver;
  int fd;
};

core::Result<std::unique_ptr<Resolver>> Resolver::create(uv_loop_t* loop, ResolverOptions options) {
  // Reference-counted and cheap on Linux; paired with ares_library_cleanup() below.
  if (int rc = ::ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
    return core::make_error(core::Errc::io, "ares-init", rc);
  }
  std::unique_ptr<Resolver> self(new Resolver(loop));
  ares_options opts{};
  opts.sock_state_cb = [](void* data, ares_socket_t fd, int readable, int writable) {
    on_socket_state(data, fd, readable, writable);
  };
  opts.sock_state_cb_data = self.get();
  opts.timeout = options.timeout_ms;
  opts.tries = options.tries;
  ares_channel channel = nullptr;
  const int rc = ::ares_init_options(&channel, &opts,
                                     ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) {
    ::ares_library_cleanup();
    self->channel_ = nullptr;
    return core::make_error(core::Errc::io, "ares-init", rc);
  }
  self->channel_ = channel;
  self->timer_ = std::make_unique<net::Timer>(loop);
  return self;
}

Resolver::~Resolver() {
  if (channel_ == nullptr) return;
  destroying_ = true;
  ::ares_destroy(channel_);  // pending callbacks see ARES_EDESTRUCTION; sockets close
  ::ares_library_cleanup();
  for (auto& [fd, watch] : watches_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll),
             [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
  }
  watches_.clear();
  timer_.reset();
}

std::string Resolver::describe(const core::Error& error) {
  if (std::strcmp(error.where, "null-mx") == 0)
    return "the domain publishes a null MX (RFC 7505): it takes no mail";
  if (error.sys != 0) return std::string(error.where) + ": " + ::ares_strerror(error.sys);
  return error.where;
}

void Resolver::on_socket_state(void* data, int fd, int readable, int writable) noexcept {
  auto* self = static_cast<Resolver*>(data);
  auto it = self->watches_.find(fd);
  if (!readable && !writable) {
    if (it == self->watches_.end()) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&it->second->poll),
             [](uv_handle_t* h) { delete static_cast<Watch*>(h->data); });
    self->watches_.erase(it);
    return;
  }
  if (self->destroying_) return;
  Watch* watch;
  if (it == self->watches_.end()) {
    watch = new Watch{};
    watch->resolver = self;
    watch->fd = fd;
    if (uv_poll_init_socket(self->loop_, &watch->poll, fd) != 0) {
      delete watch;
      POSTERN_LOG_WARN("diag resolver event=poll-failed fd=%d", fd);
      return;
    }
    watch->poll.data = watch;
    self->watches_[fd] = watch;
  } else {
    watch = it->second;
  }
  uv_poll_start(&watch->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                &on_poll);
}

void Resolver::on_poll(uv_poll_t* handle, int status, int events) noexcept {
  auto* watch = static_cast<Watch*>(handle->data);
  Resolver* self = watch->resolver;
  const int fd = watch->fd;
  // An error (libuv reports POLLERR as UV_EBADF and stops watching): let c-ares read and
  // write, meet the error itself and close or retry the socket.
  const bool error = status < 0;
  ::ares_process_fd(self->channel_, (error || (events & UV_READABLE)) ? fd : ARES_SOCKET_BAD,
                    (error || (events & UV_WRITABLE)) ? fd : ARES_SOCKET_BAD);
  // `watch` may be gone now (the socket was closed inside ares_process_fd).
  if (error) {
    auto it = self->watches_.find(fd);
    if (it != self->watches_.end()) uv_poll_start(&it->second->poll, UV_READABLE, &on_poll);
  }
  self->rearm_timer();
}

void Resolver::on_timer() {
  ::ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts
  rearm_timer();
}

void Resolver::rearm_timer() {
  if (destroying_) return;
  timeval tv{};
  if (::ares_timeout(channel_, nullptr, &tv) == nullptr) {
    timer_->stop();
    return;
  }
  const std::uint64_t ms = static_cast<std::uint64_t>(tv.tv_sec) * 1000 +
                           static_cast<std::uint64_t>(tv.tv_usec + 999) / 1000;
  timer_->start(std::chrono::milliseconds(ms), std::chrono::milliseconds(0),
                [this] { on_timer(); });
}

void Resolver::resolve(const Target& target, AddressFamily family, DoneFn done) {
  if (target.kind != TargetKind::host_name) {
    Resolution r;
    const int af = target.kind == TargetKind::ipv4 ? AF_INET : AF_INET6;
    r.address.ss_family = static_cast<sa_family_t>(af);
    void* where = af == AF_INET
                      ? static_cast<void*>(&reinterpret_cast<sockaddr_in&>(r.address).sin_addr)
                      : static_cast<void*>(&reinterpret_cast<sockaddr_in6&>(r.address).sin6_addr);
    if (::inet_pton(af, target.text.c_str(), where) != 1) {
      done(core::make_error(core::Errc::invalid, "target-literal"));
      return;
    }
    r.numeric = target.text;
    done(std::move(r));
    return;
  }
  auto* request = new Request{this, target, family, std::move(done), {}};
  ::ares_query(channel_, target.text.c_str(), kClassIn, kTypeMx, &Resolver::on_mx, request);
  rearm_timer();
}

void Resolver::on_mx(void* arg, int status, int, unsigned char* answer, int length) noexcept {
  auto* request = static_cast<Request*>(arg);
  Resolver* self = request->resolver;
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    delete request;
    return;
  }
  if (status == ARES_SUCCESS) {
    auto parsed = parse_mx_answer(answer, length);
    if (parsed) {
      auto best = best_mx(*parsed);
      if (!best) {
        DoneFn done = std::move(request->done);
        delete request;
        done(best.error());
        return;
      }
      request->mx = best->host;
      self->lookup_addresses(request, best->host);
      return;
    }
    status = ARES_ENODATA;  // an answer without MX records: the implicit MX below
  }
  if (status == ARES_ENODATA) {
    self->lookup_addresses(request, request->target.text);  // RFC 5321 §5.1 implicit MX
    return;
  }
  DoneFn done = std::move(request->done);
  delete request;
  done(ares_failure(status, "resolve-nxdomain"));
}

void Resolver::lookup_addresses(Request* request, const std::string& name) {
  ares_addrinfo_hints hints{};
  hints.ai_family = to_af(request->family);
  hints.ai_socktype = SOCK_DGRAM;
  ::ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &Resolver::on_addresses, request);
}

void Resolver::on_addresses(void* arg, int status, int, ares_addrinfo* result) noexcept {
  auto* request = static_cast<Request*>(arg);
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
    if (result) ::ares_freeaddrinfo(result);
    delete request;
    return;
  }
  DoneFn done = std::move(request->done);
  std::string mx = std::move(request->mx);
  delete request;
  if (status != ARES_SUCCESS || result == nullptr || result->nodes == nullptr) {
    if (result) ::ares_freeaddrinfo(result);
    done(ares_failure(status == ARES_SUCCESS ? ARES_ENODATA : status,
                      mx.empty() ? "resolve-nxdomain" : "resolve-mx-nxdomain"));
    return;
  }
  // c-ares sorts the addresses by RFC 6724's destination rules: take the first.
  Resolution r;
  const ares_addrinfo_node* node = result->nodes;
  std::memcpy(&r.address, node->ai_addr, std::min<std::size_t>(node->ai_addrlen, sizeof r.address));
  char text[INET6_ADDRSTRLEN] = {};
  if (node->ai_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr, text,
                sizeof text);
  } else {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr, text,
                sizeof text);
  }
  r.numeric = text;
  r.mx = std::move(mx);
  ::ares_freeaddrinfo(result);
  done(std::move(r));
}

}  // namespace postern::diag
