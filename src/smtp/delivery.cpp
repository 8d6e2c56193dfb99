// Recipient resolution and the spool -> writer path of one SMTP message.
#include "smtp/delivery.h"

#include <algorithm>
#include <memory>

#include "core/log.h"
#include "dedup/partial_rewriter.h"
#include "smtp/postmaster.h"
#include "store/catalogue.h"
#include "store/ledger.h"
#include "store/mailbox.h"
#include "store/spool_rewrite.h"

namespace postern::smtp {
namespace {

// Pool thread: the labelled partial (store::rewrite_spooled writes it, in memory
// when the original was): trace headers, partial_prefix, then the received
// bytes through PartialRewriter. The original's file is unlinked.
core::Result<store::SpooledBody> relabel(const store::SpooledBody& original,
                                         std::size_t trace_bytes, const std::string& prefix,
                                         const std::string& spool_dir) noexcept {
  return store::rewrite_spooled(original, spool_dir, [&](store::BodyEmit emit) {
    auto rewriter = std::make_shared<dedup::PartialRewriter>(emit);
    auto seen = std::make_shared<std::size_t>(0);
    auto feed = [rewriter, seen, emit, trace_bytes, &prefix](std::string_view bytes) {
      if (*seen < trace_bytes) {
        std::size_t n = std::min(bytes.size(), trace_bytes - *seen);
        emit(bytes.substr(0, n));
        *seen += n;
        bytes.remove_prefix(n);
        if (*seen == trace_bytes) emit(prefix);
      }
      if (!bytes.empty()) rewriter->feed(bytes);
    };
    return store::BodyFilter{feed, [rewriter] { rewriter->finish(); }};
  });
}

dedup::BreakReason break_reason(AbortReason reason) {
  return reason == AbortReason::timeout ? dedup::BreakReason::timeout
                                        : dedup::BreakReason::connection_lost;
}

}  // namespace

Delivery::Delivery(store::Env& env, store::Writer& writer, core::Executor& executor,
                   const core::Clock& clock, DedupSettingsFn dedup_settings,
                   std::string peer_address, std::string session_id)
    : env_(env),
      writer_(writer),
      executor_(executor),
      clock_(clock),
      dedup_settings_(std::move(dedup_settings)),
      peer_address_(std::move(peer_address)),
      session_id_(std::move(session_id)) {}

dedup::Settings Delivery::dedup_settings() const {
  return dedup_settings_ ? dedup_settings_() : dedup::Settings{};
}

RecipientVerdict Delivery::resolve(const Envelope& envelope, std::string_view recipient) {
  if (envelope.recipients.empty()) reset();  // first RCPT of a new transaction
  auto txn = env_.begin_read();
  if (!txn) return RecipientVerdict::temp_failure;
  std::string wanted(recipient);
  if (wanted.find('@') == std::string::npos) {
    // Only the bare "Postmaster" reaches us without a domain (the session checked).
    auto domains = store::list_domains(*txn);
    if (!domains || domains->empty()) return RecipientVerdict::unknown_user;
    wanted = "postmaster@" + domains->front().name;
  }
  auto address = store::normalize_address(wanted);
  if (!address) return RecipientVerdict::unknown_user;
  // Never an open relay: only our own domains are accepted (RFC 5321 §3.6.2).
  if (!store::is_local_domain(*txn, store::domain_of(*address))) {
    return RecipientVerdict::relay_denied;
  }
  std::string target = *address;
  if (is_postmaster(address->substr(0, address->rfind('@')))) {
    auto postmaster = postmaster_target(*txn, store::domain_of(*address));
    if (!postmaster) {
      return postmaster.error().code == core::Errc::not_found ? RecipientVerdict::unknown_user
                                                              : RecipientVerdict::temp_failure;
    }
    target = std::move(*postmaster);
  } else if (auto alias = store::find_alias(*txn, target); alias) {
    target = *alias;
  }
  auto user = store::find_user(*txn, target);
  if (!user) {
    return user.error().code == core::Errc::not_found ? RecipientVerdict::unknown_user
                                                      : RecipientVerdict::temp_failure;
  }
  if (user->record.quota_bytes != 0) {
    auto mailbox = store::find_mailbox(*txn, user->record.mailbox_id);
    std::uint64_t incoming = envelope.declared_size.value_or(0);
    if (mailbox && mailbox->used_bytes + incoming >= user->record.quota_bytes) {
      return RecipientVerdict::over_quota;
    }
  }
  if (std::find(mailboxes_.begin(), mailboxes_.end(), target) == mailboxes_.end()) {
    auto domain = store::find_domain(*txn, store::domain_of(target));
    rules_.push_back(domain ? domain->dedup : store::DedupRule::content);
    mailboxes_.push_back(target);
  }
  return RecipientVerdict::accept;
}

void Delivery::reset() {
  mailboxes_.clear();
  rules_.clear();
  spool_.reset();
  fingerprints_.reset();
}

void Delivery::begin(std::string_view trace_headers) {
  spool_ = std::make_unique<store::Spool>(env_.options(), executor_);
  std::weak_ptr<bool> alive = alive_;
  spool_->set_on_writable([this, alive] {
    if (!alive.expired() && on_writable_) on_writable_();
  });
  spool_->append(trace_headers);
  trace_bytes_ = trace_headers.size();
  // Only what the client sent is fingerprinted, never our own trace headers. The
  // builder hashes the header block only; the rest digest comes from the spool
  // (hash once, store/body_key.h), which leaves the loop at most a small tail to hash.
  fingerprints_ = std::make_unique<dedup::FingerprintBuilder>(
      dedup::FingerprintBuilder::Spooled{trace_headers.size()});
}

void Delivery::append(std::string_view chunk) {
  if (!spool_) return;
  const std::string_view stored = spool_->append(chunk);
  if (fingerprints_) fingerprints_->feed(stored);
}

bool Delivery::wants_more() const {
  return !spool_ || spool_->wants_more();
}

void Delivery::set_on_writable(std::function<void()> on_writable) {
  on_writable_ = std::move(on_writable);
}

void Delivery::end(std::function<void(core::Result<void>)> done) {
  std::weak_ptr<bool> alive = alive_;
  auto received_at = core::unix_seconds(clock_.now());
  const dedup::Settings settings = dedup_settings();
  const std::int64_t not_before = dedup::window_start(settings, clock_);
  // The content fingerprint needs the rest digest the spool computes: planned once it is in.
  std::shared_ptr<dedup::FingerprintBuilder> builder(std::move(fingerprints_));
  spool_->finish([this, alive, done = std::move(done), received_at, not_before, settings, builder,
                  mailboxes = mailboxes_,
                  rules = rules_](core::Result<store::SpooledBody> body) mutable {
    if (alive.expired()) return;
    if (!body) {
      done(body.error());
      return;
    }
    const dedup::Fingerprints prints = builder->finish(&body->rest_digest);
    std::vector<store::Recipient> recipients;
    for (std::size_t i = 0; i < mailboxes.size(); ++i) {
      recipients.push_back(dedup::plan_complete(mailboxes[i], rules[i], settings, prints));
    }
    std::string message_id = core::printable(prints.message_id_text.value_or(""));
    store::DeliveryRequest request;
    request.body = std::move(*body);
    request.received_at = received_at;
    request.count_on_day = core::local_midnight(received_at);
    request.recipients = std::move(recipients);
    request.dedup_not_before = not_before;
    request.message_id = message_id;
    // The writer owns the body now; the callback may outlive this Delivery.
    writer_.deliver(std::move(request), [alive, done = std::move(done), id = session_id_,
                                         message_id](core::Result<store::DeliveryOutcome> outcome) {
      if (outcome) {
        for (const auto& d : outcome->delivered) {
          if (!d.suppressed) continue;
          POSTERN_LOG_INFO(
              "smtp %s event=duplicate-suppressed rcpt=<%s> message_id=%s "
              "first_seen=%lld uid=%u",
              id.c_str(), d.address.c_str(), message_id.empty() ? "-" : message_id.c_str(),
              static_cast<long long>(d.first_seen), d.uid);
        }
      }
      if (alive.expired()) return;  // the client left: its retry is a duplicate
      if (!outcome) {
        done(outcome.error());
        return;
      }
      done({});  // suppressed copies too: the sender must stop retrying
    });
  });
}

void Delivery::abort(AbortReason reason) {
  const bool broken = reason == AbortReason::connection_lost || reason == AbortReason::timeout;
  if (!broken || !spool_ || !fingerprints_ || mailboxes_.empty()) {
    spool_.reset();
    fingerprints_.reset();
    return;
  }
  const dedup::Settings settings = dedup_settings();
  if (settings.partial == dedup::PartialPolicy::keep_as_alert) {
    keep_partial(reason, settings);
    return;
  }
  const dedup::Fingerprints prints = fingerprints_->finish();
  fingerprints_.reset();
  spool_.reset();
  std::string text =
      "peer=" + core::printable(peer_address_) + " bytes=" + std::to_string(prints.bytes) +
      " message_id=" + (prints.message_id_text ? core::printable(*prints.message_id_text) : "-") +
      " reason=" + to_string(reason);
  POSTERN_LOG_INFO("smtp %s event=partial-discarded %s", session_id_.c_str(), text.c_str());
  const std::int64_t now = core::unix_seconds(clock_.now());
  writer_.submit<bool>(
      [text, now](store::WriteTxn& txn) -> core::Result<bool> {
        if (auto r = store::record_partial_discarded(txn, text, now); !r) return r.error();
        return true;
      },
      [](core::Result<bool>) {});
}

// keep-as-alert: finish the spool, relabel it on the pool, deliver it flagged
// partial. Everything the chain needs is captured by value or lives as long as
// the server (writer, executor): the Conversation, and this Delivery, are
// usually deleted right after the abort.
void Delivery::keep_partial(AbortReason reason, const dedup::Settings& settings) {
  const dedup::Fingerprints prints = fingerprints_->finish();
  fingerprints_.reset();
  std::vector<store::Recipient> recipients;
  for (std::size_t i = 0; i < mailboxes_.size(); ++i) {
    recipients.push_back(dedup::plan_partial(mailboxes_[i], rules_[i], settings, prints));
  }
  store::DeliveryRequest request;
  request.received_at = core::unix_seconds(clock_.now());
  request.flags = store::kFlagPartial;
  request.recipients = std::move(recipients);
  request.dedup_not_before = dedup::window_start(settings, clock_);
  request.message_id = core::printable(prints.message_id_text.value_or(""));
  std::string prefix = dedup::partial_prefix(prints.bytes, break_reason(reason),
                                             prints.message_id.has_value(), prints.has_subject);
  std::shared_ptr<store::Spool> spool(std::move(spool_));
  store::Writer& writer = writer_;
  core::Executor& executor = executor_;
  std::string dir = env_.spool_dir();
  const std::size_t trace_bytes = trace_bytes_;
  std::string id = session_id_;
  POSTERN_LOG_INFO("smtp %s event=partial-kept bytes=%llu message_id=%s reason=%s", id.c_str(),
                   static_cast<unsigned long long>(prints.bytes),
                   request.message_id.empty() ? "-" : request.message_id.c_str(),
                   to_string(reason));
  // The callback holds the spool, so it lives until the callback has run.
  spool->finish([spool, request = std::move(request), prefix, dir, trace_bytes, id, &writer,
                 &executor](core::Result<store::SpooledBody> body) mutable {
    auto keep = std::move(spool);  // destroyed when this callback returns: no cycle left
    if (!body) {
      POSTERN_LOG_WARN("smtp %s event=partial-failed where=%s", id.c_str(), body.error().where);
      return;
    }
    auto original = std::make_shared<store::SpooledBody>(std::move(*body));
    auto relabelled = std::make_shared<std::optional<core::Result<store::SpooledBody>>>();
    executor.submit(
        [original, relabelled, trace_bytes, prefix, dir] {
          relabelled->emplace(relabel(*original, trace_bytes, prefix, dir));
        },
        [relabelled, request = std::move(request), id, &writer]() mutable {
          if (!**relabelled) {
            POSTERN_LOG_WARN("smtp %s event=partial-failed where=%s", id.c_str(),
                             (**relabelled).error().where);
            return;
          }
          request.body = std::move(***relabelled);
          writer.deliver(std::move(request), [id](core::Result<store::DeliveryOutcome> r) {
            if (!r) {
              POSTERN_LOG_WARN("smtp %s event=partial-failed reason=%s where=%s", id.c_str(),
                               core::to_string(r.error().code), r.error().where);
            }
          });
        });
  });
}

}  // namespace postern::smtp
