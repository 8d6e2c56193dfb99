// Filling smtp::Limits from Settings and starting the SMTP listener.
#include "app/smtp_service.h"

#include "app/listen.h"
#include "smtp/server.h"

namespace postern::app {
namespace {

smtp::Limits smtp_limits(const Settings& s) {
  smtp::Limits limits;
  limits.hostname = s.hostname;
  limits.max_message_bytes = s.max_message_bytes;
  limits.timeout_command = s.smtp_timeout;
  return limits;
}

class SmtpService final : public Service {
 public:
  explicit SmtpService(std::unique_ptr<smtp::Server> server) : server_(std::move(server)) {}
  std::string ready_fields() const override { return " smtp=" + std::to_string(server_->port()); }
  void reconfigure(const Settings& settings) override {
    server_->set_limits(smtp_limits(settings));
  }
  void stop() override { server_->stop(); }

 private:
  std::unique_ptr<smtp::Server> server_;
};

}  // namespace

core::Result<std::unique_ptr<Service>, std::string> start_smtp(ServiceContext& context,
                                                               const Settings& settings) {
  smtp::ServerOptions options;
  options.listen = listener_options("smtp", settings, settings.smtp_port);
  options.buffers = connection_limits(settings);
  options.limits = smtp_limits(settings);
  smtp::ServerDeps deps{context.env,   context.writer, context.executor,
                        context.clock, &context.tls,   context.on_fatal};
  auto server = smtp::Server::start(context.loop, std::move(options), std::move(deps));
  if (!server) return describe_bind_error("SMTP", settings, settings.smtp_port, server.error());
  return std::unique_ptr<Service>(new SmtpService(std::move(*server)));
}

}  // namespace postern::app
