// http::Backend: what the status page's API needs from the appliance, as an
// interface, so every handler is unit-tested with a fake and no libuv.
//
// Implemented by app/http_service.cpp over the real store, Writer, executor and
// Settings. All calls come from the loop thread. Reads answer synchronously
// (short read txns); changes answer through `done`, later, on the loop thread
// (store writes go through the Writer, hashing through the executor), or
// synchronously when validation fails first. Errors are sentences for the owner.
//
// Typical sequence for a change: Api validates the shape of the input, then
// backend.add_user("bob@example.org", "secret...", done) -> hash on the pool ->
// Writer job -> done({}) or done("no such domain: add it first").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace postern::http {

// A user-facing message: what is wrong and what to do.
using Problem = std::string;
using Done = std::function<void(core::Result<void, Problem>)>;

// The store's exact ledger counters (events are trimmed, these are not).
struct LedgerCounts {
  std::uint64_t duplicates_suppressed = 0, partials_discarded = 0, partials_kept = 0,
                partials_superseded = 0;
};

struct Overview {
  std::string version;
  std::string board;
  std::string hostname;
  std::int64_t started_at = 0;  // unix seconds
  std::int64_t now = 0;
  std::uint64_t memory_rss_bytes = 0;  // VmRSS from /proc/self/status; 0 if unknown
  std::uint64_t map_used_bytes = 0, map_bytes = 0;
  std::uint64_t disk_free_bytes = 0, disk_total_bytes = 0;  // statvfs of the data dir
  std::uint64_t messages = 0, users = 0, domains = 0;
  // Open connections per service ("smtp", "pop3", "http", ...).
  std::vector<std::pair<std::string, std::uint64_t>> connections;
  // Since local midnight; nullopt when the appliance does not count it.
  std::optional<std::uint64_t> received_today, retrieved_today;
  std::vector<std::pair<std::string, std::uint16_t>> ports;  // bound ports by name
  // When present, used instead of counting events for the health counters.
  std::optional<LedgerCounts> ledger;
  // The loop-lag probe: the largest timer delay since the previous status read,
  // and since start. nullopt: no probe.
  std::optional<double> loop_lag_max_ms, loop_lag_max_total_ms;
};

struct DomainView {
  std::string name;
  std::string dedup_rule;  // "content", "content-or-message-id" or "off"
};

struct UserView {
  std::string address;
  std::uint32_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t quota_bytes = 0;  // 0: unlimited
};

struct EventView {
  std::int64_t time = 0;
  std::string kind;
  std::string text;  // key=value pairs, already printable()
};

struct SettingView {
  std::string key;
  std::string value;
  bool editable = false;       // a runtime key, saved in the store
  bool needs_restart = false;  // saved now, used from the next start
};

struct Backend {
  virtual ~Backend() = default;

  // --- reads (synchronous) ---
  virtual Overview overview() = 0;
  virtual core::Result<std::vector<DomainView>, Problem> domains() = 0;
  virtual core::Result<std::vector<UserView>, Problem> users() = 0;
  virtual core::Result<std::vector<EventView>, Problem> events(std::size_t limit) = 0;
  virtual std::vector<SettingView> settings() = 0;
  virtual std::string hostname() = 0;  // the configured name, for the Host check
  virtual bool admin_password_set() = 0;
  // 32 lowercase hex digits from the system's CSPRNG (128 bits).
  virtual std::string random_token() = 0;

  // --- admin password ---
  // PBKDF2 verification on the thread pool; false also when none is set.
  virtual void verify_admin_password(std::string password, std::function<void(bool)> done) = 0;
  // Hashes on the pool and saves it (store setting admin_password_hash).
  virtual void set_admin_password(std::string password, Done done) = 0;

  // --- catalogue ---
  virtual void add_domain(std::string name, std::string dedup_rule, Done done) = 0;
  virtual void remove_domain(std::string name, Done done) = 0;
  virtual void set_domain_dedup(std::string name, std::string dedup_rule, Done done) = 0;
  virtual void add_user(std::string address, std::string password, Done done) = 0;
  virtual void remove_user(std::string address, Done done) = 0;
  virtual void set_user_password(std::string address, std::string password, Done done) = 0;

  // --- configuration ---
  // Validates every change with app::apply() first (none is saved if one is
  // wrong), saves them in one Writer job, then applies what can change at run time.
  virtual void change_settings(std::vector<std::pair<std::string, std::string>> changes,
                               Done done) = 0;
  // Checks the pair and installs it (tls::Credentials::install); served after a restart.
  virtual void install_certificate(std::string cert_pem, std::string key_pem, Done done) = 0;
};

}  // namespace postern::http
