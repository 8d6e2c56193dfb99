// Listener options and bind errors in words.
#include "app/listen.h"

#include <cstring>

namespace postern::app {

net::ListenerOptions listener_options(const char* name, const Settings& settings,
                                      std::uint16_t port) {
  net::ListenerOptions options;
  options.name = name;
  options.address = settings.bind_address;
  options.port = port;
  options.max_connections = settings.max_connections;
  options.max_per_ip = settings.max_connections_per_ip;
  return options;
}

net::ConnectionLimits connection_limits(const Settings& settings) {
  net::ConnectionLimits limits;
  limits.max_input_bytes = settings.io_buffer_kb * 1024;
  limits.high_water_bytes = settings.io_buffer_kb * 1024 * 2;
  limits.low_water_bytes = settings.io_buffer_kb * 1024 / 4;
  return limits;
}

std::string describe_bind_error(const char* service, const Settings& settings, std::uint16_t port,
                                const core::Error& error) {
  std::string where = std::string("cannot listen for ") + service + " on " + settings.bind_address +
                      ":" + std::to_string(port) + ": ";
  switch (error.code) {
    case core::Errc::busy:
      return where + "the port is in use; stop the other server or choose another port";
    case core::Errc::denied:
      return where + "permission denied; ports below 1024 need root (postern drops privileges " +
             "after binding) or choose a port above 1023";
    case core::Errc::invalid:
      return where + "bad bind_address; use a numeric IPv4 or IPv6 address";
    default:
      return where + (error.sys > 0 ? std::strerror(error.sys) : core::to_string(error.code));
  }
}

}  // namespace postern::app
