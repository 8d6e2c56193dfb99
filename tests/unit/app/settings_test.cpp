#include "app/settings.h"
#include "app/boards.h"
#include "app/link_service.h"

#include <doctest/doctest.h>

using postern::app::apply;
using postern::app::apply_profile;
using postern::app::Settings;

TEST_CASE("the dedup window defaults to 5 days (RFC 5321 §4.5.4.1 give-up time)") {
  Settings s;
  CHECK(s.dedup_window == std::chrono::hours(120));
  CHECK_FALSE(s.allow_duplicates);
}

TEST_CASE("a profile sets typed values and later lines win") {
  Settings s;
  auto r = apply_profile(s,
                         "# comment\nsmtp_port = 25\nmax_message_bytes = 1048576 # 1 MiB\n"
                         "smtp_port=2526\n",
                         "test");
  REQUIRE(r.has_value());
  CHECK(s.smtp_port == 2526);
  CHECK(s.max_message_bytes == 1048576u);
}

TEST_CASE("bad values are refused with a message that names the key and the fix") {
  Settings s;
  auto port = apply(s, "smtp_port", "70000");
  REQUIRE_FALSE(port.has_value());
  CHECK(port.error().find("smtp_port") != std::string::npos);
  CHECK(port.error().find("0 to 65535") != std::string::npos);
  auto idle = apply(s, "pop3_idle_timeout_s", "60");
  REQUIRE_FALSE(idle.has_value());  // RFC 1939 §3: at least 10 minutes
  auto rule = apply(s, "dedup_rule", "maybe");
  REQUIRE_FALSE(rule.has_value());
  CHECK(rule.error().find("content-or-message-id") != std::string::npos);
  auto unknown = apply(s, "smtp_prot", "25");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().find("unknown setting") != std::string::npos);
}

TEST_CASE("a profile error names the file and the line") {
  Settings s;
  auto r = apply_profile(s, "smtp_port = 25\nthis line is wrong\n", "board.conf");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().rfind("board.conf:2: ", 0) == 0);
}

TEST_CASE("every embedded board profile parses") {
  REQUIRE_FALSE(postern::app::embedded_boards().empty());
  for (const auto& board : postern::app::embedded_boards()) {
    Settings s;
    auto r = apply_profile(s, board.text, board.name);
    INFO(std::string(board.name));
    CHECK(r.has_value());
  }
  CHECK(postern::app::find_board("host").has_value());
}

TEST_CASE("the host board probes only configured link targets; device boards keep defaults") {
  for (const auto& board : postern::app::embedded_boards()) {
    Settings s;
    REQUIRE(apply_profile(s, board.text, board.name).has_value());
    INFO(std::string(board.name));
    if (std::string(board.name) == "host") {
      CHECK_FALSE(s.link_auto_probes);  // loopback only: no gateway, DNS server or peer probes
      CHECK(postern::app::monitor_targets(s).empty());
      REQUIRE(apply(s, "link_monitor_targets", "127.0.0.1").has_value());
      const auto targets = postern::app::monitor_targets(s);
      REQUIRE(targets.size() == 1);
      CHECK(targets[0].address == "127.0.0.1");
      CHECK(targets[0].role == "configured");
    } else {
      CHECK(s.link_auto_probes);
    }
  }
}
