// One POP3 connection: feeding the session, the off-loop password check and its throttle
// delay, RETR backpressure, STLS, timeouts, drops, and the abnormal-end event.
#include "pop3/conversation.h"

#include <algorithm>
#include <utility>

#include "core/log.h"
#include "pop3/replies.h"
#include "store/catalogue.h"
#include "store/daily_counts.h"
#include "store/events.h"
#include "store/password.h"

namespace postern::pop3 {

Conversation::Conversation(net::Connection& conn, ConversationContext context,
                           std::shared_ptr<const Limits> limits, Peer peer)
    : SessionHandler(conn),
      context_(std::move(context)),
      limits_(std::move(limits)),
      session_id_(peer.session_id),
      peer_address_(peer.address),
      maildrop_(*context_.env, *context_.writer, *context_.executor,
                std::shared_ptr<LockTable>(context_.shared, &context_.shared->locks),
                *context_.clock, core::printable(peer.address)),
      session_(*this, *limits_, *context_.clock, std::move(peer)) {
  // RFC 1939 §3 autologout; net restarts it on every read.
  conn.set_timeout(limits_->idle_timeout);
}

bool Conversation::delete_if_done() {
  if (link_.open() || owed_ > 0) return false;
  delete this;
  return true;
}

void Conversation::pump() {
  // While a password check, a snapshot, a streamed reply, an UPDATE or a handshake is
  // pending, nothing pipelined behind it is read (RFC 2449 §6.6 PIPELINING keeps replies in
  // order), and with the input buffer full net stops reading the socket too.
  link_.offer([this](std::string_view bytes) { return session_.feed(bytes); },
              [this] { return session_.wants_input(); });
}

void Conversation::on_drain(net::Connection& conn) {
  // A client still reading a long RETR is not idle (RFC 1939 §3 autologout is about
  // inactivity), so the timer restarts on each drain as it does on each read.
  conn.set_timeout(limits_->idle_timeout);
  session_.on_drain();
  pump();
}

void Conversation::on_closed(net::Connection&) {
  // A password answer serving its delay is dropped: the session has nobody to tell.
  held_answer_.reset();
  if (delay_timer_) delay_timer_->stop();
  connection_closed();
  delete_if_done();
}

// Idle eviction (net/idle_eviction.h): only before login (AUTHORIZATION, an AUTH exchange
// awaiting its response line), with no password check, no partial line and nothing owed.
bool Conversation::idle_evictable(const net::Connection& conn) const {
  const State state = session_.state();
  return (state == State::authorization || state == State::sasl_response) &&
         session_.wants_input() && conn.input().empty() && owed_ == 0 && !held_answer_ &&
         !link_.offering();
}

void Conversation::on_evict(net::Connection& conn) {
  POSTERN_LOG_INFO("pop3 %s event=evicted state=%s", session_id_.c_str(),
                   to_string(session_.state()));
  conn.send(replies::busy_idle_closed().render());
  conn.close_after_flush();
}

// --- Host ---

void Conversation::send(std::string bytes) {
  link_.send(std::move(bytes));
}

// RFC 1939 §4 leaves the delay after a failed login to the server. PBKDF2 runs on the pool;
// an unknown user (or one whose password is unusable) is verified against a dummy hash of
// the same iteration count, so the answer takes as long and does not reveal who exists.
void Conversation::check_password(std::string_view user, std::string_view password) {
  core::Result<std::string> hash = context_.shared->dummy_hash;
  bool known = false;
  std::string user_key = "user:";
  auto txn = context_.env->begin_read();
  if (!txn) {
    hash = txn.error();
  } else if (auto found = store::find_user(*txn, user); found) {
    user_key += found->address;
    if (found->record.password_hash != store::kUnusablePassword) {
      hash = found->record.password_hash;
      known = true;
    }
  } else if (found.error().code == core::Errc::not_found ||
             found.error().code == core::Errc::invalid) {
    auto normalized = store::normalize_address(user);
    user_key += normalized ? *normalized : std::string(user);
  } else {
    hash = found.error();
  }
  // A recent success with this password against this very stored record: no PBKDF2, no pool
  // (store/credential_cache.h). Unknown users are never cached.
  store::CredentialCache* cache = known ? context_.credentials : nullptr;
  const std::string_view mailbox = std::string_view(user_key).substr(5);  // after "user:"
  if (cache != nullptr && cache->verified(mailbox, password, *hash, context_.clock->now())) {
    on_verified(true, user_key, /*defer=*/true);
    return;
  }
  ++owed_;
  auto outcome = std::make_shared<core::Result<bool>>(false);
  // The record for the cache, copied before the work lambda takes `hash` (argument order).
  std::string record = cache != nullptr ? *hash : std::string();
  context_.executor->submit(
      [outcome, hash = std::move(hash), known, password = std::string(password)]() {
        if (!hash) {
          *outcome = hash.error();
          return;
        }
        const bool match = store::verify_password(password, *hash);
        *outcome = known && match;
      },
      [this, outcome, user_key = std::move(user_key), cache, record = std::move(record),
       password = cache != nullptr ? std::string(password) : std::string()]() {
        --owed_;
        const std::string_view address = std::string_view(user_key).substr(5);
        if (cache != nullptr && *outcome && **outcome) {
          cache->remember(address, password, record, context_.clock->now());
        } else if (cache != nullptr && *outcome) {
          cache->forget(address);  // any failed attempt for this mailbox
        }
        on_verified(std::move(*outcome), user_key);
      });
}

// core::Throttle's protocol: the delay is read before this attempt is recorded, then the
// answer waits for it on a uv timer (never a sleep). A success delayed too keeps the timing
// of a right guess equal to a wrong one.
// `defer`: answered without the pool (a cache hit), so from a zero-delay timer rather than
// inside Host::check_password (the Host never re-enters the session).
void Conversation::on_verified(core::Result<bool> outcome, const std::string& user_key,
                               bool defer) {
  core::Throttle& throttle = context_.shared->throttle;
  const core::TimePoint now = context_.clock->now();
  const std::string ip_key = "ip:" + peer_address_;
  const core::Seconds delay =
      std::max(throttle.delay_for(ip_key, now), throttle.delay_for(user_key, now));
  if (outcome && *outcome) {
    throttle.record_success(user_key);  // the IP keeps its record (see throttle.h)
  } else if (outcome) {
    throttle.record_failure(ip_key, now);
    throttle.record_failure(user_key, now);
  }
  // Recorded even when the client left early: dropping the connection must not dodge the
  // throttle.
  if (!link_.open()) {
    delete_if_done();
    return;
  }
  held_answer_ = std::move(outcome);
  if (delay.count() == 0 && !defer) {
    answer_password();
    return;
  }
  if (delay.count() > 0) {
    POSTERN_LOG_INFO("pop3 %s event=login-throttled delay_s=%lld peer=%s", session_id_.c_str(),
                     static_cast<long long>(delay.count()), peer_address_.c_str());
  }
  if (!delay_timer_) delay_timer_.emplace(context_.loop);
  delay_timer_->start(delay, std::chrono::milliseconds(0), [this] { answer_password(); });
}

void Conversation::answer_password() {
  if (!held_answer_ || !link_.open()) return;
  core::Result<bool> answer = std::move(*held_answer_);
  held_answer_.reset();
  session_.on_password_checked(std::move(answer));
  pump();
}

// The snapshot is listed on the pool; the session waits (reads nothing, answers nothing)
// until it is in. A connection closed meanwhile has its lock released by session_ended(),
// and the late snapshot is dropped here.
void Conversation::open_maildrop(std::string_view user) {
  ++owed_;
  maildrop_.open(user, limits_->login_delay, [this](core::Result<Maildrop> snapshot) {
    --owed_;
    if (!link_.open()) {
      delete_if_done();
      return;
    }
    session_.on_maildrop_opened(std::move(snapshot));
    pump();
  });
}

core::Result<std::string> Conversation::read_message_chunk(const MessageEntry& message,
                                                           std::size_t chunk_index) {
  return maildrop_.read_chunk(message, chunk_index);
}

bool Conversation::can_send_more() const {
  return link_.can_send_more();
}

void Conversation::update(const std::vector<std::uint64_t>& deleted_keys,
                          const std::vector<std::uint64_t>& retrieved_keys) {
  ++owed_;
  maildrop_.update(deleted_keys, retrieved_keys, [this](core::Result<void> outcome) {
    --owed_;
    if (!outcome && outcome.error().code == core::Errc::fatal) context_.on_fatal(outcome.error());
    session_.on_updated(std::move(outcome));
    if (delete_if_done()) return;
    pump();
  });
}

void Conversation::session_ended(const SessionSummary& summary) {
  maildrop_.release();
  if (summary.abnormal() && summary.authenticated) record_abnormal_end(summary);
  if (summary.retrieved > 0) count_retrieved(summary.retrieved);
  const bool broken =
      summary.reason == EndReason::disconnect || summary.reason == EndReason::timeout;
  if (broken && summary.authenticated && context_.on_broken_session) {
    context_.on_broken_session(peer_address_);
  }
}

// The seed report (mail fetched again and again) comes from clients that drop without
// QUIT; the event log shows the operator who, how and what the session had done: `mode`
// tells a leave-on-server client (retrieved, no DELE) from a deleting one whose DELEs were
// lost with the missing QUIT (http/health.cpp explains both).
void Conversation::record_abnormal_end(const SessionSummary& summary) {
  const std::string text =
      "user=" + core::printable(summary.user) + " client=" + core::printable(peer_address_) +
      " reason=" + to_string(summary.reason) + " retrieved=" + std::to_string(summary.retrieved) +
      " marked_deleted=" + std::to_string(summary.marked_deleted) + " mode=" + summary.mode();
  POSTERN_LOG_WARN("pop3 %s event=abnormal-end %s", session_id_.c_str(), text.c_str());
  const std::int64_t time = core::unix_seconds(context_.clock->now());
  // The completion touches no conversation state: the conversation may be gone by then.
  context_.writer->submit<bool>(
      [text, time](store::WriteTxn& txn) -> core::Result<bool> {
        if (auto r = store::append_event(txn, "pop3-abnormal-end", text, time); !r) {
          return r.error();
        }
        return true;
      },
      [id = session_id_, on_fatal = context_.on_fatal](core::Result<bool> outcome) {
        if (outcome) return;
        POSTERN_LOG_WARN("pop3 %s event=event-append-failed reason=%s where=%s", id.c_str(),
                         core::to_string(outcome.error().code), outcome.error().where);
        if (outcome.error().code == core::Errc::fatal && on_fatal) on_fatal(outcome.error());
      });
}

// "Retrieved today" on the status page counts every RETR, QUIT or not.
void Conversation::count_retrieved(std::size_t retrieved) {
  const std::int64_t day = core::local_midnight(core::unix_seconds(context_.clock->now()));
  context_.writer->submit<bool>(
      [day, retrieved](store::WriteTxn& txn) -> core::Result<bool> {
        if (auto r = store::add_daily_count(txn, store::kStatRetrievedToday, day, retrieved); !r) {
          return r.error();
        }
        return true;
      },
      [on_fatal = context_.on_fatal](core::Result<bool> outcome) {
        if (!outcome && outcome.error().code == core::Errc::fatal && on_fatal) {
          on_fatal(outcome.error());
        }
      });
}

void Conversation::start_tls() {
  link_.start_tls(context_.tls);  // net discards the plaintext pipelined after STLS (RFC 2595 §4)
}

void Conversation::close() {
  link_.close();
}

}  // namespace postern::pop3
