// Settings from board profile, command line and store; store errors in words.
#include "app/config.h"

#include <cstring>

#include "address/address.h"
#include "app/boards.h"
#include "store/catalogue.h"
#include "store/recovery.h"

namespace postern::app {

core::Result<Settings, std::string> settings_from_command_line(const CommandLine& command_line) {
  Settings settings;
  auto board_option = command_line.options.find("board");
  std::string board = board_option == command_line.options.end() ? "host" : board_option->second;
  auto profile = find_board(board);
  if (!profile) {
    std::string known;
    for (const auto& b : embedded_boards())
      known += (known.empty() ? "" : ", ") + std::string(b.name);
    return std::string("unknown board '") + board + "'; known boards: " + known;
  }
  settings.board = board;
  if (board_option != command_line.options.end()) settings.origins["board"] = Origin::command_line;
  if (auto applied = apply_profile(settings, profile->text, "board/" + board + "/board.conf");
      !applied) {
    return applied.error();
  }
  if (auto data = command_line.options.find("data"); data != command_line.options.end()) {
    if (auto applied = apply(settings, "data_dir", data->second, Origin::command_line); !applied)
      return applied.error();
  }
  return settings;
}

store::Options store_options(const Settings& settings) {
  store::Options options;
  options.data_dir = settings.data_dir;
  options.map_bytes = settings.map_size_mb << 20;
  options.pbkdf2_iterations = settings.pbkdf2_iterations;
  return options;
}

core::Result<void, std::string> apply_saved_settings(store::Env& env, Settings& settings) {
  auto txn = env.begin_read();
  if (!txn) return explain(txn.error());
  std::string failures;
  auto walked = store::for_each(
      *txn, store::Db::meta, "setting:", [&](std::string_view key, std::string_view value) {
        key.remove_prefix(std::strlen("setting:"));
        if (!is_runtime_key(key)) return true;
        if (auto applied = apply(settings, key, value, Origin::saved); !applied) {
          failures += "saved setting ignored: " + applied.error() + "\n";
        }
        return true;
      });
  if (!walked) return explain(walked.error());
  if (!failures.empty()) return failures;
  return {};
}

core::Result<std::unique_ptr<store::Env>, std::string> open_store(Settings& settings,
                                                                  bool recover) {
  store::Options options = store_options(settings);
  auto env = store::Env::open(options);
  if (!env) {
    return "cannot open the store in " + settings.data_dir + ": " + explain(env.error());
  }
  if (recover) {
    if (auto recovered = store::recover(**env); !recovered) {
      return "cannot recover the store in " + settings.data_dir + ": " + explain(recovered.error());
    }
  }
  if (auto saved = apply_saved_settings(**env, settings); !saved) return saved.error();
  // A map size saved in the store (to grow a store that outgrew the board's) wins; no
  // transaction is live yet, as mdb_env_set_mapsize requires.
  if ((settings.map_size_mb << 20) != options.map_bytes) {
    if (auto resized = (*env)->set_map_bytes(settings.map_size_mb << 20); !resized)
      return "cannot resize the store's map: " + explain(resized.error());
  }
  // Saved pbkdf2_iterations may differ from the board's: new hashes use the saved one.
  return std::move(*env);
}

std::string explain(const core::Error& error) {
  std::string where = error.where;
  std::string sys = error.sys != 0 ? " (" + std::to_string(error.sys) + ")" : "";
  switch (error.code) {
    case core::Errc::full:
      if (where == "quota") return "the mailbox is over its quota: delete mail or raise the quota";
      return "the store or disk is full (" + where + "): free space or raise map_size_mb" + sys;
    case core::Errc::not_found:
      if (where.find("domain") != std::string::npos)
        return "no such domain: add it first with `postern domain add NAME`";
      if (where.find("user") != std::string::npos) return "no such user: see `postern user list`";
      return "not found (" + where + ")";
    case core::Errc::exists:
      if (where == "domain") return "that domain already exists: see `postern domain list`";
      if (where == "user") return "that user already exists: see `postern user list`";
      if (where == "user-is-alias")
        return "that address is already an alias: see `postern alias list`";
      if (where == "alias-is-user")
        return "that address is already a user: see `postern user list`";
      if (where == "domain-has-users")
        return "the domain still has users or aliases: remove them first (`postern user list`)";
      return "already exists (" + where + ")";
    case core::Errc::invalid:
      // Callers that hold the text say more with address::explain(); this is the fallback.
      if (const char* reason = address::reason_for_where(where)) {
        const bool domain = where.rfind("domain", 0) == 0;
        return std::string(domain ? "not a valid domain name: " : "not a valid address: ") + reason;
      }
      if (where == "alias-loop") return "an alias cannot point to itself";
      return "invalid input (" + where + ")";
    case core::Errc::busy:
      return "the store is busy (" + where + "): too many readers; is another postern running?";
    case core::Errc::corrupt:
      return "the store is damaged or from a newer postern (" + where +
             "): restore a backup or upgrade" + sys;
    case core::Errc::fatal:
      return "the store failed and must be reopened (" + where + ")" + sys;
    case core::Errc::io:
    case core::Errc::denied:
    case core::Errc::tls:
      break;
  }
  return std::string(core::to_string(error.code)) + " error in " + where + sys +
         (error.sys > 0 ? std::string(": ") + std::strerror(error.sys) : "");
}

}  // namespace postern::app
