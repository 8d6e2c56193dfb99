// diag::Resolver: c-ares on the libuv loop, for trace targets. A mail domain resolves
// through its best MX (so "trace example.org" traces the mail path), a name without MX
// records through its own A/AAAA (RFC 5321 §5.1, the implicit MX). Never getaddrinfo.
//
// Loop thread only. c-ares's sockets are watched with uv_poll (ares_process_fd) and its
// timeouts with one uv timer (ares_timeout). Typical call sequence:
//   auto resolver = Resolver::create(loop);
//   resolver->resolve(target, AddressFamily::any, [](Result<Resolution> r) { ... });
//   resolver.reset();   // pending lookups end without their callback
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"
#include "diag/target.h"
#include "net/timer.h"

struct ares_channeldata;  // <ares.h> stays out of this header
struct ares_addrinfo;

namespace postern::diag {

enum class AddressFamily { any, ipv4, ipv6 };

struct Resolution {
  sockaddr_storage address{};  // port 0
  std::string numeric;         // the address as text
  std::string mx;              // the exchanger chosen; empty for a literal or the A/AAAA fallback
};

struct ResolverOptions {
  int timeout_ms = 3000;  // per try (ARES_OPT_TIMEOUTMS)
  int tries = 2;          // ARES_OPT_TRIES
};

class Resolver {
 public:
  using DoneFn = std::function<void(core::Result<Resolution> result)>;

  // ares_init_options with the system's resolv.conf. Errors: Errc::io ("ares-init", sys =
  // ARES_* status).
  // REQUIRES: `loop` outlives the Resolver.
  static core::Result<std::unique_ptr<Resolver>> create(uv_loop_t* loop,
                                                        ResolverOptions options = {});
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // A literal answers synchronously, through `done`, before resolve() returns. Names: an
  // MX query (ares_query, no search list), then A/AAAA (ares_getaddrinfo) of the
  // best exchanger; NODATA for MX falls back to the name's own addresses. Errors:
  // Errc::not_found ("resolve-nxdomain", "resolve-no-address", "null-mx"), Errc::io
  // ("resolve-failed", sys = ARES_* status; describe() gives the text).
  void resolve(const Target& target, AddressFamily family, DoneFn done);

  // A short text for an error from this resolver (ares_strerror for c-ares statuses).
  static std::string describe(const core::Error& error);

 private:
  struct Request;
  struct Watch;
  explicit Resolver(uv_loop_t* loop) : loop_(loop) {}
  static void on_socket_state(void* data, int fd, int readable, int writable) noexcept;
  static void on_mx(void* arg, int status, int timeouts, unsigned char* answer,
                    int length) noexcept;
  static void on_addresses(void* arg, int status, int timeouts, ::ares_addrinfo* result) noexcept;
  static void on_poll(uv_poll_t* handle, int status, int events) noexcept;
  void on_timer();
  void lookup_addresses(Request* request, const std::string& name);
  void rearm_timer();

  uv_loop_t* loop_;
  ::ares_channeldata* channel_ = nullptr;
  std::unique_ptr<net::Timer> timer_;  // c-ares timeouts (ares_timeout)
  std::map<int, Watch*> watches_;      // by c-ares socket
  bool destroying_ = false;
};

}  // namespace postern::diag
