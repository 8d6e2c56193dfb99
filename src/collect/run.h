// collect::Run: one collection of one external account, on the loop: name
// lookup, TCP, TLS (POP3S or STLS) checked by tls::PeerVerifier, the sans-I/O
// ClientSession, and one store delivery per fetched message (dedup, size
// limit, a Received: line naming the server and the account). The collected
// UIDL is recorded by store::deliver in the delivery's own transaction.
//
// Typical call sequence (loop thread; Collector owns runs):
//   auto run = std::make_unique<Run>(context, account, password, [](const RunReport&) {...});
//   run->start();
//   ... `done` is called once, after the connection is closed AND every
//   delivery handed to the Writer has completed; then the Run may be destroyed.
#pragma once

#include <uv.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/client_session.h"
#include "collect/host_lookup.h"
#include "core/clock.h"
#include "core/executor.h"
#include "dedup/fingerprint_builder.h"
#include "dedup/policy.h"
#include "net/outbound.h"
#include "store/collect_accounts.h"
#include "store/env.h"
#include "store/spool.h"
#include "store/writer.h"
#include "tls/peer_verifier.h"

namespace postern::collect {

// A run under way, for the CLI's progress line and the page.
struct Progress {
  std::size_t fetched = 0;   // mails stored so far in this run
  std::size_t to_fetch = 0;  // mails this run will fetch (known after the listing)
  std::uint64_t bytes = 0;   // bytes stored so far in this run
};

// What a run borrows; all of it outlives every run.
struct RunContext {
  RunContext(uv_loop_t* l, store::Env& e, store::Writer& w, core::Executor& x, const core::Clock& c)
      : loop(l), env(e), writer(w), executor(x), clock(c) {}
  uv_loop_t* loop;
  store::Env& env;
  store::Writer& writer;
  core::Executor& executor;
  const core::Clock& clock;
  std::function<dedup::Settings()> dedup_settings;  // may be empty: defaults
  std::uint64_t max_message_bytes = 50ull << 20;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::string local_name = "postern";  // "by" in the Received: line
  // Called after the listing and after each stored mail (CLI progress line, page).
  std::function<void(const store::CollectAccount& account, const Progress& progress)> progress;
};

struct RunReport {
  Outcome outcome;
  std::string sentence;  // describe(outcome) for the owner
  std::size_t skipped_too_big = 0;
};

class Run final : public ClientHost, private net::OutboundHandler {
 public:
  using DoneFn = std::function<void(const RunReport&)>;
  Run(RunContext& context, store::CollectAccount account, std::string password, DoneFn done);
  ~Run() override;
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  void start();
  // Ends the session now as if the link broke (shutdown): nothing is deleted.
  void abort();
  bool finished() const { return reported_; }

 private:
  struct Pending;
  // ClientHost
  void send(std::string_view bytes) override;
  void start_tls() override;
  std::string header_digest(std::string_view headers) override;
  Plan plan(const Listing& listing) override;
  void message_begin(const Entry& entry) override;
  void message_data(std::string_view bytes) override;
  void message_end() override;
  void finished(const Outcome& outcome) override;
  // OutboundHandler
  void on_connected(net::Outbound& out) override;
  void on_input(net::Outbound& out) override;
  void on_tls_ready(net::Outbound& out) override;
  void on_closed(net::Outbound& out, net::Ending ending, int code) override;

  void pump();
  void report_progress() const;
  void settle();  // hands completed deliveries to the session, in order
  void fail_early(Failure failure, std::string detail);
  void maybe_report();
  core::Result<void> begin_tls();
  std::string received_line(const Entry& entry) const;

  RunContext& context_;
  store::CollectAccount account_;
  std::string password_;
  DoneFn done_;
  HostLookup* lookup_ = nullptr;
  net::Outbound* out_ = nullptr;
  std::unique_ptr<tls::PeerVerifier> verifier_;
  std::unique_ptr<ClientSession> session_;
  std::string remote_address_;
  bool in_feed_ = false;         // session_->feed() is on the stack
  bool settle_pending_ = false;  // a completion arrived meanwhile
  // The message being received.
  std::unique_ptr<store::Spool> spool_;
  std::unique_ptr<dedup::FingerprintBuilder> prints_;
  Entry current_;
  // Deliveries handed over, in message_end order.
  std::deque<std::shared_ptr<Pending>> pending_;
  std::vector<std::unique_ptr<store::Spool>> spent_spools_;
  std::size_t to_fetch_ = 0;
  std::size_t fetched_ = 0;
  std::uint64_t fetched_bytes_ = 0;
  std::optional<Outcome> outcome_;
  bool closed_ = true;  // no connection open
  bool reported_ = false;
  std::size_t skipped_too_big_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace postern::collect
