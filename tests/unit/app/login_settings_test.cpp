// The login cache and TLS ticket settings: defaults, bounds, and what each board ships.
#include <doctest/doctest.h>

#include "app/boards.h"
#include "app/settings.h"

using postern::app::apply;
using postern::app::apply_profile;
using postern::app::Origin;
using postern::app::Settings;

TEST_CASE("the login cache and ticket settings parse, are bounded and are runtime keys") {
  Settings s;
  CHECK(s.auth_cache_entries == 256);
  CHECK(s.auth_cache_ttl == std::chrono::seconds(3600));
  CHECK(s.tls_ticket_lifetime == std::chrono::seconds(43200));
  REQUIRE(apply(s, "auth_cache_entries", "0", Origin::saved).has_value());  // 0: off
  CHECK(s.auth_cache_entries == 0);
  REQUIRE(apply(s, "auth_cache_ttl_s", "60", Origin::saved).has_value());
  CHECK(s.auth_cache_ttl == std::chrono::seconds(60));
  REQUIRE(apply(s, "tls_ticket_lifetime_s", "0", Origin::saved).has_value());
  CHECK(s.tls_ticket_lifetime == std::chrono::seconds(0));
  CHECK_FALSE(apply(s, "auth_cache_ttl_s", "86401", Origin::saved).has_value());
  CHECK_FALSE(
      apply(s, "tls_ticket_lifetime_s", "604801", Origin::saved).has_value());  // a week at most
  CHECK_FALSE(apply(s, "auth_cache_entries", "many", Origin::saved).has_value());
  CHECK(postern::app::is_runtime_key("auth_cache_entries"));
  CHECK(postern::app::is_runtime_key("auth_cache_ttl_s"));
}

TEST_CASE("every board ships a bounded login cache and 12-hour tickets") {
  for (const char* name : {"host", "nas-arm128", "router-mips64"}) {
    CAPTURE(name);
    auto board = postern::app::find_board(name);
    REQUIRE(board.has_value());
    Settings s;
    REQUIRE(apply_profile(s, board->text, name).has_value());
    CHECK(s.auth_cache_entries > 0);
    CHECK(s.auth_cache_entries <= 256);
    CHECK(s.auth_cache_ttl == std::chrono::seconds(3600));
    CHECK(s.tls_ticket_lifetime == std::chrono::seconds(43200));
  }
}
