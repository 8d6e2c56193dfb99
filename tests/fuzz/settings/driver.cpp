// libFuzzer driver for settings validation (app/settings.*): the one place a value from
// `postern set`, the page or a board profile is checked.
//
// Input: byte 0 picks the mode. Below 0x80 it names a key (byte 0 modulo the keys that
// describe() prints, plus "description" and an unknown one) and the rest is the value, as
// `postern set KEY VALUE` or POST /api/settings hands it to apply(). From 0x80 the rest is
// a whole board profile for apply_profile().
//
// Invariants: a value that validates round-trips through its printed form (describe()):
// applying the printed form to fresh settings validates and prints the same, and changes
// no other key; a value the page may change prints as one line of printable text (it is
// shown on the page and listed by `postern set`, one per line); a refused value leaves the
// settings as they were and says why; a profile that applies prints back to a profile that
// gives the same settings.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "app/settings.h"

namespace {

using namespace postern;
using Described = std::vector<std::pair<std::string, std::string>>;

void require(bool ok) {
  if (!ok) std::abort();
}

const std::string* value_of(const Described& d, std::string_view key) {
  for (const auto& [k, v] : d) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool one_printable_line(std::string_view v) {
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

void check_value(std::string_view key, std::string_view value) {
  app::Settings settings;
  const Described before = app::describe(settings);
  auto applied = app::apply(settings, key, value, app::Origin::saved);
  if (!applied) {
    require(!applied.error().empty());
    require(app::describe(settings) == before);  // a refused value changes nothing
    return;
  }
  const Described after = app::describe(settings);
  const std::string* printed = value_of(after, key);
  if (printed == nullptr) return;  // not printed (description): nothing to round-trip
  if (app::is_runtime_key(key)) require(one_printable_line(*printed));

  app::Settings fresh;
  auto again = app::apply(fresh, key, *printed, app::Origin::saved);
  require(again.has_value());
  require(app::describe(fresh) == after);
  // What was applied changed this key only.
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (after[i].first != key) require(after[i] == before[i]);
  }
}

void check_profile(std::string_view text) {
  app::Settings settings;
  if (!app::apply_profile(settings, text, "fuzz.conf")) return;
  const Described printed = app::describe(settings);
  std::string profile;
  for (const auto& [key, value] : printed) {
    if (key == "board") continue;  // chosen by --board, not a profile key
    if (value.find_first_of("#\n") != std::string::npos) return;  // not expressible
    profile += key + " = " + value + "\n";
  }
  app::Settings fresh;
  fresh.board = settings.board;
  fresh.description = settings.description;
  auto again = app::apply_profile(fresh, profile, "printed.conf");
  require(again.has_value());
  require(app::describe(fresh) == printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] >= 0x80) {
    check_profile(rest);
    return 0;
  }
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const auto& [key, value] : app::describe(app::Settings{})) out.push_back(key);
    out.push_back("description");
    out.push_back("no_such_key");
    return out;
  }();
  check_value(keys[data[0] % keys.size()], rest);
  return 0;
}
