#include "core/enum_set.h"

#include <doctest/doctest.h>

#include <cstdint>

using postern::core::EnumSet;

namespace {
enum class Colour : std::uint8_t { red, green, blue, last = 31 };
constexpr EnumSet<Colour> kWarm{Colour::red, Colour::last};
static_assert(kWarm.contains(Colour::red));
static_assert(!kWarm.contains(Colour::blue));
}  // namespace

TEST_CASE("an EnumSet holds exactly the enumerators it was built from") {
  CHECK(kWarm.contains(Colour::red));
  CHECK(kWarm.contains(Colour::last));  // the highest bit
  CHECK_FALSE(kWarm.contains(Colour::green));
  CHECK_FALSE(kWarm.contains(Colour::blue));
  constexpr EnumSet<Colour> none{};
  CHECK_FALSE(none.contains(Colour::red));
}
