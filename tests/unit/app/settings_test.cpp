#include "app/settings.h"
#include "app/boards.h"
#include "app/link_service.h"

#include <doctest/doctest.h>

using postern::app::apply;
using postern::app::apply_profile;
using postern::app::Origin;
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
  auto port = apply(s, "smtp_port", "70000", Origin::saved);
  REQUIRE_FALSE(port.has_value());
  CHECK(port.error().find("smtp_port") != std::string::npos);
  CHECK(port.error().find("0 to 65535") != std::string::npos);
  auto idle = apply(s, "pop3_idle_timeout_s", "60", Origin::saved);
  REQUIRE_FALSE(idle.has_value());  // RFC 1939 §3: at least 10 minutes
  auto rule = apply(s, "dedup_rule", "maybe", Origin::saved);
  REQUIRE_FALSE(rule.has_value());
  CHECK(rule.error().find("content-or-message-id") != std::string::npos);
  auto unknown = apply(s, "smtp_prot", "25", Origin::saved);
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

TEST_CASE("a refused value changes nothing, not even the origin") {
  Settings s;
  REQUIRE_FALSE(apply(s, "smtp_port", "70000", Origin::saved).has_value());
  CHECK(s.smtp_port == 2525);
  CHECK(s.origin_of("smtp_port") == Origin::compiled_default);
}

TEST_CASE("ports and connection limits wait for a restart; the rest of the saved keys apply live") {
  using postern::app::applies_live;
  using postern::app::is_runtime_key;
  for (const char* key : {"smtp_port", "pop3_port", "pop3s_port", "http_port", "https_port",
                          "max_connections", "max_connections_per_ip"}) {
    INFO(key);
    CHECK(is_runtime_key(key));
    CHECK_FALSE(applies_live(key));
  }
  for (const char* key : {"allow_duplicates", "max_message_bytes", "allow_plaintext_login",
                          "dedup_window_h", "pop3_idle_timeout_s", "hostname"}) {
    INFO(key);
    CHECK(applies_live(key));
  }
  CHECK_FALSE(is_runtime_key("data_dir"));
  CHECK_FALSE(applies_live("data_dir"));
  CHECK_FALSE(applies_live("no_such_key"));
}

TEST_CASE("every key has a help sentence; the plaintext rule names loopback") {
  for (const auto& [key, value] : postern::app::describe(Settings{})) {
    INFO(key);
    CHECK_FALSE(postern::app::help(key).empty());
  }
  const std::string plaintext(postern::app::help("allow_plaintext_login"));
  CHECK(plaintext.find("127.0.0.0/8") != std::string::npos);
  CHECK(plaintext.find("::1") != std::string::npos);
}

TEST_CASE("waiting_for_restart lists only changed restart keys") {
  Settings started;
  Settings now = started;
  REQUIRE(apply(now, "pop3_port", "11111", Origin::saved).has_value());
  REQUIRE(apply(now, "allow_duplicates", "yes", Origin::saved).has_value());
  REQUIRE(apply(now, "smtp_port", "2525", Origin::saved).has_value());  // the same value
  CHECK(postern::app::changed_keys(started, now) ==
        std::vector<std::string>{"pop3_port", "allow_duplicates"});
  CHECK(postern::app::waiting_for_restart(started, now) == std::vector<std::string>{"pop3_port"});
}

TEST_CASE("the host board probes only configured link targets; device boards keep defaults") {
  for (const auto& board : postern::app::embedded_boards()) {
    Settings s;
    REQUIRE(apply_profile(s, board.text, board.name).has_value());
    INFO(std::string(board.name));
    if (std::string(board.name) == "host") {
      CHECK_FALSE(s.link_auto_probes);  // loopback only: no gateway, DNS server or peer probes
      CHECK(postern::app::monitor_targets(s).empty());
      REQUIRE(apply(s, "link_monitor_targets", "127.0.0.1", Origin::saved).has_value());
      const auto targets = postern::app::monitor_targets(s);
      REQUIRE(targets.size() == 1);
      CHECK(targets[0].address == "127.0.0.1");
      CHECK(targets[0].role == "configured");
    } else {
      CHECK(s.link_auto_probes);
    }
  }
}
