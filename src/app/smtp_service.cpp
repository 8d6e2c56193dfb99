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

dedup::Settings dedup_settings(const Settings& s) {
  dedup::Settings d;
  d.allow_duplicates = s.allow_duplicates;
  d.window = s.dedup_window;
  d.partial = s.partial_policy == PartialPolicy::keep_as_alert ? dedup::PartialPolicy::keep_as_alert
                                                               : dedup::PartialPolicy::discard;
  return d;
}

class SmtpService final : public Service {
 public:
  SmtpService(std::unique_ptr<smtp::Server> server, std::shared_ptr<dedup::Settings> dedup)
      : server_(std::move(server)), dedup_(std::move(dedup)) {}
  std::string ready_fields() const override { return " smtp=" + std::to_string(server_->port()); }
  void reconfigure(const Settings& settings) override {
    server_->set_limits(smtp_limits(settings));
    *dedup_ = dedup_settings(settings);  // loop thread, read by the next message
  }
  void stop() override { server_->stop(); }
  std::string name() const override { return "smtp"; }
  std::size_t connections() const override { return server_->connections(); }

 private:
  std::unique_ptr<smtp::Server> server_;
  std::shared_ptr<dedup::Settings> dedup_;
};

}  // namespace

core::Result<std::unique_ptr<Service>, std::string> start_smtp(ServiceContext& context,
                                                               const Settings& settings) {
  smtp::ServerOptions options;
  options.listen = listener_options("smtp", settings, settings.smtp_port);
  options.buffers = connection_limits(settings);
  options.limits = smtp_limits(settings);
  auto dedup = std::make_shared<dedup::Settings>(dedup_settings(settings));
  smtp::ServerDeps deps{
      context.env,  context.writer,   context.executor,           context.clock,
      &context.tls, context.on_fatal, [dedup] { return *dedup; }, context.on_broken_session};
  auto server = smtp::Server::start(context.loop, std::move(options), std::move(deps));
  if (!server) return describe_bind_error("SMTP", settings, settings.smtp_port, server.error());
  return std::unique_ptr<Service>(new SmtpService(std::move(*server), std::move(dedup)));
}

}  // namespace postern::app
