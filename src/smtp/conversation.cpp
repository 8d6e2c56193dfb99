// One SMTP connection: feeding the session, pausing for commits and spool
// backpressure, STARTTLS, timeouts and drops.
#include "smtp/conversation.h"

#include "core/log.h"

namespace postern::smtp {

Conversation::Conversation(net::Connection& conn, std::shared_ptr<const Limits> limits,
                           Delivery delivery, const core::Clock& clock,
                           const tls::ServerConfig* tls, Peer peer,
                           std::function<void(const core::Error&)> on_fatal,
                           std::function<void(const std::string&)> on_broken_session)
    : SessionHandler(conn),
      limits_(std::move(limits)),
      delivery_(std::move(delivery)),
      tls_(tls),
      on_fatal_(std::move(on_fatal)),
      on_broken_session_(std::move(on_broken_session)),
      peer_address_(peer.address),
      session_id_(peer.session_id),
      session_(*this, *limits_, clock, std::move(peer)) {
  delivery_.set_on_writable([this] { pump(); });
  conn.set_timeout(session_.current_timeout());
}

void Conversation::pump() {
  // RFC 2920: nothing pipelined after "." is read or answered before its 250;
  // and the spool's backpressure stops the socket, bounding memory per session.
  const bool offered =
      link_.offer([this](std::string_view bytes) { return session_.feed(bytes); },
                  [this] { return session_.wants_input() && delivery_.wants_more(); });
  if (!offered || !link_.open()) return;
  auto timeout = session_.current_timeout();
  if (timeout.count() > 0) link_.connection()->set_timeout(timeout);
}

// Idle eviction (net/idle_eviction.h): between commands, no partial line buffered, no
// commit pending (its 250 is owed), never in DATA/BDAT.
bool Conversation::idle_evictable(const net::Connection& conn) const {
  return session_.awaiting_command() && conn.input().empty() && !link_.offering();
}

void Conversation::on_evict(net::Connection&) {
  session_.on_evicted();
}

void Conversation::on_closed(net::Connection&) {
  connection_closed();
  delete this;
}

void Conversation::send(std::string_view reply_bytes) {
  link_.send(reply_bytes);
}

RecipientVerdict Conversation::check_recipient(const Envelope& envelope,
                                               std::string_view recipient) {
  return delivery_.resolve(envelope, recipient);
}

void Conversation::message_begin(const Envelope&, std::string_view trace_headers) {
  delivery_.begin(trace_headers);
}

void Conversation::message_data(std::string_view chunk) {
  delivery_.append(chunk);
}

void Conversation::message_end() {
  delivery_.end([this](core::Result<void> outcome) {
    if (!outcome && outcome.error().code == core::Errc::fatal) on_fatal_(outcome.error());
    if (!outcome) {
      POSTERN_LOG_WARN("smtp %s event=delivery-failed reason=%s where=%s", session_id_.c_str(),
                       core::to_string(outcome.error().code), outcome.error().where);
    }
    session_.on_committed(outcome);
    pump();
  });
}

void Conversation::message_abort(AbortReason reason) {
  // A broken DATA (connection lost, timeout) goes through the partial policy,
  // and the link to that peer is worth a trace (RFC 1047's bad-link case).
  const bool broken = reason == AbortReason::connection_lost || reason == AbortReason::timeout;
  if (broken && on_broken_session_) on_broken_session_(peer_address_);
  delivery_.abort(reason);
}

void Conversation::start_tls() {
  link_.start_tls(tls_);  // discards any plaintext pipelined after STARTTLS (CVE-2011-0411)
}

void Conversation::close() {
  link_.close();
}

}  // namespace postern::smtp
