// The POP3 command table's types: a verb, the states where it is legal, and its handler.
#pragma once

#include <string_view>

#include "core/enum_set.h"
#include "pop3/session.h"

namespace postern::pop3 {

using States = core::EnumSet<State>;

struct Session::Command {
  std::string_view verb;  // upper case; matched case-insensitively (RFC 1939 §3)
  States legal;
  Handler handler;
};

}  // namespace postern::pop3
