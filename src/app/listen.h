// Listener and buffer options shared by every service, from Settings.
#pragma once

#include <string>

#include "app/settings.h"
#include "core/result.h"
#include "net/connection.h"
#include "net/listener.h"

namespace postern::app {

net::ListenerOptions listener_options(const char* name, const Settings& settings,
                                      std::uint16_t port);
net::ConnectionLimits connection_limits(const Settings& settings);
// "cannot listen for SMTP on 127.0.0.1:25: permission denied; use a port above 1023 or ..."
std::string describe_bind_error(const char* service, const Settings& settings, std::uint16_t port,
                                const core::Error& error);

}  // namespace postern::app
