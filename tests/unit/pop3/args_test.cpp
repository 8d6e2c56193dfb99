// Argument parsing: strict message numbers and case-insensitive keywords.
#include "pop3/args.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace postern::pop3 {

TEST_CASE("split_args and parse_number are strict about numbers") {
  CHECK(split_args("").empty());
  CHECK(split_args("  1  2 ") == std::vector<std::string_view>{"1", "2"});
  CHECK(parse_number("0") == 0u);
  CHECK(parse_number("007") == 7u);
  CHECK(parse_number("999999999999999999") == 999999999999999999u);
  for (const char* bad : {"", "-1", "+1", "1a", "0x1", "9999999999999999999"})
    CHECK_FALSE(parse_number(bad).has_value());
  CHECK(equals_ignore_case("Top", "TOP"));
  CHECK_FALSE(equals_ignore_case("TO", "TOP"));
}

}  // namespace postern::pop3
