// validate_target: host names and IP literals in, everything else (injection strings) out.
#include "diag/target.h"

#include <doctest/doctest.h>

#include <string>

using namespace postern;
using diag::TargetKind;

TEST_CASE("IPv4 and IPv6 literals are accepted as such") {
  auto v4 = diag::validate_target("192.0.2.1");
  REQUIRE(v4);
  CHECK(v4->kind == TargetKind::ipv4);
  auto v6 = diag::validate_target("2001:db8::1");
  REQUIRE(v6);
  CHECK(v6->kind == TargetKind::ipv6);
  CHECK(v6->text == "2001:db8::1");
}

TEST_CASE("Host names are lowercased and lose one trailing dot") {
  auto name = diag::validate_target("Mail.Example.ORG.");
  REQUIRE(name);
  CHECK(name->kind == TargetKind::host_name);
  CHECK(name->text == "mail.example.org");
  CHECK(diag::validate_target("localhost"));
  CHECK(diag::validate_target("xn--bcher-kva.example"));
  CHECK(diag::validate_target("a-b.c0"));
}

TEST_CASE("Names break the LDH rule or the length limits are refused") {
  CHECK(diag::validate_target("").error().where == std::string("target-empty"));
  CHECK(diag::validate_target(".").error().where == std::string("target-empty"));
  CHECK(diag::validate_target("a..b").error().where == std::string("target-label"));
  CHECK(diag::validate_target("-a.example").error().where == std::string("target-label"));
  CHECK(diag::validate_target("a-.example").error().where == std::string("target-label"));
  CHECK(diag::validate_target(std::string(64, 'a') + ".example").error().where ==
        std::string("target-label"));
  CHECK(diag::validate_target(std::string(63, 'a') + ".example"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "orgs";  // 254 bytes
  CHECK(diag::validate_target(long_name).error().where == std::string("target-too-long"));
  CHECK(diag::validate_target("1.2.3").error().where == std::string("target-numeric-tld"));
  CHECK(diag::validate_target("256.1.1.1").error().where == std::string("target-numeric-tld"));
  CHECK(diag::validate_target("under_score.example").error().where ==
        std::string("target-character"));
  CHECK(diag::validate_target("fe80::1%eth0").error().where == std::string("target-character"));
  CHECK(diag::validate_target("[::1]").error().where == std::string("target-character"));
}

TEST_CASE("The classic router diagnostics injection strings are all refused") {
  const char* attacks[] = {
      "8.8.8.8; reboot",
      "8.8.8.8|cat /etc/passwd",
      "8.8.8.8 && id",
      "$(reboot)",
      "`reboot`",
      "8.8.8.8`id`",
      "example.org'",
      "\"example.org\"",
      "example.org\nreboot",
      "example.org\r\n",
      "-f",
      "--help",
      "-n 1 127.0.0.1",
      "a b",
      "127.0.0.1;ls",
      "${IFS}reboot",
      "example.org>/tmp/x",
      "example.org<x",
      "a&b",
      "1.1.1.1\t",
      "\x01host",
      "host\x7f",
      "h\xc3\xa9.example",
  };
  for (const char* attack : attacks) {
    INFO("input: " << attack);
    auto r = diag::validate_target(attack);
    CHECK_FALSE(r);
    if (!r) CHECK(r.error().code == core::Errc::invalid);
  }
  CHECK_FALSE(diag::validate_target(std::string("a\0b", 3)));
  CHECK_FALSE(diag::validate_target(std::string(300, 'a')));
}

TEST_CASE("Every validation error has a sentence that does not echo the input") {
  for (const char* bad : {"", "127.0.0.1; reboot", "a..b", "1.2.3", "$(reboot)"}) {
    auto r = diag::validate_target(bad);
    REQUIRE_FALSE(r);
    const std::string s = diag::describe_target_error(r.error());
    CHECK(s.size() > 20);
    CHECK(s.find("reboot") == std::string::npos);
  }
  CHECK(diag::describe_target_error(*&diag::validate_target("x y").error()).find("only a host") !=
        std::string::npos);
}

TEST_CASE("Loopback is 127.0.0.0/8, ::1 and their mapped form; nothing else") {
  for (const char* a : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
    CAPTURE(a);
    CHECK(diag::is_loopback(a));
  }
  for (const char* a :
       {"128.0.0.1", "10.0.0.1", "::2", "::ffff:10.0.0.1", "localhost", "", "1.2.3"}) {
    CAPTURE(a);
    CHECK_FALSE(diag::is_loopback(a));
  }
}
