// Trace headers (RFC 5321 §4.4) and the RFC 5322 date.
#include "smtp/trace.h"

#include <doctest/doctest.h>

using namespace postern::smtp;
using postern::core::from_unix_seconds;

TEST_CASE("dates are RFC 5322 in UTC") {
  CHECK(rfc5322_date(from_unix_seconds(0)) == "Thu, 1 Jan 1970 00:00:00 +0000");
  CHECK(rfc5322_date(from_unix_seconds(951782400)) == "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST_CASE("the WITH protocol follows RFC 3848 and RFC 6531") {
  CHECK(std::string(with_protocol(false, false, false)) == "SMTP");
  CHECK(std::string(with_protocol(true, false, false)) == "ESMTP");
  CHECK(std::string(with_protocol(true, true, false)) == "ESMTPS");
  CHECK(std::string(with_protocol(true, false, true)) == "UTF8SMTP");
  CHECK(std::string(with_protocol(true, true, true)) == "UTF8SMTPS");
}

TEST_CASE("Received names no recipient when there are several, and sanitises the HELO name") {
  Envelope env;
  env.helo = "evil;(x)\"";
  env.reverse_path = "";
  env.recipients = {"a@example.org", "b@example.org"};
  TraceInfo info;
  info.hostname = "mx.example.org";
  info.peer_address = "2001:db8::7";
  info.message_id = "s1.4";
  info.when = from_unix_seconds(0);
  CHECK(trace_headers(env, info) ==
        "Return-Path: <>\r\n"
        "Received: from evil__x__ (2001:db8::7)\r\n"
        "\tby mx.example.org with ESMTP id s1.4; Thu, 1 Jan 1970 00:00:00 +0000\r\n");
}
