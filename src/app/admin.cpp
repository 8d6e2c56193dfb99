// The administrative verbs on the catalogue (mailboxes, domains, aliases): input
// checks, one store transaction with its event, and one sentence per outcome, for
// the command line and the page alike. Settings changes: admin_settings.cpp.
#include "app/admin.h"

#include <memory>

#include "address/address.h"
#include "app/config.h"
#include "app/event_text.h"
#include "core/clock.h"
#include "core/log.h"
#include "dedup/policy.h"
#include "store/events.h"
#include "store/password.h"

namespace postern::app {
namespace {

// A typed name as the store keys it (src/address), or what is wrong with it.
struct Name {
  std::string key;      // canonical; empty when refused
  std::string problem;  // address::explain()'s sentence when refused
};

Name address_key(std::string_view typed) {
  auto mailbox = address::parse_mailbox(typed);
  if (!mailbox) return {{}, address::explain(mailbox.error())};
  return {mailbox->key(), {}};
}

Name domain_key(std::string_view typed) {
  auto domain = address::canonical_domain(typed);
  if (!domain) return {{}, address::explain(domain.error())};
  return {*domain, {}};
}

// "bücher.example (xn--bcher-kva.example)" for an IDN, the name alone otherwise.
std::string shown_domain(const std::string& key) {
  std::string readable = address::display_domain(key);
  return readable == key ? readable : readable + " (" + key + ")";
}

std::string shown_address(const std::string& key) {
  std::string readable = address::display_address(key);
  return readable == key ? readable : readable + " (" + key + ")";
}

std::string bad_rule(std::string_view raw) {
  return "unknown duplicate rule " + quoted_input(raw) +
         ": use content, content-or-message-id or off";
}

std::string password_problem(const std::string& password) {
  if (password.size() < Admin::kMinPassword)
    return "the password must have at least " + std::to_string(Admin::kMinPassword) + " characters";
  if (password.size() > Admin::kMaxPassword)
    return "the password must have at most " + std::to_string(Admin::kMaxPassword) + " characters";
  return {};
}

bool is(const core::Error& e, core::Errc code, std::string_view where) {
  return e.code == code && where == e.where;
}

}  // namespace

std::string quoted_input(std::string_view text) {
  return "'" + core::printable(text, 100) + "'";
}

const char* to_string(Actor actor) {
  return actor == Actor::page ? "page" : "cli";
}

void InPlaceRunner::write(Job job, std::function<void(core::Result<void>)> done) {
  done(store::run_write(env_, job));
}

void InPlaceRunner::hash(std::string password, unsigned iterations,
                         std::function<void(std::string)> done) {
  done(store::hash_password(password, iterations));
}

std::int64_t InPlaceRunner::now() {
  return core::unix_seconds(core::SystemClock().now());
}

std::string Admin::actor_fields(std::string_view action) const {
  return event_field("by", to_string(actor_)) + " " + event_field("action", action);
}

void Admin::write(std::string fields, AdminRunner::Job job, std::string done_sentence,
                  Translate translate, AnswerFn done) {
  const std::int64_t now = runner_.now();
  runner_.write(
      [fields = std::move(fields), job = std::move(job), now](store::WriteTxn& txn) {
        if (auto r = job(txn); !r) return r;
        return store::append_event(txn, kAdminEventKind, fields, now);
      },
      [sentence = std::move(done_sentence), translate = std::move(translate),
       done = std::move(done)](core::Result<void> r) {
        if (r) return done({true, sentence});
        done({false, translate(r.error())});
      });
}

void Admin::add_user(std::string_view raw, std::string password, std::uint64_t quota_bytes,
                     AnswerFn done) {
  const Name address = address_key(raw);
  if (address.key.empty()) return done({false, address.problem});
  if (auto problem = password_problem(password); !problem.empty()) return done({false, problem});
  std::string fields = actor_fields("user-add") + " " + event_field("address", address.key);
  runner_.hash(std::move(password), settings_.pbkdf2_iterations,
               [this, address = address.key, quota_bytes, fields = std::move(fields),
                done = std::move(done)](std::string hash) mutable {
                 write(
                     std::move(fields),
                     [address, hash = std::move(hash), quota_bytes](store::WriteTxn& txn) {
                       auto added = store::add_user(txn, address, hash, quota_bytes);
                       return added ? core::Result<void>() : core::Result<void>(added.error());
                     },
                     "added the mailbox " + shown_address(address),
                     [address](const core::Error& e) {
                       if (is(e, core::Errc::not_found, "domain"))
                         return "there is no domain " +
                                shown_domain(std::string(store::domain_of(address))) +
                                ": add the domain first";
                       if (is(e, core::Errc::exists, "user"))
                         return "the mailbox " + shown_address(address) + " already exists";
                       if (is(e, core::Errc::exists, "user-is-alias"))
                         return shown_address(address) + " is an alias: remove the alias first";
                       return explain(e);
                     },
                     std::move(done));
               });
}

namespace {
// The sentence for a verb on an existing mailbox.
std::string mailbox_problem(const std::string& address, const core::Error& e) {
  if (e.code == core::Errc::not_found) return "there is no mailbox " + shown_address(address);
  return explain(e);
}
}  // namespace

void Admin::del_user(std::string_view raw, AnswerFn done) {
  const Name address = address_key(raw);
  if (address.key.empty()) return done({false, address.problem});
  write(
      actor_fields("user-del") + " " + event_field("address", address.key),
      [address = address.key](store::WriteTxn& txn) { return store::del_user(txn, address); },
      "removed the mailbox " + shown_address(address.key) + " and its mail",
      [address = address.key](const core::Error& e) { return mailbox_problem(address, e); },
      std::move(done));
}

void Admin::set_password(std::string_view raw, std::string password, AnswerFn done) {
  const Name address = address_key(raw);
  if (address.key.empty()) return done({false, address.problem});
  if (auto problem = password_problem(password); !problem.empty()) return done({false, problem});
  std::string fields = actor_fields("user-passwd") + " " + event_field("address", address.key);
  runner_.hash(std::move(password), settings_.pbkdf2_iterations,
               [this, address = address.key, fields = std::move(fields),
                done = std::move(done)](std::string hash) mutable {
                 write(
                     std::move(fields),
                     [address, hash = std::move(hash)](store::WriteTxn& txn) {
                       return store::set_password_hash(txn, address, hash);
                     },
                     "changed the password of " + shown_address(address),
                     [address](const core::Error& e) { return mailbox_problem(address, e); },
                     std::move(done));
               });
}

void Admin::add_domain(std::string_view raw, std::string_view rule_text, AnswerFn done) {
  const Name name = domain_key(raw);
  if (name.key.empty()) return done({false, name.problem});
  auto rule =
      rule_text.empty() ? std::optional(settings_.dedup_rule) : dedup::parse_rule(rule_text);
  if (!rule) return done({false, bad_rule(rule_text)});
  const std::string rule_name = dedup::to_string(*rule);
  write(
      actor_fields("domain-add") + " " + event_field("domain", name.key) + " " +
          event_field("rule", rule_name),
      [name = name.key, rule = *rule](store::WriteTxn& txn) {
        auto added = store::add_domain(txn, name, rule);
        return added ? core::Result<void>() : core::Result<void>(added.error());
      },
      "added the domain " + shown_domain(name.key) + " (duplicate rule " + rule_name + ")",
      [name = name.key](const core::Error& e) {
        if (e.code == core::Errc::exists)
          return "the domain " + shown_domain(name) + " already exists";
        return explain(e);
      },
      std::move(done));
}

void Admin::del_domain(std::string_view raw, AnswerFn done) {
  const Name name = domain_key(raw);
  if (name.key.empty()) return done({false, name.problem});
  write(
      actor_fields("domain-del") + " " + event_field("domain", name.key),
      [name = name.key](store::WriteTxn& txn) { return store::del_domain(txn, name); },
      "removed the domain " + shown_domain(name.key),
      [name = name.key](const core::Error& e) {
        if (e.code == core::Errc::not_found) return "there is no domain " + shown_domain(name);
        if (is(e, core::Errc::exists, "domain-has-users"))
          return "the domain " + shown_domain(name) + " still has mailboxes: remove them first";
        if (is(e, core::Errc::exists, "domain-has-aliases"))
          return "the domain " + shown_domain(name) + " still has aliases: remove them first";
        return explain(e);
      },
      std::move(done));
}

void Admin::set_domain_rule(std::string_view raw, std::string_view rule_text, AnswerFn done) {
  const Name name = domain_key(raw);
  if (name.key.empty()) return done({false, name.problem});
  auto rule = dedup::parse_rule(rule_text);
  if (!rule) return done({false, bad_rule(rule_text)});
  const std::string rule_name = dedup::to_string(*rule);
  // The old rule goes into the event, read in the same transaction as the change.
  auto fields = std::make_shared<std::string>(actor_fields("domain-rule") + " " +
                                              event_field("domain", name.key));
  const std::int64_t now = runner_.now();
  runner_.write(
      [name = name.key, rule = *rule, rule_name, fields, now](store::WriteTxn& txn) {
        auto found = store::find_domain(txn, name);
        if (!found) return core::Result<void>(found.error());
        if (auto r = store::set_domain_dedup(txn, name, rule); !r) return r;
        *fields += " " + event_field("from", dedup::to_string(found->dedup)) + " " +
                   event_field("to", rule_name);
        return store::append_event(txn, kAdminEventKind, *fields, now);
      },
      [name = name.key, rule_name, done = std::move(done)](core::Result<void> r) {
        if (r)
          return done(
              {true, "the duplicate rule of " + shown_domain(name) + " is now " + rule_name});
        if (r.error().code == core::Errc::not_found)
          return done({false, "there is no domain " + shown_domain(name)});
        done({false, explain(r.error())});
      });
}

void Admin::add_alias(std::string_view raw, std::string_view raw_target, AnswerFn done) {
  const Name address = address_key(raw);
  if (address.key.empty()) return done({false, address.problem});
  const Name target = address_key(raw_target);
  if (target.key.empty()) return done({false, target.problem});
  if (address.key == target.key) return done({false, "an alias cannot point to itself"});
  write(
      actor_fields("alias-add") + " " + event_field("address", address.key) + " " +
          event_field("target", target.key),
      [address = address.key, target = target.key](store::WriteTxn& txn) {
        return store::add_alias(txn, address, target);
      },
      "routed " + shown_address(address.key) + " to " + shown_address(target.key),
      [address = address.key](const core::Error& e) {
        if (e.code == core::Errc::not_found)
          return "there is no domain " + shown_domain(std::string(store::domain_of(address))) +
                 ": add the domain first";
        if (e.code == core::Errc::exists)
          return shown_address(address) +
                 " is a mailbox: remove the mailbox first, or choose another address";
        return explain(e);
      },
      std::move(done));
}

void Admin::del_alias(std::string_view raw, AnswerFn done) {
  const Name address = address_key(raw);
  if (address.key.empty()) return done({false, address.problem});
  write(
      actor_fields("alias-del") + " " + event_field("address", address.key),
      [address = address.key](store::WriteTxn& txn) { return store::del_alias(txn, address); },
      "removed the alias " + shown_address(address.key),
      [address = address.key](const core::Error& e) {
        if (e.code == core::Errc::not_found) return "there is no alias " + shown_address(address);
        return explain(e);
      },
      std::move(done));
}

core::Result<std::vector<store::UserSummary>, std::string> Admin::list_users() {
  auto txn = env_.begin_read();
  if (!txn) return explain(txn.error());
  auto users = store::list_users(*txn);
  if (!users) return explain(users.error());
  return std::move(*users);
}

core::Result<std::vector<store::DomainInfo>, std::string> Admin::list_domains() {
  auto txn = env_.begin_read();
  if (!txn) return explain(txn.error());
  auto domains = store::list_domains(*txn);
  if (!domains) return explain(domains.error());
  return std::move(*domains);
}

core::Result<std::vector<std::pair<std::string, std::string>>, std::string> Admin::list_aliases() {
  auto txn = env_.begin_read();
  if (!txn) return explain(txn.error());
  auto aliases = store::list_aliases(*txn);
  if (!aliases) return explain(aliases.error());
  return std::move(*aliases);
}

}  // namespace postern::app
