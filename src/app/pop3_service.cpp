// Filling pop3::Limits from Settings and starting the POP3 and POP3S listeners.
#include "app/pop3_service.h"

#include "app/listen.h"
#include "app/server_service.h"
#include "pop3/server.h"

namespace postern::app {
namespace {

pop3::Limits pop3_limits(const Settings& s) {
  pop3::Limits limits;
  limits.greeting_host = s.hostname;
  limits.idle_timeout = s.pop3_idle_timeout;
  limits.allow_plaintext_login = s.allow_plaintext_login;
  limits.stls_available = true;  // the server turns it off when no TLS config is loaded
  return limits;
}

}  // namespace

core::Result<std::unique_ptr<Service>, std::string> start_pop3(ServiceContext& context,
                                                               const Settings& settings) {
  pop3::ServerOptions options;
  options.listen = listener_options("pop3", settings, settings.pop3_port);
  options.listen_tls = listener_options("pop3s", settings, settings.pop3s_port);
  options.buffers = connection_limits(settings);
  options.limits = pop3_limits(settings);
  pop3::ServerDeps deps{
      context.env,  context.writer,   context.executor,          context.clock,
      &context.tls, context.on_fatal, context.on_broken_session, context.credential_cache};
  auto server = pop3::Server::start(context.loop, std::move(options), std::move(deps));
  if (!server) {
    // Which of the two ports failed is not reported by Server::start; name both.
    return describe_bind_error("POP3", settings, settings.pop3_port, server.error()) +
           " (POP3S uses " + std::to_string(settings.pop3s_port) + ")";
  }
  return std::unique_ptr<Service>(new ServerService<pop3::Server>(
      "pop3", {"pop3", "pop3s"}, std::move(*server),
      [](pop3::Server& pop3, const Settings& changed) { pop3.set_limits(pop3_limits(changed)); }));
}

}  // namespace postern::app
