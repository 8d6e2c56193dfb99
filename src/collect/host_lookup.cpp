// c-ares A/AAAA lookups on the libuv loop for the collector.
#include "collect/host_lookup.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>

namespace postern::collect {

struct HostLookup::Impl {
  HostLookup* owner;
  uv_loop_t* loop;
  std::uint16_t port;
  ares_channel channel = nullptr;
  uv_timer_t* timer = nullptr;
  uv_timer_t* kick = nullptr;  // delivers a result on a later loop turn
  std::map<int, uv_poll_t*> polls;
  core::Result<Address> result = core::make_error(core::Errc::io, "resolve-failed");
  bool finished = false;

  static void on_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    auto it = self->polls.find(fd);
    if (!readable && !writable) {
      if (it == self->polls.end()) return;
      uv_close(reinterpret_cast<uv_handle_t*>(it->second),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      self->polls.erase(it);
      return;
    }
    uv_poll_t* poll;
    if (it == self->polls.end()) {
      poll = new uv_poll_t;
      if (uv_poll_init_socket(self->loop, poll, fd) != 0) {
        delete poll;
        return;
      }
      poll->data = self;
      self->polls[fd] = poll;
    } else {
      poll = it->second;
    }
    uv_poll_start(poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                  [](uv_poll_t* h, int status, int events) {
                    auto* s = static_cast<Impl*>(h->data);
                    int which = -1;
                    for (auto& [f, p] : s->polls)
                      if (p == h) which = f;
                    const bool error = status < 0;
                    ::ares_process_fd(s->channel,
                                      (error || (events & UV_READABLE)) ? which : ARES_SOCKET_BAD,
                                      (error || (events & UV_WRITABLE)) ? which : ARES_SOCKET_BAD);
                    s->rearm();
                  });
  }

  void rearm() {
    if (finished) return;
    timeval tv{};
    if (::ares_timeout(channel, nullptr, &tv) == nullptr) return;
    uv_timer_start(
        timer,
        [](uv_timer_t* t) {
          auto* s = static_cast<Impl*>(t->data);
          ::ares_process_fd(s->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
          s->rearm();
        },
        static_cast<std::uint64_t>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000, 0);
  }

  static void on_addresses(void* arg, int status, int, ares_addrinfo* info) {
    auto* self = static_cast<Impl*>(arg);
    if (status == ARES_SUCCESS && info != nullptr && info->nodes != nullptr) {
      Address a;
      const ares_addrinfo_node* node = info->nodes;
      std::memcpy(&a.storage, node->ai_addr,
                  std::min<std::size_t>(node->ai_addrlen, sizeof a.storage));
      self->result = a;
    } else {
      self->result = core::make_error(
          status == ARES_ENOTFOUND || status == ARES_ENODATA ? core::Errc::not_found
                                                             : core::Errc::io,
          status == ARES_ENOTFOUND || status == ARES_ENODATA ? "resolve-nxdomain"
                                                             : "resolve-failed",
          status);
    }
    if (info) ::ares_freeaddrinfo(info);
    self->finish_soon();
  }

  void finish_soon() {
    if (finished) return;
    finished = true;
    uv_timer_start(
        kick, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->complete(); }, 0, 0);
  }

  void complete() {
    if (channel) {
      ::ares_destroy(channel);
      ::ares_library_cleanup();
      channel = nullptr;
    }
    for (auto& [fd, poll] : polls) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    }
    polls.clear();
    auto done = std::move(owner->done_);
    auto result = std::move(this->result);
    const std::uint16_t p = port;
    uv_close(reinterpret_cast<uv_handle_t*>(timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    uv_close(reinterpret_cast<uv_handle_t*>(kick),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    delete owner;
    delete this;
    if (result) {
      Address& a = *result;
      char text[INET6_ADDRSTRLEN] = {};
      if (a.storage.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
        in->sin_port = htons(p);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
        in6->sin6_port = htons(p);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      }
      a.numeric = text;
    }
    if (done) done(std::move(result));
  }
};

HostLookup* HostLookup::start(uv_loop_t* loop, const std::string& host, std::uint16_t port,
                              DoneFn done) {
  auto* owner = new HostLookup();
  owner->done_ = std::move(done);
  auto* impl = new Impl{owner, loop, port, nullptr, nullptr, nullptr, {}};
  impl->timer = new uv_timer_t;
  impl->kick = new uv_timer_t;
  uv_timer_init(loop, impl->timer);
  uv_timer_init(loop, impl->kick);
  impl->timer->data = impl;
  impl->kick->data = impl;

  Address literal;
  auto* in = reinterpret_cast<sockaddr_in*>(&literal.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&literal.storage);
  if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    impl->result = literal;
    impl->finish_soon();
    return owner;
  }
  if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    impl->result = literal;
    impl->finish_soon();
    return owner;
  }
  ares_options opts{};
  opts.sock_state_cb = &Impl::on_state;
  opts.sock_state_cb_data = impl;
  opts.timeout = 3000;
  opts.tries = 2;
  if (::ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS ||
      ::ares_init_options(&impl->channel, &opts,
                          ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) !=
          ARES_SUCCESS) {
    impl->channel = nullptr;
    impl->finish_soon();
    return owner;
  }
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ::ares_getaddrinfo(impl->channel, host.c_str(), nullptr, &hints, &Impl::on_addresses, impl);
  impl->rearm();
  return owner;
}

}  // namespace postern::collect
