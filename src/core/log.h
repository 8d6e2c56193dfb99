// One log line per event: "<component> <session> key=value ...".
//
// Lines go to stderr and to an optional extra sink (app installs syslog). Any
// text that came from a peer must pass through printable() first, so no CR or
// LF from the network can forge a log line.
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

namespace postern::core {

enum class Level { debug = 7, info = 6, warning = 4, error = 3 };

using LogSink = void (*)(Level level, const char* line) noexcept;

// Not thread-safe to change; set once at start-up, before the loop runs.
void set_log_sink(LogSink extra) noexcept;
void set_log_level(Level minimum) noexcept;
void set_log_to_stderr(bool on) noexcept;

void log(Level level, const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));

// Escapes control characters and non-ASCII as \xNN and caps the length.
std::string printable(std::string_view peer_text, std::size_t max_length = 200);

}  // namespace postern::core

#define POSTERN_LOG_INFO(...) ::postern::core::log(::postern::core::Level::info, __VA_ARGS__)
#define POSTERN_LOG_WARN(...) ::postern::core::log(::postern::core::Level::warning, __VA_ARGS__)
#define POSTERN_LOG_ERROR(...) ::postern::core::log(::postern::core::Level::error, __VA_ARGS__)
#define POSTERN_LOG_DEBUG(...) ::postern::core::log(::postern::core::Level::debug, __VA_ARGS__)
