// What the command line's files share: exit helpers and the verbs each file holds.
// Exit codes: 0 success, 1 the operation failed (message on stderr), 2 bad usage.
#pragma once

#include <string>

#include "app/admin.h"
#include "app/cli.h"
#include "app/settings.h"
#include "store/env.h"

namespace postern::app {

int fail(const std::string& message);         // "postern: <message>" on stderr; 1
int usage_error(const std::string& message);  // the same and a pointer to `postern help`; 2

// cli_settings.cpp: `set` (list, show one, save one) and `events` (sentences or --json).
int set_command(Admin& admin, const Settings& settings, const CommandLine& cl);
int events_command(store::Env& env, const CommandLine& cl);

// cli_password.cpp: the new password from stdin (password_from_piped_text()'s
// rule, or twice without echo on a terminal).
core::Result<std::string, InputProblem> read_password();

}  // namespace postern::app
