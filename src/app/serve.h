// `postern serve`: the single libuv loop with every service on it.
#pragma once

#include "app/settings.h"

namespace postern::app {

// Runs until SIGTERM/SIGINT (exit 0) or a fatal store error (exit 3). SIGHUP
// re-reads the saved settings. Returns the process exit code.
int serve(Settings settings);

}  // namespace postern::app
