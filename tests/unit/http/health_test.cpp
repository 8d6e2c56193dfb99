// Grouping abnormal POP3 ends and counting dedup events.
#include "http/health.h"

#include <doctest/doctest.h>

using namespace postern::http;

TEST_CASE("Abnormal ends are grouped per user and client with totals and the last reason") {
  std::vector<EventView> events = {
      {300, "pop3-abnormal-end",
       "user=bob@example.org client=192.168.1.20 reason=timeout retrieved=2 marked_deleted=2"},
      {200, "duplicate-suppressed", "mailbox=bob@example.org"},
      {150, "pop3-abnormal-end",
       "user=ann@example.org client=192.168.1.30 reason=disconnect retrieved=0 marked_deleted=0"},
      {100, "pop3-abnormal-end",
       "user=bob@example.org client=192.168.1.20 reason=disconnect retrieved=3 marked_deleted=3"},
      {90, "partial-discarded", ""},
      {80, "partial-kept", ""},
      {70, "partial-superseded", ""},
      {60, "partial-kept", ""},
  };
  Health h = summarize(events);
  CHECK(h.duplicates_suppressed == 1);
  CHECK(h.partials_discarded == 1);
  CHECK(h.partials_kept == 2);
  CHECK(h.partials_superseded == 1);
  REQUIRE(h.abnormal_ends.size() == 2);
  const AbnormalEnds& bob = h.abnormal_ends[0];
  CHECK(bob.user == "bob@example.org");
  CHECK(bob.client == "192.168.1.20");
  CHECK(bob.count == 2);
  CHECK(bob.last_time == 300);
  CHECK(bob.last_reason == "timeout");
  CHECK(bob.retrieved_not_removed == 5);
  CHECK(bob.explanation.find("timed out") != std::string::npos);
  CHECK(h.abnormal_ends[1].explanation.find("without sending QUIT") != std::string::npos);
}

TEST_CASE("field_of finds a key only as a whole key") {
  CHECK(field_of("user=a client=b", "client") == "b");
  CHECK(field_of("xuser=a user=c", "user") == "c");
  CHECK(field_of("user=a", "client").empty());
}

TEST_CASE("Auto-traces are listed newest first and paired with the client's abnormal end") {
  std::vector<EventView> events = {
      {900, "auto-trace", "peer=203.0.113.9 hops=8 reached=yes loss=0 rtt_ms=23.4 path=a,b"},
      {800, "pop3-abnormal-end", "user=bob@x client=::ffff:192.168.1.20 reason=timeout"},
      {700, "auto-trace",
       "peer=192.168.1.20 hops=2 reached=no loss=100 rtt_ms=- path=192.168.1.1,*"},
      {600, "auto-trace", "peer=192.168.1.20 hops=1 reached=yes loss=0 rtt_ms=0.4 path=x"},
  };
  Health h = summarize(events);
  REQUIRE(h.auto_traces.size() == 3);
  CHECK(h.auto_traces[0].peer == "203.0.113.9");
  CHECK(h.auto_traces[0].reached);
  CHECK(h.auto_traces[0].hops == 8);
  CHECK(h.auto_traces[0].rtt_ms == "23.4");
  CHECK(h.auto_traces[1].loss == "100");
  REQUIRE(h.abnormal_ends.size() == 1);
  REQUIRE(h.abnormal_ends[0].trace.has_value());
  CHECK(h.abnormal_ends[0].trace->time == 700);  // the newest toward that client
  CHECK(h.abnormal_ends[0].trace->path == "192.168.1.1,*");
}

TEST_CASE("At most ten auto-traces are listed") {
  std::vector<EventView> events;
  for (int i = 0; i < 15; ++i) events.push_back({i, "auto-trace", "peer=192.0.2.1 hops=1"});
  CHECK(summarize(events).auto_traces.size() == kMaxAutoTraces);
  CHECK(summarize(events).auto_traces[0].time == 14);
}

TEST_CASE(
    "The explanation says what happens next, for keep and delete clients, in singular and plural") {
  auto explain = [](std::string_view text) {
    return explain_abnormal_end(abnormal_end_facts(text));
  };
  const std::string keep4 = explain("reason=disconnect retrieved=4 marked_deleted=0 mode=keep");
  CHECK(keep4.find("after downloading 4 messages") != std::string::npos);
  CHECK(keep4.find("these 4 messages stay on the server and your client will offer them again "
                   "next time, because it never said QUIT") != std::string::npos);
  const std::string keep1 = explain("reason=timeout retrieved=1 marked_deleted=0 mode=keep");
  CHECK(keep1.find("timed out after downloading 1 message.") != std::string::npos);
  CHECK(keep1.find("this message stays on the server and your client will offer it again") !=
        std::string::npos);
  const std::string delete3 = explain("reason=disconnect retrieved=4 marked_deleted=3 mode=delete");
  CHECK(delete3.find("asked to delete 3 messages") != std::string::npos);
  CHECK(delete3.find("these 3 messages stay on the server and your client will download them "
                     "again next time, because it never said QUIT") != std::string::npos);
  const std::string delete1 = explain("reason=disconnect retrieved=1 marked_deleted=1 mode=delete");
  CHECK(delete1.find("asked to delete 1 message,") != std::string::npos);
  CHECK(delete1.find("this message stays") != std::string::npos);
  CHECK(delete1.find("1 messages") == std::string::npos);
  CHECK(explain("reason=disconnect retrieved=0 marked_deleted=0 mode=none")
            .find("before downloading anything, so nothing changed") != std::string::npos);
  // Events written before the mode field: derived from the counts.
  CHECK(abnormal_end_facts("reason=disconnect retrieved=2 marked_deleted=2").mode == "delete");
  CHECK(abnormal_end_facts("reason=disconnect retrieved=2 marked_deleted=0").mode == "keep");
  CHECK(explain("reason=update-failed retrieved=2 marked_deleted=2 mode=delete")
            .find("could not save the changes, so nothing was deleted: these 2 messages stay") !=
        std::string::npos);
}

TEST_CASE("A group is explained by its newest session") {
  std::vector<EventView> events = {
      {200, "pop3-abnormal-end",
       "user=bob@x client=10.0.0.2 reason=disconnect retrieved=4 marked_deleted=4 mode=delete"},
      {100, "pop3-abnormal-end",
       "user=bob@x client=10.0.0.2 reason=timeout retrieved=2 marked_deleted=0 mode=keep"},
  };
  Health h = summarize(events);
  REQUIRE(h.abnormal_ends.size() == 1);
  const AbnormalEnds& g = h.abnormal_ends[0];
  CHECK(g.last_mode == "delete");
  CHECK(g.last_marked_deleted == 4);
  CHECK(g.retrieved_not_removed == 6);
  CHECK(g.explanation.find("asked to delete 4 messages") != std::string::npos);
}

TEST_CASE("Two drops in the same second: the first listed (newest) explains the group") {
  std::vector<EventView> events = {
      {500, "pop3-abnormal-end",
       "user=bob@x client=10.0.0.2 reason=disconnect retrieved=2 marked_deleted=1 mode=delete"},
      {500, "pop3-abnormal-end",
       "user=bob@x client=10.0.0.2 reason=disconnect retrieved=2 marked_deleted=0 mode=keep"},
  };
  Health h = summarize(events);
  REQUIRE(h.abnormal_ends.size() == 1);
  CHECK(h.abnormal_ends[0].last_mode == "delete");
}
