// The POP3 server's address: an IP literal at once, a name through c-ares
// (A/AAAA, never getaddrinfo, DESIGN "never block the loop"). One channel per
// lookup: a run happens every few minutes, so nothing is worth keeping.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <string>

#include "core/result.h"

namespace postern::collect {

struct Address {
  sockaddr_storage storage{};
  std::string numeric;
};

class HostLookup {
 public:
  using DoneFn = std::function<void(core::Result<Address>)>;
  // Starts a lookup of `host`, port `port`; `done` runs on the loop thread,
  // never from inside this call. Errors: Errc::not_found "resolve-nxdomain",
  // Errc::io "resolve-failed" (sys = ARES status). The HostLookup deletes
  // itself after `done`; cancel() drops `done` (it is then never called).
  static HostLookup* start(uv_loop_t* loop, const std::string& host, std::uint16_t port,
                           DoneFn done);
  void cancel() { done_ = nullptr; }

 private:
  struct Impl;
  HostLookup() = default;
  ~HostLookup() = default;
  DoneFn done_;
  friend struct Impl;
};

}  // namespace postern::collect
