// The POP3 command table's types: a verb, the states where it is legal, and its handler.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "pop3/session.h"

namespace postern::pop3 {

// A set of States, usable in constant expressions.
class States {
 public:
  constexpr States(std::initializer_list<State> states) {
    for (State s : states) bits_ |= bit(s);
  }
  constexpr bool contains(State s) const { return (bits_ & bit(s)) != 0; }

 private:
  static constexpr std::uint32_t bit(State s) { return 1u << static_cast<unsigned>(s); }
  std::uint32_t bits_ = 0;
};

struct Session::Command {
  std::string_view verb;  // upper case; matched case-insensitively (RFC 1939 §3)
  States legal;
  Handler handler;
};

}  // namespace postern::pop3
