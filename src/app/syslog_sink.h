// Sends log lines to syslog (LOG_MAIL) as well as stderr.
#pragma once

namespace postern::app {

void enable_syslog() noexcept;

}  // namespace postern::app
