// `postern set` (every value with its origin and when a change applies; save
// one through the admin layer) and `postern events` (sentences or JSON lines).
#include <cstdio>
#include <ctime>

#include "app/cli_verbs.h"
#include "app/config.h"
#include "app/event_text.h"
#include "store/events.h"

namespace postern::app {
namespace {

std::string origin_text(const Settings& settings, std::string_view key) {
  const Origin origin = settings.origin_of(key);
  if (origin == Origin::board) return "board " + settings.board;
  return to_string(origin);
}

// When a saved change reaches a running postern.
const char* when_applied(std::string_view key) {
  if (!is_runtime_key(key)) return "fixed at start (board profile or command line)";
  return applies_live(key) ? "on SIGHUP, or at once from the page" : "after a restart";
}

int list_settings(const Settings& settings) {
  std::printf("%-24s %-22s %-16s %s\n", "setting", "value", "from", "a saved change applies");
  for (const auto& [key, value] : describe(settings)) {
    std::printf("%-24s %-22s %-16s %s\n", key.c_str(), value.empty() ? "(empty)" : value.c_str(),
                origin_text(settings, key).c_str(), when_applied(key));
  }
  return 0;
}

int show_setting(const Settings& settings, const std::string& key) {
  for (const auto& [k, value] : describe(settings)) {
    if (k != key) continue;
    std::printf("%s = %s\n  from: %s\n  a saved change applies: %s\n  %s\n", key.c_str(),
                value.empty() ? "(empty)" : value.c_str(), origin_text(settings, key).c_str(),
                when_applied(key), std::string(help(key)).c_str());
    return 0;
  }
  return fail("unknown setting '" + key + "': see `postern set` for the list");
}

}  // namespace

int set_command(Admin& admin, const Settings& settings, const CommandLine& cl) {
  if (cl.positional.empty()) return list_settings(settings);
  if (cl.positional.size() == 1) return show_setting(settings, cl.positional[0]);
  if (cl.positional.size() != 2) return usage_error("use `postern set KEY VALUE`");
  SettingsAnswer answer;
  admin.change_settings({{cl.positional[0], cl.positional[1]}},
                        [&](SettingsAnswer a) { answer = std::move(a); });
  if (!answer.ok) return fail(answer.sentence);
  std::printf("%s\n", answer.sentence.c_str());
  return 0;
}

int events_command(store::Env& env, const CommandLine& cl) {
  std::size_t limit = 50;
  if (auto l = cl.options.find("limit"); l != cl.options.end()) {
    char* end = nullptr;
    limit = std::strtoul(l->second.c_str(), &end, 10);
    if (end == l->second.c_str() || *end != '\0' || limit == 0)
      return usage_error("--limit takes a positive number");
  }
  if (!cl.positional.empty()) return usage_error("use `postern events [--limit N] [--json]`");
  const bool json = cl.options.count("json") != 0;
  auto txn = env.begin_read();
  if (!txn) return fail(explain(txn.error()));
  auto events = store::query_events(*txn, limit);
  if (!events) return fail(explain(events.error()));
  for (const auto& e : *events) {
    if (json) {
      std::printf("%s\n", event_json(e).c_str());
      continue;
    }
    const std::time_t t = static_cast<std::time_t>(e.time);
    std::tm tm{};
    localtime_r(&t, &tm);
    char when[48];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", &tm);
    std::printf("%s  %s\n", when, event_sentence(e.kind, e.text).c_str());
  }
  return 0;
}

}  // namespace postern::app
