// Recipient resolution and the spool -> writer path of one SMTP message.
#include "smtp/delivery.h"

#include <algorithm>

#include "core/log.h"
#include "store/catalogue.h"

namespace postern::smtp {

Delivery::Delivery(store::Env& env, store::Writer& writer, core::Executor& executor,
                   const core::Clock& clock)
    : env_(env), writer_(writer), executor_(executor), clock_(clock) {}

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
  if (auto alias = store::find_alias(*txn, target); alias) target = *alias;
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
    mailboxes_.push_back(target);
  }
  return RecipientVerdict::accept;
}

void Delivery::reset() {
  mailboxes_.clear();
  spool_.reset();
}

void Delivery::begin(std::string_view trace_headers) {
  spool_ = std::make_unique<store::Spool>(env_.options(), executor_);
  std::weak_ptr<bool> alive = alive_;
  spool_->set_on_writable([this, alive] {
    if (!alive.expired() && on_writable_) on_writable_();
  });
  spool_->append(trace_headers);
}

void Delivery::append(std::string_view chunk) {
  if (spool_) spool_->append(chunk);
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
  auto mailboxes = mailboxes_;
  spool_->finish([this, alive, done = std::move(done), received_at,
                  mailboxes](core::Result<store::SpooledBody> body) mutable {
    if (alive.expired()) return;
    if (!body) {
      done(body.error());
      return;
    }
    store::DeliveryRequest request;
    request.body = std::move(*body);
    request.received_at = received_at;
    for (auto& address : mailboxes) request.recipients.push_back({std::move(address), {}});
    // The writer owns the body now; the callback may outlive this Delivery.
    writer_.deliver(std::move(request),
                    [alive, done = std::move(done)](core::Result<store::DeliveryOutcome> outcome) {
                      if (alive.expired()) return;  // the client left: its retry is a duplicate
                      if (!outcome) {
                        done(outcome.error());
                        return;
                      }
                      done({});
                    });
  });
}

void Delivery::abort() {
  spool_.reset();
}

}  // namespace postern::smtp
