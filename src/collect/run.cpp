// One collection run: lookup, connect, TLS, session, deliveries.
#include "collect/run.h"

#include <ctime>
#include <set>

#include "core/log.h"
#include "store/catalogue.h"
#include "store/sha256.h"
#include "tls/error.h"

namespace postern::collect {

struct Run::Pending {
  std::unique_ptr<store::Spool> spool;
  std::uint64_t size = 0;
  bool done = false;
  core::Result<void> result;
};

Run::Run(RunContext& context, store::CollectAccount account, std::string password, DoneFn done)
    : context_(context),
      account_(std::move(account)),
      password_(std::move(password)),
      done_(std::move(done)) {}

Run::~Run() {
  *alive_ = false;
  if (lookup_ != nullptr) lookup_->cancel();
  if (out_ != nullptr) out_->detach();
}

void Run::start() {
  std::weak_ptr<bool> alive = alive_;
  POSTERN_LOG_INFO("collect %llu event=run-start host=%s port=%u",
                   static_cast<unsigned long long>(account_.id),
                   core::printable(account_.host).c_str(), account_.port);
  lookup_ = HostLookup::start(
      context_.loop, account_.host, account_.port, [this, alive](core::Result<Address> address) {
        if (alive.expired()) return;
        lookup_ = nullptr;
        if (!address) return fail_early(Failure::resolve, {});
        remote_address_ = address->numeric;
        if (account_.tls != store::CollectTls::plain) {
          auto v = tls::PeerVerifier::create(tls::PeerCheck{context_.ca_file, account_.pin});
          if (!v) {
            return fail_early(Failure::tls, "cannot read the CA bundle " + context_.ca_file);
          }
          verifier_ = std::move(*v);
        }
        closed_ = false;
        out_ = net::Outbound::connect(context_.loop,
                                      reinterpret_cast<const sockaddr*>(&address->storage), *this,
                                      context_.timeout);
      });
}

void Run::abort() {
  if (lookup_ != nullptr) {
    lookup_->cancel();
    lookup_ = nullptr;
    return fail_early(Failure::network, "stopped");
  }
  if (session_ && !session_->done()) session_->on_connection_lost(Failure::network, "stopped");
  if (out_ != nullptr) out_->close();
}

void Run::fail_early(Failure failure, std::string detail) {
  Outcome o;
  o.failure = failure;
  o.detail = core::printable(detail);
  outcome_ = o;
  maybe_report();
}

core::Result<void> Run::begin_tls() {
  return out_->start_tls(verifier_->get(), account_.host);
}

Login make_login(const store::CollectAccount& a, const std::string& password) {
  Login login;
  login.user = a.user;
  login.password = password;
  login.tls = a.tls == store::CollectTls::pop3s  ? TlsMode::pop3s
              : a.tls == store::CollectTls::stls ? TlsMode::stls
                                                 : TlsMode::plain;
  return login;
}

void Run::on_connected(net::Outbound&) {
  if (account_.tls == store::CollectTls::pop3s) {
    if (auto r = begin_tls(); !r) out_->close();
    return;
  }
  session_ = std::make_unique<ClientSession>(*this, make_login(account_, password_), false);
  pump();
}

void Run::on_tls_ready(net::Outbound&) {
  POSTERN_LOG_INFO("collect %llu event=tls-ready fingerprint=%s",
                   static_cast<unsigned long long>(account_.id),
                   verifier_ ? verifier_->seen_fingerprint().c_str() : "-");
  if (!session_) {
    session_ = std::make_unique<ClientSession>(*this, make_login(account_, password_), true);
  } else {
    session_->on_tls_ready();
  }
  pump();
}

void Run::on_input(net::Outbound&) {
  pump();
}

void Run::pump() {
  // Host calls must not re-enter the session (client_session.h): completions
  // that arrive while feed() is on the stack are settled after it returns.
  if (in_feed_) return;
  while (session_ && out_ != nullptr && !session_->done() && session_->wants_input() &&
         !out_->input().empty() && (!spool_ || spool_->wants_more())) {
    in_feed_ = true;
    const std::size_t n = session_->feed(out_->input());
    in_feed_ = false;
    if (out_ != nullptr) out_->consume(n);
    if (settle_pending_) {
      settle_pending_ = false;
      return settle();  // pumps again
    }
    if (out_ == nullptr || n == 0) break;
  }
}

void Run::on_closed(net::Outbound&, net::Ending ending, int code) {
  out_ = nullptr;
  closed_ = true;
  spool_.reset();
  prints_.reset();
  if (!session_ || !session_->done()) {
    Failure f = Failure::network;
    std::string detail;
    switch (ending) {
      case net::Ending::connect_failed:
        f = Failure::connect;
        detail = uv_strerror(code);
        break;
      case net::Ending::timeout:
        f = Failure::timeout;
        break;
      case net::Ending::tls_error:
        if (verifier_ && !verifier_->verify_problem().empty()) {
          f = account_.pin.empty() ? Failure::cert_untrusted : Failure::cert_mismatch;
          detail = verifier_->seen_fingerprint();
        } else {
          f = Failure::tls;
          detail = tls::describe(code);
        }
        break;
      default:
        detail = net::to_string(ending);
        break;
    }
    if (session_) {
      session_->on_connection_lost(f, detail);
    } else {
      fail_early(f, detail);
    }
  }
  maybe_report();
}

void Run::send(std::string_view bytes) {
  if (out_ != nullptr) out_->send(bytes);
}

void Run::start_tls() {
  // The session consumed the +OK to STLS; input() holds nothing else that counts.
  if (auto r = begin_tls(); !r && out_ != nullptr) out_->close();
}

std::string Run::header_digest(std::string_view headers) {
  return store::to_hex(store::sha256(headers));
}

Plan Run::plan(const Listing& listing) {
  Plan plan;
  std::map<std::string, store::CollectedRecord> collected;
  if (auto txn = context_.env.begin_read()) {
    if (auto rows = store::collected_uidls(*txn, account_.id)) collected = std::move(*rows);
  }
  const std::int64_t now = core::unix_seconds(context_.clock.now());
  const bool delete_once = account_.keep == store::CollectKeep::delete_once_collected;
  plan.remove_after_fetch = delete_once;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < listing.entries.size(); ++i) {
    const Entry& e = listing.entries[i];
    if (!seen.insert(e.uid).second) continue;  // a repeated UIDL: the first copy stands for both
    auto it = collected.find(e.uid);
    if (it != collected.end()) {
      // Durable locally (the row commits with the mail): safe to delete when due.
      const bool due =
          delete_once ||
          (account_.keep == store::CollectKeep::delete_after_days &&
           it->second.collected_at + std::int64_t{account_.delete_after_days} * 86400 <= now);
      if (due) plan.remove.push_back(i);
      continue;
    }
    if (e.size > context_.max_message_bytes) {
      ++skipped_too_big_;
      continue;
    }
    plan.fetch.push_back(i);
  }
  to_fetch_ = plan.fetch.size();
  POSTERN_LOG_INFO("collect %llu event=listed messages=%zu fetch=%zu remove=%zu%s",
                   static_cast<unsigned long long>(account_.id), listing.entries.size(),
                   plan.fetch.size(), plan.remove.size(),
                   listing.uid_from_headers ? " uid=headers" : "");
  report_progress();
  return plan;
}

