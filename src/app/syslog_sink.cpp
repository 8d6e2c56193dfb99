// The syslog sink for core::log.
#include "app/syslog_sink.h"

#include <syslog.h>

#include "core/log.h"

namespace postern::app {

void enable_syslog() noexcept {
  ::openlog("postern", LOG_PID | LOG_NDELAY, LOG_MAIL);
  core::set_log_sink([](core::Level level, const char* line) noexcept {
    ::syslog(static_cast<int>(level), "%s", line);
  });
}

}  // namespace postern::app
