// The status page as app sees it: the http::Backend over the real store, Writer,
// executor and Settings, and the HTTP + HTTPS listeners.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/service.h"
#include "app/services.h"

namespace postern::http {
struct CollectBackend;
}

namespace postern::app {

class LinkService;
class LoopLag;

struct HttpHooks {
  // After the page saved settings: re-read them and reconfigure every service
  // (serve()'s SIGHUP path). Empty: the service raises SIGHUP on its own process,
  // which reaches that same path through the loop's signal handler.
  std::function<void()> on_settings_changed;
  // Open connections per service for the Overview. Empty: HTTP's own only.
  std::function<std::vector<std::pair<std::string, std::uint64_t>>()> connections;
  // Link diagnostics for the page's traces and chart; null: those routes answer 503.
  // REQUIRES: outlives the service (serve() owns it).
  LinkService* links = nullptr;
  // The loop-lag probe for the Overview; null: the field is absent. Outlives the service.
  LoopLag* loop_lag = nullptr;
  // Collected mailboxes (app/collect_page.h); null: not offered. Outlives the service.
  http::CollectBackend* collect = nullptr;
};

// Binds http_port (plain) and https_port (implicit TLS with context.tls).
// ready_fields(): " http=<port> https=<port>". While no admin password is set,
// prints "setup: open http://<bind>:<port>/setup#<token>" on stderr once bound.
core::Result<std::unique_ptr<Service>, std::string> start_http(ServiceContext& context,
                                                               const Settings& settings,
                                                               HttpHooks hooks = {});

}  // namespace postern::app
