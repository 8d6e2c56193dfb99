// The new password of `user add|passwd`, from a terminal or a pipe.
#include <unistd.h>

#include <cstdio>

#include "app/cli.h"
#include "app/cli_verbs.h"

namespace postern::app {
namespace {

// More than any password the admin layer takes (Admin::kMaxPassword) and a repeat.
constexpr std::size_t kMaxPipedBytes = 4 * Admin::kMaxPassword;

std::string without_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return std::string(line);
}

}  // namespace

core::Result<std::string, InputProblem> password_from_piped_text(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    lines.push_back(without_cr(text.substr(0, eol)));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  }
  if (lines.empty() || lines[0].empty())
    return InputProblem{"no password on stdin: pipe it in, e.g. `echo PASSWORD | postern ...`"};
  if (lines.size() > 2)
    return InputProblem{"stdin has more than two lines: give the password once, or twice alike"};
  if (lines.size() == 2 && lines[1] != lines[0])
    return InputProblem{"the two password lines on stdin differ: nothing was changed"};
  return lines[0];
}

core::Result<std::string, InputProblem> read_password() {
  if (::isatty(STDIN_FILENO) == 1) {
    std::string password = read_hidden_line("New password: ");
    if (read_hidden_line("Repeat it: ") != password) return InputProblem{"the passwords differ"};
    return password;
  }
  std::string text;
  char buffer[512];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxPipedBytes) return InputProblem{"stdin is too long for a password"};
  }
  return password_from_piped_text(text);
}

}  // namespace postern::app
