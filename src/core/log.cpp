// Log sink: formats one line, writes it to stderr and the optional extra sink.
#include "core/log.h"

#include <cstdio>

namespace postern::core {
namespace {
LogSink g_extra_sink = nullptr;  // set once at start-up (see log.h)
Level g_minimum = Level::info;
bool g_stderr = true;
}  // namespace

void set_log_sink(LogSink extra) noexcept {
  g_extra_sink = extra;
}
void set_log_level(Level minimum) noexcept {
  g_minimum = minimum;
}
void set_log_to_stderr(bool on) noexcept {
  g_stderr = on;
}

void log(Level level, const char* format, ...) noexcept {
  if (static_cast<int>(level) > static_cast<int>(g_minimum)) return;
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (g_stderr) std::fprintf(stderr, "postern: %s\n", line);
  if (g_extra_sink != nullptr) g_extra_sink(level, line);
}

std::string printable(std::string_view peer_text, std::size_t max_length) {
  std::string out;
  out.reserve(peer_text.size() < max_length ? peer_text.size() : max_length);
  for (unsigned char c : peer_text) {
    if (out.size() >= max_length) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    }
  }
  return out;
}

}  // namespace postern::core
