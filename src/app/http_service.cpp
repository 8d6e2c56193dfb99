// The status page's listeners: the page backend, the link diagnostics and the
// API wired to one http::Server on the HTTP and HTTPS ports.
#include "app/http_service.h"

#include <cstdio>

#include "app/http_diagnostics.h"
#include "app/listen.h"
#include "app/page_backend.h"
#include "core/log.h"
#include "http/api.h"
#include "http/server.h"

namespace postern::app {
namespace {

class HttpService final : public Service {
 public:
  HttpService(std::unique_ptr<PageBackend> backend, std::unique_ptr<AppDiagnostics> diagnostics,
              std::unique_ptr<http::Api> api)
      : backend_(std::move(backend)), diagnostics_(std::move(diagnostics)), api_(std::move(api)) {}
  void set_server(std::unique_ptr<http::Server> server) {
    server_ = std::move(server);
    backend_->set_server(server_.get());
  }
  http::Api& api() { return *api_; }
  const http::Server& server() const { return *server_; }

  std::string ready_fields() const override {
    return " http=" + std::to_string(server_->port()) +
           " https=" + std::to_string(server_->tls_port());
  }
  void reconfigure(const Settings& settings) override { backend_->set_settings(settings); }
  void stop() override { server_->stop(); }
  std::string name() const override { return "http"; }
  std::size_t connections() const override { return server_->connections(); }

 private:
  // Dependency order: the server calls the Api, which calls the backend.
  std::unique_ptr<PageBackend> backend_;
  std::unique_ptr<AppDiagnostics> diagnostics_;  // null without a LinkService
  std::unique_ptr<http::Api> api_;
  std::unique_ptr<http::Server> server_;
};

std::string url_host(const Settings& settings) {
  const std::string& bind = settings.bind_address;
  if (bind == "0.0.0.0" || bind == "::") return settings.hostname;
  return bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
}

}  // namespace

core::Result<std::unique_ptr<Service>, std::string> start_http(ServiceContext& context,
                                                               const Settings& settings,
                                                               HttpHooks hooks) {
  // Registration point: every part of the page's API is built here and handed to
  // http::Api (the backend in page_backend*.cpp, the link diagnostics); a new one joins here.
  auto diagnostics = hooks.links ? std::make_unique<AppDiagnostics>(*hooks.links) : nullptr;
  http::CollectBackend* collect = hooks.collect;
  auto backend = std::make_unique<PageBackend>(context, settings, std::move(hooks));
  auto api =
      std::make_unique<http::Api>(*backend, context.clock, http::ApiOptions{}, diagnostics.get());
  api->set_collect(collect);
  auto service =
      std::make_unique<HttpService>(std::move(backend), std::move(diagnostics), std::move(api));

  http::ServerOptions options;
  options.listen = listener_options("http", settings, settings.http_port);
  options.listen_tls = listener_options("https", settings, settings.https_port);
  options.buffers.max_input_bytes = 16 * 1024;  // the parser consumes as it goes
  options.buffers.high_water_bytes = 256 * 1024;
  options.buffers.low_water_bytes = 32 * 1024;
  auto server = http::Server::start(context.loop, std::move(options), service->api(), context.clock,
                                    &context.tls);
  if (!server) {
    return describe_bind_error("HTTP", settings, settings.http_port, server.error()) +
           " (HTTPS uses " + std::to_string(settings.https_port) + ")";
  }
  service->set_server(std::move(*server));
  if (auto token = service->api().setup_token()) {
    // The token is a one-time secret: stderr only (the owner's console), not syslog.
    std::fprintf(stderr, "setup: open http://%s:%u/setup#%s\n", url_host(settings).c_str(),
                 static_cast<unsigned>(service->server().port()), token->c_str());
    std::fflush(stderr);
    POSTERN_LOG_WARN("http event=setup-pending note=no-admin-password-yet");
  }
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace postern::app
