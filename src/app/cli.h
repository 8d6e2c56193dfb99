// The command line: parsed into a CommandLine, then run against the store.
//
// Typical sequence (main.cpp): parse_command_line(args) -> run(command_line) -> exit code.
// Exit codes: 0 success, 1 the operation failed (message on stderr), 2 bad usage.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace postern::app {

struct CommandLine {
  std::string verb;                            // serve, user, domain, ...
  std::vector<std::string> positional;         // after the verb, e.g. {"add", "bob@example.org"}
  std::map<std::string, std::string> options;  // --board host -> {"board","host"}; flags -> ""
};

core::Result<CommandLine, std::string> parse_command_line(
    const std::vector<std::string_view>& args);

int run(const CommandLine& command_line);

// Why what was given cannot be used, in one sentence.
struct InputProblem {
  std::string sentence;
};

// The password piped to `user add|passwd`: one line, or two equal lines (a
// script answering both prompts). Two lines that differ, more lines, or none
// are refused: a typo must not become the password. A final CR is dropped.
core::Result<std::string, InputProblem> password_from_piped_text(std::string_view text);

// A secret typed at the command line (cli_terminal.cpp): one line from stdin, without its
// CR LF or LF. On a terminal `prompt` goes to stderr first, echo is off while the line is
// typed (restored after) and the owner's newline is echoed on stderr; from a pipe, no
// prompt and the line as is. An empty string at end of input.
std::string read_hidden_line(const char* prompt);

}  // namespace postern::app
