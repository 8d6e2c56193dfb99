// smtp::Delivery: one message on its way from a Session into the store.
//
// Resolves recipients against the store (local domains only, aliases, quota),
// streams the body through a store::Spool (never whole in memory), and hands
// the finished body to the group-committing store::Writer. The outcome comes
// back once the batch is durable (fsync'd), so the 250 is sent only then.
// Typical call sequence (loop thread), per transaction:
//   resolve(rcpt)*  begin(trace)  append(chunk)*  end(done) | abort(reason)
// Dedup (src/dedup): append() streams the received bytes (stored form) through a
// FingerprintBuilder, which hashes only their header block on the loop; the
// bulk is hashed once, by the spool's pool job (store/body_key.h), and once
// that digest is in, end() plans each recipient's ledger lists under its
// domain's rule and the owner's Settings. A suppressed retry still completes
// with success, so the session answers 250 and the sender stops (a deliberate
// RFC 5321 §4.2.5 deviation: the copy is "delivered" by the one already stored).
// abort(connection_lost | timeout) applies the partial policy: discard (counted,
// event "partial-discarded") or keep-as-alert (a labelled copy, see
// dedup/partial_rewriter.h). That work outlives the Delivery if the
// connection object goes away right after the abort.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/executor.h"
#include "dedup/fingerprint_builder.h"
#include "dedup/policy.h"
#include "smtp/host.h"
#include "store/spool.h"
#include "store/writer.h"

namespace postern::smtp {

class Delivery {
 public:
  // All borrowed; they outlive the Delivery. Loop thread only.
  // `dedup_settings` is asked at each message end or abort (SIGHUP may change
  // it); empty means dedup::Settings{}. `peer_address` and `session_id` are for
  // events and logs.
  using DedupSettingsFn = std::function<dedup::Settings()>;
  Delivery(store::Env& env, store::Writer& writer, core::Executor& executor,
           const core::Clock& clock, DedupSettingsFn dedup_settings = {},
           std::string peer_address = {}, std::string session_id = {});

  // RFC 5321 §4.1.1.3/§4.5.1: "postmaster" (no domain) goes to postmaster@ of
  // the first local domain. Accepted recipients are remembered, once per mailbox.
  RecipientVerdict resolve(const Envelope& envelope, std::string_view recipient);
  // Forgets the recipients: a new transaction starts.
  void reset();

  void begin(std::string_view trace_headers);
  void append(std::string_view chunk);
  // False while the spool has two buffers in flight: stop feeding the session.
  bool wants_more() const;
  // Called when wants_more() turns true again.
  void set_on_writable(std::function<void()> on_writable);
  // Finishes the spool, delivers to every accepted mailbox in one transaction,
  // and calls `done` once durable (or failed). Not called if the Delivery dies first.
  void end(std::function<void(core::Result<void>)> done);
  void abort(AbortReason reason);

  const std::vector<std::string>& mailboxes() const { return mailboxes_; }

 private:
  store::Env& env_;
  store::Writer& writer_;
  core::Executor& executor_;
  const core::Clock& clock_;
  dedup::Settings dedup_settings() const;
  void keep_partial(AbortReason reason, const dedup::Settings& settings);

  DedupSettingsFn dedup_settings_;
  std::string peer_address_;
  std::string session_id_;
  std::vector<std::string> mailboxes_;   // resolved user addresses, no duplicates
  std::vector<store::DedupRule> rules_;  // each mailbox's domain rule
  std::unique_ptr<store::Spool> spool_;
  std::unique_ptr<dedup::FingerprintBuilder> fingerprints_;
  std::size_t trace_bytes_ = 0;
  std::function<void()> on_writable_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace postern::smtp
