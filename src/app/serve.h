// `postern serve`: the single libuv loop with every service on it.
#pragma once

#include "app/settings.h"

namespace postern::app {

// Exit status of a restart asked for on the status page (EX_TEMPFAIL,
// sysexits.h): postern stopped cleanly and wants its supervisor to start it
// again (procd respawn, systemd Restart=on-failure, the firmware's init).
inline constexpr int kExitRestart = 75;

// Runs until SIGTERM/SIGINT (exit 0), a fatal store error (exit 3) or a restart
// request from the page (kExitRestart). SIGHUP re-reads the saved settings.
// Returns the process exit code.
int serve(Settings settings);

}  // namespace postern::app
