#include "app/config.h"

#include <doctest/doctest.h>

#include "store/catalogue.h"
#include "test_support.h"

using postern::app::CommandLine;
using postern::app::Origin;
using postern::test::TempDir;

TEST_CASE("each value says where it comes from: default, board, command line or saved") {
  TempDir dir;
  CommandLine cl;
  cl.verb = "set";
  cl.options = {{"board", "router-mips64"}, {"data", dir.path()}};
  auto settings = postern::app::settings_from_command_line(cl);
  REQUIRE(settings.has_value());
  CHECK(settings->origin_of("board") == Origin::command_line);
  CHECK(settings->origin_of("data_dir") == Origin::command_line);  // --data, not the board
  CHECK(settings->origin_of("smtp_port") == Origin::board);        // the profile sets 25
  CHECK(settings->origin_of("allow_duplicates") == Origin::compiled_default);
  {
    auto env = postern::app::open_store(*settings);
    REQUIRE(env.has_value());
    auto saved = postern::store::run_write(**env, [](postern::store::WriteTxn& txn) {
      return postern::store::set_setting(txn, "allow_duplicates", "yes");
    });
    REQUIRE(saved.has_value());
  }
  auto env = postern::app::open_store(*settings);
  REQUIRE(env.has_value());
  CHECK(settings->allow_duplicates);
  CHECK(settings->origin_of("allow_duplicates") == Origin::saved);
  CHECK(settings->origin_of("smtp_port") == Origin::board);
}

TEST_CASE("without --board the board is the compiled default, host") {
  CommandLine cl;
  cl.verb = "status";
  auto settings = postern::app::settings_from_command_line(cl);
  REQUIRE(settings.has_value());
  CHECK(settings->board == "host");
  CHECK(settings->origin_of("board") == Origin::compiled_default);
  CHECK(settings->origin_of("data_dir") == Origin::board);
  CHECK(std::string(to_string(Origin::compiled_default)) == "default");
  CHECK(std::string(to_string(Origin::command_line)) == "command line");
}