std::string Run::received_line(const Entry& entry) const {
  char date[64];
  std::time_t t = static_cast<std::time_t>(core::unix_seconds(context_.clock.now()));
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  const char* with = account_.tls == store::CollectTls::pop3s  ? "POP3S"
                     : account_.tls == store::CollectTls::stls ? "POP3 (STLS)"
                                                               : "POP3";
  // RFC 5321 §4.4 trace field; the comment names the account (RFC 5322 §3.6.7).
  return "Received: from " + core::printable(account_.host) + " ([" + remote_address_ +
         "])\r\n\tby " + context_.local_name + " with " + with + " id " +
         core::printable(entry.uid, 80) + "\r\n\tfor <" + account_.mailbox +
         "> (collected from account " + core::printable(account_.user) + "@" +
         core::printable(account_.host) + "); " + date + "\r\n";
}

void Run::message_begin(const Entry& entry) {
  current_ = entry;
  spent_spools_.clear();  // a safe point: no spool callback is on the stack
  std::weak_ptr<bool> alive = alive_;
  spool_ = std::make_unique<store::Spool>(context_.env.options(), context_.executor);
  spool_->set_on_writable([this, alive] {
    if (!alive.expired()) pump();
  });
  prints_ = std::make_unique<dedup::FingerprintBuilder>();
  spool_->append(received_line(entry));
}

