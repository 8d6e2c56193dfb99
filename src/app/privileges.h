// Dropping root after the ports are bound: the loop never runs as root.
#pragma once

#include <string>

#include "core/result.h"

namespace postern::app {

// When the process is root and `user` is not empty: hands the data folder
// (the current directory, see serve.cpp) to `user`, then drops supplementary
// groups, gid and uid, and checks that root cannot be regained. Not root: nothing.
core::Result<void, std::string> drop_privileges(const std::string& user);

}  // namespace postern::app
