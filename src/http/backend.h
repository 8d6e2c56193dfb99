// http::Backend: what the status page's API needs from the appliance, as an
// interface, so every handler is unit-tested with a fake and no libuv.
//
// Implemented by app/page_backend.h over the real store, Writer, executor and
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
#include "http/mail_summary.h"
#include "http/message.h"

namespace postern::http {

// A user-facing message: what is wrong and what to do.
using Problem = std::string;
using Done = std::function<void(core::Result<void, Problem>)>;

// The store's exact ledger counters (events are trimmed, these are not).
struct LedgerCounts {
  std::uint64_t duplicates_suppressed = 0, partials_discarded = 0, partials_kept = 0,
                partials_superseded = 0;
};

// The loop-lag probe's maxima in ms, since the previous status read and since start:
// timer delay, iteration wall time outside the poll, iteration CPU time.
struct LoopLoadView {
  double lag_max_ms, lag_max_total_ms;
  double busy_max_ms, busy_max_total_ms;
  double cpu_max_ms, cpu_max_total_ms;
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
  // In the owner's words when new mail is refused for lack of space ("Disk full: ..."); else empty.
  std::string storage_problem;
  std::uint64_t messages = 0, users = 0, domains = 0;
  // Open connections per service ("smtp", "pop3", "http", ...).
  std::vector<std::pair<std::string, std::uint64_t>> connections;
  // Since local midnight; nullopt when the appliance does not count it.
  std::optional<std::uint64_t> received_today, retrieved_today;
  std::vector<std::pair<std::string, std::uint16_t>> ports;  // bound ports by name
  // When present, used instead of counting events for the health counters.
  std::optional<LedgerCounts> ledger;
  // The loop-lag probe (app/loop_lag.h); nullopt: no probe.
  std::optional<LoopLoadView> loop_load;
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

// A saved setting that the running process does not use yet (bound at start).
struct PendingRestart {
  std::string key;      // "pop3_port", ..., or "certificate"
  std::string running;  // the value in use
  std::string saved;    // the value the next start uses
};

// One message of a mailbox, as the mailbox view lists it.
struct MessageView {
  std::uint32_t uid = 0;  // the store's per-mailbox number: the cursor and the delete key
  std::string uidl;       // RFC 1939 §7 unique-id, stable forever
  std::uint64_t size = 0;
  std::int64_t received_at = 0;
  bool partial = false;                       // a broken DATA kept as an alert
  bool retrieved = false;                     // a POP3 client RETR'd it and QUIT
  std::string retrieved_by;                   // that client's address, when recorded
  std::int64_t retrieved_at = 0;              // and when
  std::optional<std::uint32_t> duplicate_of;  // a later copy of this stored uid (same Message-ID)
  std::uint32_t suppressed_copies = 0;        // retries answered 250 and not stored again
  std::int64_t last_suppressed_at = 0;
  MailSummary summary;  // from the first bytes of the body only
};

struct MailboxPage {
  std::string address;
  std::uint32_t total = 0;  // messages in the mailbox
  std::uint64_t bytes = 0;
  std::vector<MessageView> messages;         // newest first
  std::optional<std::uint32_t> next_before;  // the cursor of the next page
};

// A stored message for download: its size and its bytes, piece by piece.
struct MessageDownload {
  std::string uidl;
  std::uint64_t size = 0;
  std::function<std::optional<std::string>(std::size_t index)> piece;  // as BodyStream::next
};

struct Backend {
  virtual ~Backend() = default;

  // --- reads (synchronous) ---
  virtual Overview overview() = 0;
  virtual core::Result<std::vector<DomainView>, Problem> domains() = 0;
  virtual core::Result<std::vector<UserView>, Problem> users() = 0;
  virtual core::Result<std::vector<EventView>, Problem> events(std::size_t limit) = 0;
  virtual std::vector<SettingView> settings() = 0;
  // The event in words for the owner (app/event_text.h); plain kind and text by default.
  virtual std::string event_sentence(const EventView& event) {
    return event.kind + ": " + event.text;
  }
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

  // --- restart ---
  // Saved changes that wait for a restart (ports, connection limits, certificate).
  virtual std::vector<PendingRestart> pending_restart() = 0;
  // Stops accepting, closes every session as SIGTERM does, and exits with
  // kExitRestart for the supervisor to start postern again. Returns at once;
  // the response already handed to the connection is flushed first.
  virtual void restart() = 0;

  // --- mailboxes (the owner's view) ---
  // The POP3 check: PBKDF2 on the pool, as long for an unknown address as for a
  // known one. `done` gets the normalised address when the password is right.
  virtual void verify_mailbox_password(std::string address, std::string password,
                                       std::function<void(std::optional<std::string>)> done) = 0;
  // Reads one page (short read txn, bounded by `limit`): newest first, uid < before.
  virtual core::Result<MailboxPage, Problem> mailbox_page(const std::string& address,
                                                          std::optional<std::uint32_t> before,
                                                          std::size_t limit) = 0;
  // One Writer job: deletes the listed uids still present; done(count deleted).
  virtual void delete_messages(std::string address, std::vector<std::uint32_t> uids,
                               std::function<void(core::Result<std::uint32_t, Problem>)> done) = 0;
  virtual core::Result<MessageDownload, Problem> open_message(const std::string& address,
                                                              std::uint32_t uid) = 0;
};

}  // namespace postern::http
