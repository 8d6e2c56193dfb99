#include "app/event_text.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

using postern::app::event_field;
using postern::app::event_fields;
using postern::app::event_json;
using postern::app::event_sentence;
using postern::app::local_time_text;

namespace {

// Sentences speak the appliance's local time: pin it for the test.
struct LocalTime {
  explicit LocalTime(const char* tz) {
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~LocalTime() {
    ::unsetenv("TZ");
    ::tzset();
  }
};

}  // namespace

TEST_CASE("local times name the zone") {
  LocalTime utc("UTC0");
  CHECK(local_time_text(1796284836) == "2026-12-03 08:00 UTC");
  LocalTime cet("CET-1");  // POSIX form: no tzdata needed
  CHECK(local_time_text(1796284836) == "2026-12-03 09:00 CET");
}

TEST_CASE("a duplicate says when the first copy arrived, in local time, not as an epoch") {
  LocalTime utc("UTC0");
  const std::string s =
      event_sentence("duplicate-suppressed",
                     "mailbox=bob@example.org message_id=<a@b> rule=content first_seen=1796284836");
  CHECK(s ==
        "A repeat of a message for bob@example.org (Message-ID <a@b>) was accepted but not "
        "stored again: the first copy, with the same content, arrived 2026-12-03 08:00 UTC.");
  CHECK(s.find("1796284836") == std::string::npos);
  CHECK(event_sentence("duplicate-suppressed",
                       "mailbox=bob@example.org message_id=- rule=message-id "
                       "first_seen=1796284836 partial=yes")
            .rfind("A broken-off repeat of a message for bob@example.org was accepted", 0) == 0);
}

TEST_CASE("an abnormal POP3 end counts right and says the deletion was lost") {
  const std::string one = event_sentence(
      "pop3-abnormal-end",
      "user=bob@example.org client=192.0.2.9 reason=disconnect retrieved=1 marked_deleted=1");
  CHECK(one ==
        "The mail client of bob@example.org at 192.0.2.9 disconnected without saying QUIT after "
        "downloading 1 message; its 1 deletion was lost with the missing QUIT, so that message "
        "stays on the server and may be downloaded again.");
  const std::string many = event_sentence(
      "pop3-abnormal-end",
      "user=bob@example.org client=192.0.2.9 reason=timeout retrieved=3 marked_deleted=2");
  CHECK(many.find("stopped responding and was logged out after downloading 3 messages; its 2 "
                  "deletions were lost") != std::string::npos);
  CHECK(event_sentence("pop3-abnormal-end",
                       "user= client=192.0.2.9 reason=error-limit retrieved=0 marked_deleted=0") ==
        "The mail client of (empty) at 192.0.2.9 was disconnected after too many invalid "
        "commands; it had not downloaded anything.");
}

TEST_CASE("partials, traces and unknown kinds read as sentences") {
  CHECK(event_sentence("partial-kept",
                       "mailbox=bob@example.org uid=4 message_id=- replaceable=yes") ==
        "A message for bob@example.org broke off during the transfer; the part received was "
        "kept as message 4, labelled partial, and the complete copy will replace it when the "
        "sender retries.");
  CHECK(event_sentence("partial-superseded",
                       "mailbox=bob@example.org uid=4 message_id=<m@x> removed=yes") ==
        "The complete copy of a message for bob@example.org (Message-ID <m@x>) arrived, so the "
        "partial copy (message 4) was removed.");
  CHECK(event_sentence("partial-superseded",
                       "mailbox=b@x uid=4 message_id=- removed=no "
                       "reason=already-retrieved")
            .find("had already been downloaded, so both were kept") != std::string::npos);
  CHECK(event_sentence("partial-discarded",
                       "peer=127.0.0.1 bytes=300 message_id=<m@x> reason=connection_lost") ==
        "A message from 127.0.0.1 (Message-ID <m@x>) broke off after 300 bytes (the connection "
        "was lost) and was discarded; the sender keeps it and will try again.");
  CHECK(event_sentence("auto-trace",
                       "peer=192.0.2.7 hops=7 reached=yes loss=0 rtt_ms=23.4 path=a,b") ==
        "After a broken session, the path to 192.0.2.7 was traced: reached in 7 hops, last hop "
        "23.4 ms, 0% loss.");
  CHECK(event_sentence("something-new", "a=b") == "something-new: a=b");
}

TEST_CASE("fields with spaces survive the round trip") {
  const std::string text = event_field("by", "cli") + " " + event_field("to", "a \"b\" c\\") + " " +
                           event_field("from", "");
  CHECK(text == R"(by=cli to="a \"b\" c\\" from="")");
  auto fields = event_fields(text + " stray key=v");
  REQUIRE(fields.size() == 4);
  CHECK(fields[1].second == "a \"b\" c\\");
  CHECK(fields[2].second.empty());
  CHECK(fields[3] == std::pair<std::string, std::string>{"key", "v"});
}

TEST_CASE("--json lines are stable, one object per event, with the raw text") {
  postern::store::Event e;
  e.time = 1796284836;
  e.seq = 42;
  e.kind = "duplicate-suppressed";
  e.text = "mailbox=bob@example.org first_seen=1796284000 odd=\xff";
  const std::string line = event_json(e);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.rfind(R"({"time":1796284836,"seq":42,"kind":"duplicate-suppressed","fields":{)", 0) ==
        0);
  auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["fields"]["first_seen"] == "1796284000");
  CHECK(parsed["fields"]["odd"] == "\xef\xbf\xbd");  // not UTF-8: U+FFFD
  CHECK(parsed["text"].get<std::string>().rfind("mailbox=bob@example.org", 0) == 0);
}
