// smtp::Conversation: one SMTP connection, wiring net::Connection to a Session
// (as its Host) and the Session's messages to a Delivery.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "net/connection.h"
#include "net/session_handler.h"
#include "smtp/delivery.h"
#include "smtp/session.h"

namespace postern::smtp {

// Owns itself: deleted in on_closed(). Loop thread only.
class Conversation final : public net::SessionHandler<Session>, private Host {
 public:
  Conversation(net::Connection& conn, std::shared_ptr<const Limits> limits, Delivery delivery,
               const core::Clock& clock, const tls::ServerConfig* tls, Peer peer,
               std::function<void(const core::Error&)> on_fatal,
               std::function<void(const std::string&)> on_broken_session);

  // net::ConnectionHandler (on_input, on_tls_ready, on_eof, on_timeout: SessionHandler)
  void on_closed(net::Connection& conn) override;
  bool idle_evictable(const net::Connection& conn) const override;
  void on_evict(net::Connection& conn) override;

 private:
  // Host
  void send(std::string_view reply_bytes) override;
  RecipientVerdict check_recipient(const Envelope& envelope, std::string_view recipient) override;
  void message_begin(const Envelope& envelope, std::string_view trace_headers) override;
  void message_data(std::string_view chunk) override;
  void message_end() override;
  void message_abort(AbortReason reason) override;
  void start_tls() override;
  void close() override;

  // net::SessionHandler
  Session& session() override { return session_; }
  void pump() override;

  std::shared_ptr<const Limits> limits_;
  Delivery delivery_;
  const tls::ServerConfig* tls_;
  std::function<void(const core::Error&)> on_fatal_;
  std::function<void(const std::string&)> on_broken_session_;
  std::string peer_address_;
  std::string session_id_;
  Session session_;  // last: its constructor sends the greeting through *this
};

}  // namespace postern::smtp
