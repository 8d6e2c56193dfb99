// net::SessionLink: what every service's per-connection glue does the same way between a
// net::Connection and its sans-I/O session (SMTP, POP3): sending while the connection is
// open, STARTTLS/STLS, closing after the flush, offering input without re-entering, and
// telling the session of a drop exactly once.
//
// Typical use, inside a service's ConnectionHandler (its "conversation"):
//   Conversation(Connection& conn, ...) : link_(conn), session_(*this, ...) {}
//   on_input:   link_.offer(feed, gate);        // net::offer_input, never re-entered
//   Host::send: link_.send(std::move(bytes));   // dropped once the connection is gone
//   Host::start_tls: link_.start_tls(config);   Host::close: link_.close();
//   on_eof:     link_.on_eof(conn, [this] { session_.on_disconnect(); });
//   on_closed:  link_.on_closed([this] { session_.on_disconnect(); });  then delete
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "net/connection.h"
#include "net/offer_input.h"
#include "tls/server_config.h"

namespace postern::net {

// Borrows the connection until on_closed(); afterwards every call is a no-op. Loop thread
// only.
class SessionLink {
 public:
  explicit SessionLink(Connection& conn) : conn_(&conn) {}
  SessionLink(const SessionLink&) = delete;
  SessionLink& operator=(const SessionLink&) = delete;

  bool open() const { return conn_ != nullptr; }
  Connection* connection() const { return conn_; }  // null once closed
  bool offering() const { return offering_; }       // inside offer(), further up the stack

  // --- what a session's Host asks ---
  void send(std::string_view bytes) {
    if (conn_ != nullptr) conn_->send(bytes);
  }
  void send(std::string&& bytes) {
    if (conn_ != nullptr) conn_->send(std::move(bytes));
  }
  bool can_send_more() const { return conn_ != nullptr && conn_->can_send_more(); }
  // After the session queued its go-ahead (220 / +OK): net discards the plaintext pipelined
  // behind the command (RFC 3207 §4.2, RFC 2595 §4, CVE-2011-0411), then the handshake
  // runs; on_tls_ready follows. No config (no certificate loaded) or no connection: nothing
  // happens. A filter that cannot be set up aborts the connection.
  void start_tls(const tls::ServerConfig* config);
  // Close once the queued replies are written (close_after_flush).
  void close() {
    if (conn_ != nullptr) conn_->close_after_flush();
  }

  // net::offer_input(*conn, feed, gate), unless an offer is already running further up the
  // stack (a completion delivered from inside feed(), as an inline executor does): that
  // offer goes on with the rest. Returns false when it did not offer.
  template <class Feed, class Gate>
  bool offer(Feed&& feed, Gate&& gate) {
    if (conn_ == nullptr || offering_) return false;
    offering_ = true;
    offer_input(*conn_, std::forward<Feed>(feed), std::forward<Gate>(gate));
    offering_ = false;
    return true;
  }

  // --- ConnectionHandler events ---
  // The peer finished sending; everything it sent before was offered (on_eof comes only
  // while reading is not paused). `tell_session` (its on_disconnect) runs if it has not yet,
  // then the connection closes once the queued replies are out.
  template <class Tell>
  void on_eof(Connection& conn, Tell&& tell_session) {
    if (mark_disconnected()) tell_session();
    conn.close_after_flush();
  }
  // The connection is gone (net deletes it after this); `tell_session` runs unless on_eof
  // already did.
  template <class Tell>
  void on_closed(Tell&& tell_session) {
    conn_ = nullptr;
    if (mark_disconnected()) tell_session();
  }

 private:
  bool mark_disconnected() {
    if (disconnected_) return false;
    disconnected_ = true;
    return true;
  }

  Connection* conn_;
  bool offering_ = false;
  bool disconnected_ = false;  // the session was told of the drop
};

}  // namespace postern::net
