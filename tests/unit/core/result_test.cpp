#include "core/result.h"

#include <doctest/doctest.h>

#include <string>

using postern::core::Errc;
using postern::core::Error;
using postern::core::Result;

TEST_CASE("a Result holds either a value or an error") {
  Result<std::string> ok(std::string("mail"));
  CHECK(ok.has_value());
  CHECK(*ok == "mail");
  Result<std::string> bad(Error{Errc::full, 28, "store.put"});
  CHECK_FALSE(bad.has_value());
  CHECK(bad.error().code == Errc::full);
  CHECK(bad.error().sys == 28);
  CHECK(bad.value_or("fallback") == "fallback");
}

TEST_CASE("Result<void> is success by default") {
  Result<void> ok;
  CHECK(ok.has_value());
  Result<void> bad(Error{Errc::busy, 0, "lock"});
  CHECK_FALSE(bad);
  CHECK(std::string(postern::core::to_string(bad.error().code)) == "busy");
}
