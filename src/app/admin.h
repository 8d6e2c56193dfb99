// The administrative verbs, written once for the command line and the status page.
//
// Each verb checks its input, changes the store in ONE write transaction that
// also records an "admin" event naming the front-end (cli or page), and answers
// with one sentence: what was done, or what is wrong and what to do. The
// front-ends only parse their input and show the answer.
//
// Typical sequence (the page's backend):
//   Admin admin(env, runner, Actor::page, settings);
//   admin.add_user("bob@example.org", password, 0, [](Answer a) { show a.sentence; });
//   -> runner.hash() -> runner.write(job) -> done(answer)
// The command line's InPlaceRunner hashes and writes on the calling thread, so
// there `done` has run when the verb returns.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/settings.h"
#include "store/catalogue.h"
#include "store/env.h"

namespace postern::app {

enum class Actor { cli, page };
const char* to_string(Actor actor);  // "cli", "page"

// The kind of the event every verb records with its change.
inline constexpr const char* kAdminEventKind = "admin";
// A value the owner typed, as an answer quotes it: printable, at most 100 bytes.
std::string quoted_input(std::string_view text);

// One sentence for the owner, lower case first, no final period: what was done
// (ok) or what is wrong and what to do.
struct Answer {
  bool ok = false;
  std::string sentence;
};
using AnswerFn = std::function<void(Answer)>;

// How the verbs reach the store and the hasher.
class AdminRunner {
 public:
  using Job = std::function<core::Result<void>(store::WriteTxn&)>;
  virtual ~AdminRunner() = default;
  // Runs `job` in one write transaction, commits it, then calls `done`.
  virtual void write(Job job, std::function<void(core::Result<void>)> done) = 0;
  // store::hash_password(password, iterations), then `done` with the hash.
  virtual void hash(std::string password, unsigned iterations,
                    std::function<void(std::string)> done) = 0;
  virtual std::int64_t now() = 0;  // unix seconds, for the event
};

// The command line's runner: store::run_write and PBKDF2 on the calling thread.
class InPlaceRunner final : public AdminRunner {
 public:
  explicit InPlaceRunner(store::Env& env) : env_(env) {}  // borrows env
  void write(Job job, std::function<void(core::Result<void>)> done) override;
  void hash(std::string password, unsigned iterations,
            std::function<void(std::string)> done) override;
  std::int64_t now() override;

 private:
  store::Env& env_;
};

// One setting that changed, in text form.
struct SettingChange {
  std::string key, from, to;
};

struct SettingsAnswer {
  bool ok = false;
  std::string sentence;
  Settings next;                       // the settings with every change applied (when ok)
  std::vector<SettingChange> changed;  // the values that differ from before
};

// The one check of a settings change, from the page or the command line: each
// key must be a runtime key and each value valid (app::apply()), or nothing is
// taken. `current` is the running Settings; the answer's `next` has Origin::saved
// for each changed key.
SettingsAnswer validate_settings(const Settings& current,
                                 const std::vector<std::pair<std::string, std::string>>& changes);

// A saved setting a running postern does not use yet: only a restart binds it.
struct PendingSetting {
  std::string key;
  std::string running;  // the value the process started with
  std::string saved;    // the value it will use after a restart
};
// `started`: the Settings the process bound its listeners with; `current`:
// the running Settings after the latest reload or change. For the page's
// restart banner and the reload log line.
std::vector<PendingSetting> settings_waiting_for_restart(const Settings& started,
                                                         const Settings& current);

class Admin {
 public:
  static constexpr std::size_t kMinPassword = 8;
  static constexpr std::size_t kMaxPassword = 1024;

  // Borrows everything; it must outlive the Admin and every pending answer.
  // `settings` is read at each call: a new domain's duplicate rule, the PBKDF2 cost.
  Admin(store::Env& env, AdminRunner& runner, Actor actor, const Settings& settings)
      : env_(env), runner_(runner), actor_(actor), settings_(settings) {}

  void add_user(std::string_view address, std::string password, std::uint64_t quota_bytes,
                AnswerFn done);
  void del_user(std::string_view address, AnswerFn done);
  void set_password(std::string_view address, std::string password, AnswerFn done);

  // An empty `rule` is the dedup_rule setting.
  void add_domain(std::string_view name, std::string_view rule, AnswerFn done);
  void del_domain(std::string_view name, AnswerFn done);
  void set_domain_rule(std::string_view name, std::string_view rule, AnswerFn done);

  void add_alias(std::string_view address, std::string_view target, AnswerFn done);
  void del_alias(std::string_view address, AnswerFn done);

  // validate_settings(), then every value saved and an event for each one that
  // changed, in one transaction. The caller applies `next` when ok.
  void change_settings(std::vector<std::pair<std::string, std::string>> changes,
                       std::function<void(SettingsAnswer)> done);

  // Reads (a short read transaction each); the error is a sentence.
  core::Result<std::vector<store::UserSummary>, std::string> list_users();
  core::Result<std::vector<store::DomainInfo>, std::string> list_domains();
  core::Result<std::vector<std::pair<std::string, std::string>>, std::string> list_aliases();

 private:
  using Translate = std::function<std::string(const core::Error&)>;
  // Runs `job` and appends the admin event `fields` in the same transaction.
  void write(std::string fields, AdminRunner::Job job, std::string done_sentence,
             Translate translate, AnswerFn done);
  std::string actor_fields(std::string_view action) const;

  store::Env& env_;
  AdminRunner& runner_;
  Actor actor_;
  const Settings& settings_;
};

}  // namespace postern::app
