// Secrets typed at the command line: one line from stdin, not echoed on a terminal.
#pragma once

#include <string>

namespace postern::app {

// Reads one line from stdin, without its CR LF or LF. On a terminal `prompt` goes
// to stderr first, echo is off while the line is typed (restored after), and the
// newline the owner typed is written to stderr. From a pipe: no prompt, the line
// as is. An empty string at end of input.
std::string read_hidden_line(const char* prompt);

}  // namespace postern::app