void Run::message_data(std::string_view bytes) {
  if (!spool_) return;
  spool_->append(bytes);
  prints_->feed(bytes);
}

void Run::message_end() {
  auto pending = std::make_shared<Pending>();
  pending_.push_back(pending);
  if (!spool_) {
    pending->done = true;
    pending->result = core::make_error(core::Errc::io, "collect-spool");
    return settle();
  }
  if (spool_->size() > context_.max_message_bytes) {
    pending->done = true;
    pending->result = core::make_error(core::Errc::full, "message-too-big");
    spool_.reset();
    return settle();
  }
  const dedup::Settings settings =
      context_.dedup_settings ? context_.dedup_settings() : dedup::Settings{};
  const dedup::Fingerprints prints = prints_->finish();
  prints_.reset();
  store::DedupRule rule = store::DedupRule::content;
  if (auto txn = context_.env.begin_read()) {
    if (auto d = store::find_domain(*txn, store::domain_of(account_.mailbox))) rule = d->dedup;
  }
  store::DeliveryRequest request;
  request.recipients.push_back(dedup::plan_complete(account_.mailbox, rule, settings, prints));
  request.received_at = core::unix_seconds(context_.clock.now());
  request.dedup_not_before = dedup::window_start(settings, context_.clock);
  request.message_id = core::printable(prints.message_id_text.value_or(""));
  request.collect_account = account_.id;
  request.collect_uidl = current_.uid;
  pending->size = spool_->size();
  pending->spool = std::move(spool_);
  std::weak_ptr<bool> alive = alive_;
  store::Spool* raw = pending->spool.get();
  store::Writer& writer = context_.writer;
  const std::uint64_t id = account_.id;
  Pending* p = pending.get();  // owns the spool: alive whenever its callback runs
  raw->finish([this, p, alive, &writer, id,
               request = std::move(request)](core::Result<store::SpooledBody> body) mutable {
    if (!body) {
      p->done = true;
      p->result = body.error();
      settle();
      return;
    }
    request.body = std::move(*body);
    writer.deliver(
        std::move(request), [this, p, alive, id](core::Result<store::DeliveryOutcome> outcome) {
          if (alive.expired()) return;  // the Run (and *p) went away at shutdown
          p->done = true;
          if (!outcome) {
            p->result = outcome.error();
          } else if (!outcome->delivered.empty() && outcome->delivered[0].suppressed) {
            POSTERN_LOG_INFO("collect %llu event=duplicate-suppressed uid=%u",
                             static_cast<unsigned long long>(id), outcome->delivered[0].uid);
          }
          settle();
        });
  });
  settle();
}

void Run::report_progress() const {
  if (context_.progress) context_.progress(account_, Progress{fetched_, to_fetch_, fetched_bytes_});
}

void Run::settle() {
  if (in_feed_) {
    settle_pending_ = true;
    return;
  }
  while (!pending_.empty() && pending_.front()->done) {
    auto p = pending_.front();
    pending_.pop_front();
    // Not destroyed here: this may run inside the spool's own finish callback.
    if (p->spool) spent_spools_.push_back(std::move(p->spool));
    if (p->result) {
      ++fetched_;
      fetched_bytes_ += p->size;
      report_progress();
    }
    if (session_ && !session_->done()) session_->on_delivered(p->result);
  }
  pump();
  maybe_report();
}

void Run::finished(const Outcome& outcome) {
  outcome_ = outcome;
  if (out_ != nullptr) out_->close();
}

void Run::maybe_report() {
  if (reported_ || !outcome_ || !closed_ || !pending_.empty() || lookup_ != nullptr) return;
  reported_ = true;
  RunReport report;
  report.outcome = *outcome_;
  report.outcome.fetched = fetched_;
  report.skipped_too_big = skipped_too_big_;
  report.sentence = describe(outcome_->failure, outcome_->detail);
  if (report.outcome.ok() && skipped_too_big_ > 0) {
    report.sentence = std::to_string(skipped_too_big_) +
                      " message(s) larger than the size limit were left on the server";
  }
  POSTERN_LOG_INFO("collect %llu event=run-end result=%s fetched=%zu deleted=%zu",
                   static_cast<unsigned long long>(account_.id), to_string(outcome_->failure),
                   fetched_, outcome_->deleted);
  auto done = done_;
  done(report);  // may destroy *this
}

}  // namespace postern::collect
