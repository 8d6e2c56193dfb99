// net::SessionHandler<Session>: the net::ConnectionHandler events that every session
// protocol's conversation (smtp::Conversation, pop3::Conversation) answers the same way,
// written once over its SessionLink. What stays in each conversation is what differs:
// pump()'s gate (SMTP also waits for the spool; POP3 for its completions), timeouts,
// idle eviction, on_drain, on_closed's ownership, and the protocol's Host.
//
//   on_input       -> pump()                                    (offer the buffered input)
//   on_tls_ready   -> session.on_tls_ready(), pump()            (RFC 3207 §4.2, RFC 2595 §4)
//   on_eof         -> session.on_disconnect() once, close after the flush
//   on_timeout     -> session.on_timeout()                      (it says goodbye, or not)
// on_eof comes only while reading is not paused, so pipelined commands and a FIN are
// served whole before it: what is left is a drop (RFC 1939 §6: no UPDATE).
#pragma once

#include "net/connection.h"
#include "net/session_link.h"

namespace postern::net {

// Loop thread only. Session: on_tls_ready(), on_disconnect(), on_timeout().
template <class Session>
class SessionHandler : public ConnectionHandler {
 public:
  void on_input(Connection&) override { pump(); }
  void on_tls_ready(Connection&) override {
    session().on_tls_ready();
    pump();
  }
  void on_eof(Connection& conn) override {
    link_.on_eof(conn, [this] { session().on_disconnect(); });
  }
  void on_timeout(Connection&) override { session().on_timeout(); }

 protected:
  explicit SessionHandler(Connection& conn) : link_(conn) {}
  ~SessionHandler() override = default;

  virtual Session& session() = 0;
  // Offers the buffered input to the session through link_.offer(), behind the gate.
  virtual void pump() = 0;
  // For on_closed(): forgets the connection; the session hears of the drop unless on_eof
  // already told it.
  void connection_closed() {
    link_.on_closed([this] { session().on_disconnect(); });
  }

  SessionLink link_;  // the connection, until net calls on_closed()
};

}  // namespace postern::net
