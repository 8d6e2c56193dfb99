// The POP3 service as app sees it: Settings -> pop3::Limits, and the POP3 + POP3S listeners.
#pragma once

#include <memory>
#include <string>

#include "app/service.h"
#include "app/services.h"

namespace postern::app {

// Binds pop3_port (STLS offered) and pop3s_port (implicit TLS with context.tls).
// ready_fields(): " pop3=<port> pop3s=<port>".
core::Result<std::unique_ptr<Service>, std::string> start_pop3(ServiceContext& context,
                                                               const Settings& settings);

}  // namespace postern::app
