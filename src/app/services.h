// Creating the network services from the Settings, with what they share.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/service.h"
#include "app/settings.h"
#include "core/clock.h"
#include "core/executor.h"
#include "store/credential_cache.h"
#include "store/env.h"
#include "store/writer.h"
#include "tls/server_config.h"

namespace postern::app {

class LinkService;
class LoopLag;

// Everything a service borrows; all of it outlives the services.
struct ServiceContext {
  uv_loop_t* loop;
  store::Env& env;
  store::Writer& writer;
  core::Executor& executor;  // the loop's thread pool
  const tls::ServerConfig& tls;
  const core::Clock& clock;
  std::function<void(const core::Error&)> on_fatal;  // the writer latched a fatal error
  std::function<void()> reload;  // re-read saved settings and reconfigure (the SIGHUP path)
  LinkService* links;            // serve() owns it; null: not running
  std::function<void(std::string peer)> on_broken_session;  // SMTP DATA broken / POP3 no QUIT
  store::CredentialCache* credential_cache = nullptr;       // verified logins (POP3, the page)
  // Stop as on SIGTERM, then exit with kExitRestart for the supervisor (the page's button).
  std::function<void()> restart = {};
  LoopLag* loop_lag = nullptr;  // serve() owns it; null: no probe
};

// Binds every service's ports; on failure says which port and what to do.
core::Result<void, std::string> start_services(ServiceContext& context, const Settings& settings,
                                               std::vector<std::unique_ptr<Service>>& out);

}  // namespace postern::app
