// What serve() needs from each network service (SMTP, POP3, HTTP): start,
// reconfigure on SIGHUP, stop, and the ports for the "ready" line.
#pragma once

#include <string>

#include "app/settings.h"
#include "core/result.h"

namespace postern::app {

class Service {
 public:
  virtual ~Service() = default;
  // " smtp=2525": appended to the ready line once every service listens.
  virtual std::string ready_fields() const = 0;
  // "smtp", "pop3", "http": for the status page's connection counts.
  virtual std::string name() const = 0;
  virtual std::size_t connections() const = 0;
  // New limits from the saved settings; open sessions keep the old ones.
  virtual void reconfigure(const Settings& settings) = 0;
  // Stops accepting and closes every connection; sessions end as on a drop.
  virtual void stop() = 0;
};

}  // namespace postern::app
