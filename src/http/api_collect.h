// http::CollectBackend: what the status page's "Collected mailboxes" section
// needs from the appliance (issue 19), as an interface beside Backend so the
// routes are unit-tested with a fake and http never includes collect.
//
// Routes (api_collect.cpp; every change needs the session and X-CSRF-Token):
//   GET  /api/collect  {available, accounts: [...]}                       session
//   POST /api/collect  {action: add, mailbox, host, port?, tls, allow_plain?,
//                       user, password, interval?, keep?, pin?}           session + CSRF
//                      {action: remove|now, id}; {action: pin, id, fingerprint}
// The password goes one way: it is sealed at once and never in any answer.
//
// Implemented by app/collect_page.cpp over the collector and app/admin_collect.h.
// Loop thread only; the backend outlives the Api.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace postern::http {

struct CollectAccountView {
  std::uint64_t id = 0;
  std::string mailbox;  // local address
  std::string host;
  std::uint16_t port = 0;
  std::string tls;  // "pop3s", "stls", "plain"
  std::string user;
  std::uint32_t interval_seconds = 0;
  std::string keep;  // "leave", "delete", "Nd"
  std::string pin;   // empty: CA check
  // Status.
  std::int64_t last_run = 0, last_success = 0, next_run = 0;  // unix s; 0 = never / soon
  std::uint64_t mails = 0, bytes = 0;                         // all runs
  std::string error;        // the last run's failure in plain words; empty = fine
  std::string fingerprint;  // the untrusted certificate's SHA-256, when that was the error
  bool no_uidl = false;     // header digests stand in for UIDL
  bool running = false;     // a run is under way (this process or the CLI's)
  std::uint64_t run_fetched = 0, run_to_fetch = 0, run_bytes = 0;  // while running here
};

// The add form's fields as typed (app::CollectForm's shape).
struct CollectAddForm {
  std::string mailbox, host, port, tls, user, password, interval, keep, pin;
  bool allow_plain = false;
};

// ok, and one sentence for the owner (what was done, or what is wrong and what to do).
using CollectAnswer = std::function<void(bool ok, std::string sentence)>;

struct CollectBackend {
  virtual ~CollectBackend() = default;
  virtual core::Result<std::vector<CollectAccountView>, std::string> collect_accounts() = 0;
  virtual void add_collect_account(CollectAddForm form, CollectAnswer done) = 0;
  virtual void remove_collect_account(std::uint64_t id, CollectAnswer done) = 0;
  virtual void pin_collect_account(std::uint64_t id, std::string fingerprint,
                                   CollectAnswer done) = 0;
  // Starts a run now; false with the sentence when it cannot (unknown, already running).
  virtual void collect_now(std::uint64_t id, CollectAnswer done) = 0;
};

}  // namespace postern::http
