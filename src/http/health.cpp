// Counting and grouping events for the status page's health section.
#include "http/health.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace postern::http {

std::string field_of(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    std::size_t space = text.find(' ');
    std::string_view pair = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=')
      return std::string(pair.substr(key.size() + 1));
  }
  return {};
}

namespace {

std::uint64_t number_field(std::string_view text, std::string_view key) {
  const std::string v = field_of(text, key);
  std::uint64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

// "1 message" / "4 messages".
std::string messages(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " message" : " messages");
}

// "these 4 messages stay" / "this message stays", then "them" / "it".
std::string these_stay(std::uint64_t n) {
  return n == 1 ? "this message stays" : "these " + messages(n) + " stay";
}
const char* them(std::uint64_t n) {
  return n == 1 ? "it" : "them";
}

}  // namespace

AbnormalEndFacts abnormal_end_facts(std::string_view event_text) {
  AbnormalEndFacts f;
  f.reason = field_of(event_text, "reason");
  f.mode = field_of(event_text, "mode");
  f.retrieved = number_field(event_text, "retrieved");
  f.marked_deleted = number_field(event_text, "marked_deleted");
  if (f.mode.empty()) {  // recorded before the field existed: the same rule as pop3's
    f.mode = f.marked_deleted > 0 ? "delete" : f.retrieved > 0 ? "keep" : "none";
  }
  return f;
}

// RFC 1939 §6: without QUIT there is no UPDATE, so DELE marks are forgotten; and a client
// that leaves mail on the server but never finished its session may not have recorded
// which messages it has. Either way the same messages come again: the seed's complaint.
std::string explain_abnormal_end(const AbnormalEndFacts& f) {
  if (f.reason == "update-failed" || f.reason == "store-error") {
    std::string text =
        f.reason == "update-failed"
            ? "The mail client said QUIT but postern could not save the changes"
            : "postern could not read a message while the mail client was downloading it";
    if (f.marked_deleted > 0) {
      text += ", so nothing was deleted: " + these_stay(f.marked_deleted) +
              " on the server and your client will download " + them(f.marked_deleted) +
              " again next time.";
    } else {
      text += ", so the session ended early.";
    }
    return text + " Check free disk space on the Overview.";
  }
  std::string text;
  std::string advice;
  if (f.reason == "timeout") {
    text = "The mail client stopped responding and the session timed out";
    advice = " Check the client's network connection (see Diagnostics).";
  } else if (f.reason == "error-limit") {
    text = "The mail client sent too many invalid commands and was disconnected";
    advice = " Check that the client is set up for POP3 on this port.";
  } else if (f.reason == "wrong-protocol" || f.reason == "line-flood") {
    text = "The connection sent something that is not POP3 and was closed";
    advice = " Check that only mail clients use this port.";
  } else {
    text = "The mail client disconnected without sending QUIT";
    advice = " Check the client's network connection (see Diagnostics).";
  }
  if (f.mode == "delete") {
    text += ". It had asked to delete " + messages(f.marked_deleted) +
            ", but POP3 deletes only when the client says QUIT, so nothing was removed: " +
            these_stay(f.marked_deleted) + " on the server and your client will download " +
            them(f.marked_deleted) + " again next time, because it never said QUIT.";
  } else if (f.mode == "keep") {
    text += " after downloading " + messages(f.retrieved) +
            ". It leaves mail on the server, and without QUIT it may not have noted " +
            them(f.retrieved) + " as downloaded: " + these_stay(f.retrieved) +
            " on the server and your client will offer " + them(f.retrieved) +
            " again next time, because it never said QUIT.";
  } else {
    text += " before downloading anything, so nothing changed on the server.";
  }
  return text + advice;
}

namespace {

AutoTraceView auto_trace_of(const EventView& e) {
  AutoTraceView t;
  t.time = e.time;
  t.peer = field_of(e.text, "peer");
  const std::string hops = field_of(e.text, "hops");
  std::from_chars(hops.data(), hops.data() + hops.size(), t.hops);
  t.reached = field_of(e.text, "reached") == "yes";
  t.loss = field_of(e.text, "loss");
  t.rtt_ms = field_of(e.text, "rtt_ms");
  t.path = field_of(e.text, "path");
  return t;
}

// A POP3 client may show as ::ffff:a.b.c.d; the trace was toward a.b.c.d.
bool same_peer(std::string_view client, std::string_view peer) {
  if (client.rfind("::ffff:", 0) == 0) client.remove_prefix(7);
  return !peer.empty() && client == peer;
}

}  // namespace

Health summarize(const std::vector<EventView>& events) {
  Health health;
  std::map<std::pair<std::string, std::string>, AbnormalEnds> groups;
  std::vector<AutoTraceView> traces;
  for (const EventView& e : events) {
    if (e.kind == kEventAutoTrace) {
      traces.push_back(auto_trace_of(e));
      continue;
    }
    if (e.kind == kEventDuplicate) {
      ++health.duplicates_suppressed;
    } else if (e.kind == kEventPartialDiscarded) {
      ++health.partials_discarded;
    } else if (e.kind == kEventPartialKept) {
      ++health.partials_kept;
    } else if (e.kind == kEventPartialSuperseded) {
      ++health.partials_superseded;
    } else if (e.kind == kEventAbnormalEnd) {
      std::string user = field_of(e.text, "user");
      std::string client = field_of(e.text, "client");
      AbnormalEnds& g = groups[{user, client}];
      g.user = user;
      g.client = client;
      ++g.count;
      const AbnormalEndFacts facts = abnormal_end_facts(e.text);
      // Events come newest first (key order time, seq): on a tie the first seen is newest.
      if (g.count == 1 || e.time > g.last_time) {
        g.last_time = e.time;
        g.last_reason = facts.reason;
        g.last_mode = facts.mode;
        g.last_retrieved = facts.retrieved;
        g.last_marked_deleted = facts.marked_deleted;
      }
      g.retrieved_not_removed += facts.retrieved;
    }
  }
  std::stable_sort(traces.begin(), traces.end(),
                   [](const AutoTraceView& a, const AutoTraceView& b) { return a.time > b.time; });
  for (auto& [key, g] : groups) {
    // The newest session says what happens next time.
    g.explanation = explain_abnormal_end(
        AbnormalEndFacts{g.last_reason, g.last_mode, g.last_retrieved, g.last_marked_deleted});
    for (const AutoTraceView& t : traces) {
      if (same_peer(g.client, t.peer)) {
        g.trace = t;  // the newest: traces are sorted newest first
        break;
      }
    }
    health.abnormal_ends.push_back(std::move(g));
  }
  if (traces.size() > kMaxAutoTraces) traces.resize(kMaxAutoTraces);
  health.auto_traces = std::move(traces);
  std::sort(health.abnormal_ends.begin(), health.abnormal_ends.end(),
            [](const AbnormalEnds& a, const AbnormalEnds& b) { return a.last_time > b.last_time; });
  return health;
}

}  // namespace postern::http
