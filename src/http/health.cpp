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

std::string explain_abnormal_end(std::string_view reason) {
  if (reason == "timeout")
    return "The mail client stopped responding and the session timed out, so nothing was "
           "removed and the same messages will be downloaded again. Check the client's network "
           "connection (see Diagnostics).";
  if (reason == "error-limit")
    return "The mail client sent too many invalid commands and was disconnected, so nothing "
           "was removed. Check that the client is set up for POP3 on this port.";
  if (reason == "update-failed" || reason == "store-error")
    return "The client said QUIT but postern could not save the deletions, so the same "
           "messages will be downloaded again. Check free disk space on the Overview.";
  return "The mail client disconnected without sending QUIT, so nothing was removed and the "
         "same messages will be downloaded again. Check the client's 'leave on server' setting "
         "and the network (see Diagnostics).";
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
      if (e.time >= g.last_time) {
        g.last_time = e.time;
        g.last_reason = field_of(e.text, "reason");
      }
      std::string retrieved = field_of(e.text, "retrieved");
      std::uint64_t n = 0;
      std::from_chars(retrieved.data(), retrieved.data() + retrieved.size(), n);
      g.retrieved_not_removed += n;
    }
  }
  std::stable_sort(traces.begin(), traces.end(),
                   [](const AutoTraceView& a, const AutoTraceView& b) { return a.time > b.time; });
  for (auto& [key, g] : groups) {
    g.explanation = explain_abnormal_end(g.last_reason);
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
