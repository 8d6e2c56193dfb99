// The settings verbs of the admin layer: one check of a change for the page and
// the command line, the sentence it answers, and the keys waiting for a restart.
#include "app/admin.h"

#include <memory>

#include "app/config.h"
#include "app/event_text.h"
#include "store/events.h"

namespace postern::app {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// What a settings change says: what was saved, what applies when.
std::string settings_sentence(Actor actor,
                              const std::vector<std::pair<std::string, std::string>>& changes) {
  std::vector<std::string> saved, live, restart;
  for (const auto& [key, value] : changes) {
    saved.push_back(key + " = " + (value.empty() ? "(empty)" : value));
    (applies_live(key) ? live : restart).push_back(key);
  }
  std::string s = "saved " + join(saved);
  if (!live.empty()) {
    s += actor == Actor::page ? "; " + join(live) + " now in use"
                              : "; a running postern applies " + join(live) + " on SIGHUP";
  }
  if (!restart.empty()) {
    s += "; a running postern uses " + join(restart) +
         " only after a restart (ports and connection limits are bound at start)";
  }
  return s;
}

}  // namespace

SettingsAnswer validate_settings(const Settings& current,
                                 const std::vector<std::pair<std::string, std::string>>& changes) {
  SettingsAnswer answer;
  answer.next = current;
  if (changes.empty()) {
    answer.sentence = "nothing to change";
    return answer;
  }
  for (const auto& [key, value] : changes) {
    if (!is_runtime_key(key)) {
      answer.sentence =
          help(key).empty()
              ? "unknown setting " + quoted_input(key) + ": see `postern set` for the list"
              : key + " comes from the board profile or the command line and cannot be saved";
      return answer;
    }
    if (auto applied = apply(answer.next, key, value, Origin::saved); !applied) {
      answer.sentence = applied.error();
      return answer;
    }
  }
  const auto before = describe(current);
  const auto after = describe(answer.next);
  for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
    if (before[i].second != after[i].second)
      answer.changed.push_back({after[i].first, before[i].second, after[i].second});
  }
  answer.ok = true;
  return answer;
}

std::vector<PendingSetting> settings_waiting_for_restart(const Settings& started,
                                                         const Settings& current) {
  const auto running = describe(started);
  const auto saved = describe(current);
  std::vector<PendingSetting> out;
  for (const std::string& key : waiting_for_restart(started, current)) {
    PendingSetting p{key, {}, {}};
    for (const auto& [k, v] : running) {
      if (k == key) p.running = v;
    }
    for (const auto& [k, v] : saved) {
      if (k == key) p.saved = v;
    }
    out.push_back(std::move(p));
  }
  return out;
}

void Admin::change_settings(std::vector<std::pair<std::string, std::string>> changes,
                            std::function<void(SettingsAnswer)> done) {
  SettingsAnswer answer = validate_settings(settings_, changes);
  if (!answer.ok) return done(std::move(answer));
  // The text the value has in Settings (e.g. "yes" for "on") is what is saved.
  const auto described = describe(answer.next);
  for (auto& [key, value] : changes) {
    for (const auto& [k, v] : described) {
      if (k == key) value = v;
    }
  }
  answer.sentence = settings_sentence(actor_, changes);
  std::vector<std::string> events;
  for (const SettingChange& c : answer.changed) {
    events.push_back(actor_fields("set") + " " + event_field("key", c.key) + " " +
                     event_field("from", c.from) + " " + event_field("to", c.to));
  }
  const std::int64_t now = runner_.now();
  auto shared = std::make_shared<SettingsAnswer>(std::move(answer));
  runner_.write(
      [changes = std::move(changes), events = std::move(events), now](store::WriteTxn& txn) {
        for (const auto& [key, value] : changes) {
          if (auto r = store::set_setting(txn, key, value); !r) return r;
        }
        for (const std::string& text : events) {
          if (auto r = store::append_event(txn, kAdminEventKind, text, now); !r) return r;
        }
        return core::Result<void>();
      },
      [shared, done = std::move(done)](core::Result<void> r) {
        if (!r) {
          shared->ok = false;
          shared->sentence = "nothing was saved: " + explain(r.error());
        }
        done(std::move(*shared));
      });
}

}  // namespace postern::app
