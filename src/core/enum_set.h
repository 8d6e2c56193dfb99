// A set of enumerators usable in constant expressions: the legal states of a
// protocol verb in a command table (smtp/commands.cpp, pop3/commands.cpp).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <type_traits>

namespace postern::core {

// REQUIRES: every enumerator of E is in [0, 32).
template <class E>
class EnumSet {
  static_assert(std::is_enum_v<E>, "EnumSet holds enumerators");

 public:
  constexpr EnumSet(std::initializer_list<E> members) {
    for (E e : members) bits_ |= bit(e);
  }
  constexpr bool contains(E e) const { return (bits_ & bit(e)) != 0; }

 private:
  static constexpr std::uint32_t bit(E e) {
    const auto index = static_cast<std::uint32_t>(e);
    return index < 32 ? std::uint32_t{1} << index : 0;
  }
  std::uint32_t bits_ = 0;
};

}  // namespace postern::core
