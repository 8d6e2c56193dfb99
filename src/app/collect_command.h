// `postern collect add|del|list|now [ACCOUNT]`: external POP3 accounts.
#pragma once

#include "app/cli.h"
#include "app/settings.h"
#include "store/env.h"

namespace postern::app {

int collect_command(store::Env& env, const Settings& settings, const CommandLine& cl);

}  // namespace postern::app
