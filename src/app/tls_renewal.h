// The TLS identity from the Settings, and the daily check that renews postern's own
// self-signed certificate before it expires (tls/credentials.h tells self-made from the
// owner's).
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "app/settings.h"
#include "core/clock.h"
#include "core/executor.h"
#include "tls/random.h"
#include "tls/self_signed.h"
#include "tls/server_config.h"

namespace postern::app {

// The hostname and the addresses postern listens on: bind_address itself, or for a
// wildcard (0.0.0.0, ::) every address of the interfaces that are up, loopback included
// (getifaddrs(3); IPv6 link-local ones left out, which need a zone to be used). At most 32.
tls::Identity tls_identity(const Settings& settings);

// Loop thread only. Borrows the loop, executor, clock and config; they outlive it. Once a
// day (and never while the loop is stopping: the timer is unref'd) checks the certificate
// the config serves; when it is self-made and expiring, the files are read again on the
// thread pool: if they now hold the owner's pair (installed from the page), that is served;
// otherwise a new pair is generated and installed there. New sessions get it.
class TlsRenewal {
 public:
  TlsRenewal(uv_loop_t* loop, core::Executor& executor, const core::Clock& clock,
             tls::ServerConfig& config, std::string data_dir, tls::Identity identity);
  ~TlsRenewal();
  TlsRenewal(const TlsRenewal&) = delete;
  TlsRenewal& operator=(const TlsRenewal&) = delete;

  void check_now();

 private:
  static void on_timer(uv_timer_t* timer) noexcept;
  core::Executor& executor_;
  const core::Clock& clock_;
  tls::ServerConfig& config_;
  std::string data_dir_;
  tls::Identity identity_;
  std::shared_ptr<tls::Random> random_;  // shared with a renewal still on the pool
  std::shared_ptr<bool> alive_;          // false once destroyed: a late completion is ignored
  bool running_ = false;
  uv_timer_t* timer_;
};

}  // namespace postern::app
