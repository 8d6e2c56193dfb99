// Building the running Settings and opening the store for any command.
//
// Order: compiled defaults < board profile (embedded, --board) < --data <
// settings saved in the store (runtime keys only).
#pragma once

#include <memory>
#include <string>

#include "app/cli.h"
#include "app/settings.h"
#include "store/env.h"

namespace postern::app {

// Defaults < board profile < command-line overrides, each value with its
// Origin. Errors say what to do.
core::Result<Settings, std::string> settings_from_command_line(const CommandLine& command_line);

store::Options store_options(const Settings& settings);

// Opens the store in settings.data_dir and applies its saved runtime settings.
// `recover`: the server (only) clears the spool and chunks of deliveries that
// never committed; a CLI command beside a running server must not.
core::Result<std::unique_ptr<store::Env>, std::string> open_store(Settings& settings,
                                                                  bool recover = false);

// Re-reads the saved settings into `settings` (SIGHUP, page changes).
core::Result<void, std::string> apply_saved_settings(store::Env& env, Settings& settings);

// One sentence for a store error, naming what to do about it.
std::string explain(const core::Error& error);

}  // namespace postern::app
