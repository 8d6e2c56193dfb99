#include "app/cli.h"

#include <doctest/doctest.h>

using postern::app::password_from_piped_text;

TEST_CASE("a piped password is one line, or two equal lines") {
  CHECK(password_from_piped_text("secret-password\n").value() == "secret-password");
  CHECK(password_from_piped_text("secret-password").value() == "secret-password");
  CHECK(password_from_piped_text("secret-password\r\n").value() == "secret-password");
  CHECK(password_from_piped_text("secret-password\nsecret-password\n").value() ==
        "secret-password");
}

TEST_CASE("two different lines, more lines or none are refused, never silently cut") {
  auto differ = password_from_piped_text("secret-password\nsecret-passwort\n");
  REQUIRE_FALSE(differ.has_value());
  CHECK(differ.error().sentence == "the two password lines on stdin differ: nothing was changed");
  CHECK_FALSE(password_from_piped_text("a-password\na-password\na-password\n").has_value());
  CHECK_FALSE(password_from_piped_text("").has_value());
  CHECK_FALSE(password_from_piped_text("\n").has_value());
  CHECK_FALSE(password_from_piped_text("secret-password\n\n").has_value());
}
