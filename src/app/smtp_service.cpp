// Filling smtp::Limits from Settings and starting the SMTP listener.
#include "app/smtp_service.h"

#include "app/listen.h"
#include "app/server_service.h"
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
  return std::unique_ptr<Service>(new ServerService<smtp::Server>(
      "smtp", {"smtp"}, std::move(*server), [dedup](smtp::Server& smtp, const Settings& changed) {
        smtp.set_limits(smtp_limits(changed));
        *dedup = dedup_settings(changed);  // loop thread, read by the next message
      }));
}

}  // namespace postern::app
