// Event sentences and JSON lines: the only place an event kind becomes words.
#include "app/event_text.h"

#include <charconv>
#include <ctime>

#include <nlohmann/json.hpp>

#include "address/address.h"
#include "app/settings.h"

namespace postern::app {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string get(const Fields& fields, std::string_view key) {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return {};
}

std::uint64_t number(const Fields& fields, std::string_view key) {
  const std::string text = get(fields, key);
  std::uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// "1 message", "2 messages".
std::string count(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// A message id as the owner may search for it, or nothing when there was none.
std::string message_id_note(const Fields& fields) {
  const std::string id = get(fields, "message_id");
  return id.empty() || id == "-" ? std::string() : " (Message-ID " + id + ")";
}

std::string or_empty(const std::string& value) {
  return value.empty() ? "(empty)" : value;
}

std::string duplicate_suppressed(const Fields& f) {
  const std::string when = local_time_text(static_cast<std::int64_t>(number(f, "first_seen")));
  const std::string how =
      get(f, "rule") == "message-id" ? "the same Message-ID" : "the same content";
  std::string s = get(f, "partial") == "yes" ? "A broken-off repeat of a message for "
                                             : "A repeat of a message for ";
  return s + get(f, "mailbox") + message_id_note(f) +
         " was accepted but not stored again: the first copy, with " + how + ", arrived " + when +
         ".";
}

std::string partial_kept(const Fields& f) {
  std::string s = "A message for " + get(f, "mailbox") + message_id_note(f) +
                  " broke off during the transfer; the part received was kept as message " +
                  get(f, "uid") + ", labelled partial";
  return s + (get(f, "replaceable") == "yes"
                  ? ", and the complete copy will replace it when the sender retries."
                  : "; delete it when you have the message another way.");
}

std::string partial_superseded(const Fields& f) {
  std::string s =
      "The complete copy of a message for " + get(f, "mailbox") + message_id_note(f) + " arrived";
  if (get(f, "removed") == "yes")
    return s + ", so the partial copy (message " + get(f, "uid") + ") was removed.";
  return s + "; the partial copy (message " + get(f, "uid") +
         ") had already been downloaded, so both were kept.";
}

std::string partial_discarded(const Fields& f) {
  const std::string reason = get(f, "reason");
  const char* why = reason == "timeout" ? "the sender went silent" : "the connection was lost";
  return "A message from " + get(f, "peer") + message_id_note(f) + " broke off after " +
         count(number(f, "bytes"), "byte", "bytes") + " (" + why +
         ") and was discarded; the sender keeps it and will try again.";
}

// RFC 1939 §6: messages marked by DELE are removed only in the UPDATE state, after QUIT.
std::string pop3_abnormal_end(const Fields& f) {
  const std::string reason = get(f, "reason");
  const std::uint64_t retrieved = number(f, "retrieved");
  const std::uint64_t marked = number(f, "marked_deleted");
  std::string how;
  if (reason == "timeout")
    how = "stopped responding and was logged out";
  else if (reason == "error-limit")
    how = "was disconnected after too many invalid commands";
  else if (reason == "update-failed")
    how = "said QUIT, but postern could not save the deletions";
  else if (reason == "store-error")
    how = "was disconnected because a message could not be read";
  else
    how = "disconnected without saying QUIT";
  std::string s =
      "The mail client of " + or_empty(get(f, "user")) + " at " + get(f, "client") + " " + how;
  if (retrieved == 0 && marked == 0) return s + "; it had not downloaded anything.";
  s += " after downloading " + count(retrieved, "message", "messages");
  if (marked > 0) {
    s += "; its " + count(marked, "deletion was", "deletions were") +
         " lost with the missing QUIT, so " + (marked == 1 ? "that message stays" : "they stay") +
         " on the server and may be downloaded again";
  } else {
    s += "; nothing was marked for deletion, so the messages stay on the server";
  }
  return s + ".";
}

std::string auto_trace(const Fields& f) {
  std::string s = "After a broken session, the path to " + get(f, "peer") + " was traced: ";
  const std::string hops = count(number(f, "hops"), "hop", "hops");
  if (get(f, "reached") == "yes") {
    s += "reached in " + hops;
  } else {
    s += "not reached (" + hops + ")";
  }
  const std::string rtt = get(f, "rtt_ms");
  s += rtt.empty() || rtt == "-" ? ", the last hop silent" : ", last hop " + rtt + " ms";
  s += ", " + get(f, "loss") + "% loss";
  if (const std::string error = get(f, "error"); !error.empty()) s += " (" + error + ")";
  return s + ".";
}

std::string admin(const Fields& raw) {
  // Names as people read them: U-labels for an IDN (src/address).
  Fields f = raw;
  for (auto& [key, value] : f) {
    if (key == "address" || key == "target") value = address::display_address(value);
    if (key == "domain") value = address::display_domain(value);
  }
  const std::string action = get(f, "action");
  std::string s = "Admin (" + get(f, "by") + ") ";
  if (action == "set") {
    const std::string key = get(f, "key");
    s += "changed " + key + " from " + or_empty(get(f, "from")) + " to " + or_empty(get(f, "to"));
    return s + (applies_live(key) ? "." : "; a running postern uses it after a restart.");
  }
  if (action == "user-add") return s + "added the mailbox " + get(f, "address") + ".";
  if (action == "user-del")
    return s + "removed the mailbox " + get(f, "address") + " and its mail.";
  if (action == "user-passwd") return s + "changed the password of " + get(f, "address") + ".";
  if (action == "domain-add")
    return s + "added the domain " + get(f, "domain") + " (duplicate rule " + get(f, "rule") + ").";
  if (action == "domain-del") return s + "removed the domain " + get(f, "domain") + ".";
  if (action == "domain-rule")
    return s + "changed the duplicate rule of " + get(f, "domain") + " from " + get(f, "from") +
           " to " + get(f, "to") + ".";
  if (action == "alias-add")
    return s + "routed " + get(f, "address") + " to " + get(f, "target") + ".";
  if (action == "alias-del") return s + "removed the alias " + get(f, "address") + ".";
  if (action == "collect-add")
    return s + "added collect account " + get(f, "account") + " from " + get(f, "host") + " into " +
           get(f, "address") + ".";
  if (action == "collect-del") return s + "removed collect account " + get(f, "account") + ".";
  if (action == "collect-pin")
    return s + "pinned the server certificate of collect account " + get(f, "account") + ".";
  return s + action + ".";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> event_fields(std::string_view text) {
  Fields out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t eq = text.find('=', i);
    const std::size_t space = text.find(' ', i);
    if (eq == std::string_view::npos || (space != std::string_view::npos && space < eq)) {
      i = space;  // a word without '=': not a field
      if (space == std::string_view::npos) break;
      continue;
    }
    std::string key(text.substr(i, eq - i));
    std::string value;
    i = eq + 1;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i]);
      }
      ++i;  // the closing quote
    } else {
      const std::size_t end = std::min(text.find(' ', i), text.size());
      value = std::string(text.substr(i, end - i));
      i = end;
    }
    if (!key.empty()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string event_field(std::string_view key, std::string_view value) {
  std::string out(key);
  out += '=';
  if (!value.empty() && value.find_first_of(" \"\\") == std::string_view::npos) {
    out += value;
    return out;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string local_time_text(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[64];
  if (std::strftime(text, sizeof text, "%Y-%m-%d %H:%M %Z", &tm) == 0) return "?";
  return text;
}

std::string event_sentence(std::string_view kind, std::string_view text) {
  const Fields f = event_fields(text);
  if (kind == "duplicate-suppressed") return duplicate_suppressed(f);
  if (kind == "partial-kept") return partial_kept(f);
  if (kind == "partial-superseded") return partial_superseded(f);
  if (kind == "partial-discarded") return partial_discarded(f);
  if (kind == "pop3-abnormal-end") return pop3_abnormal_end(f);
  if (kind == "auto-trace") return auto_trace(f);
  if (kind == "admin") return admin(f);
  return std::string(kind) + ": " + std::string(text);
}

std::string event_json(const store::Event& event) {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (auto& [key, value] : event_fields(event.text)) fields[key] = value;
  nlohmann::ordered_json line;
  line["time"] = event.time;
  line["seq"] = event.seq;
  line["kind"] = event.kind;
  line["fields"] = std::move(fields);
  line["text"] = event.text;
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace postern::app
