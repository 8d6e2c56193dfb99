// One POP3 conversation (RFC 1939, RFC 2449, RFC 5034, RFC 2595), sans-I/O.
//
// Typical call sequences (net and the store glue drive it; tests drive it with a transcript):
//   Session s(host, limits, clock, peer);        // sends "+OK <host> POP3 server ready"
//   n = s.feed(bytes);                           // whole lines only; net keeps bytes[n..]
//   PASS      -> host.check_password()           // wants_input() false until:
//                s.on_password_checked(true)     // host.open_maildrop(), still waiting:
//                s.on_maildrop_opened(snapshot)  // "+OK Logged in, ..." (RFC 1939 §4)
//   RETR 1    -> "+OK 120 octets", chunks while host.can_send_more(); wants_input() false
//                s.on_drain()                    // until the terminating ".\r\n" is sent
//   UIDL/LIST -> the listing in batches while host.can_send_more(), resumed by on_drain()
//   QUIT      -> host.update(deleted, retrieved); s.on_updated(ok) -> "+OK ...", close()
//   STLS      -> "+OK Begin TLS negotiation", host.start_tls(); s.on_tls_ready()
//   s.on_timeout() / s.on_disconnect()           // no UPDATE; session_ended(abnormal)
// After each completion, net offers the unconsumed bytes to feed() again if wants_input().
//
// Thread affinity: loop thread only. Lifetime: the Session references `host` and `clock`,
// which must outlive it; the host keeps the Session alive until it has delivered (or
// dropped) any pending completion. Completions that arrive when not awaited are ignored.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/line_framer.h"
#include "core/result.h"
#include "pop3/dot_stuffer.h"
#include "pop3/host.h"
#include "pop3/limits.h"
#include "pop3/maildrop.h"
#include "pop3/replies.h"

namespace postern::pop3 {

// RFC 1939 §3 states, plus sasl_response (AUTHORIZATION while an AUTH exchange awaits the
// client's continuation line) and closed (no more input, no more output).
enum class State : std::uint8_t { authorization, sasl_response, transaction, update, closed };
const char* to_string(State state) noexcept;

class Session {
 public:
  // Sends the greeting through host.send(). `host` and `clock` must outlive the Session.
  Session(Host& host, const Limits& limits, const core::Clock& clock, Peer peer);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Processes whole lines (CRLF, or a bare LF; see feed's comment in session.cpp) in order
  // and returns the bytes consumed. Stops early when wants_input() turns false: the caller
  // keeps the rest and offers it again after the completion.
  std::size_t feed(std::string_view bytes);
  // False while a password check, a maildrop snapshot, a streamed reply (RETR, TOP, LIST,
  // UIDL), an UPDATE commit or a TLS handshake is pending, and after the session ended.
  bool wants_input() const;

  // Completion of Host::check_password(): true for a good password, false for a bad one,
  // an error when the check itself failed (-ERR [SYS/TEMP]).
  void on_password_checked(core::Result<bool> outcome);
  // Completion of Host::open_maildrop(): the locked maildrop's snapshot enters TRANSACTION
  // with "+OK Logged in"; an error is its -ERR reply (the state stays AUTHORIZATION).
  void on_maildrop_opened(core::Result<Maildrop> snapshot);
  // net's write queue drained: continue a streamed RETR, TOP or listing.
  void on_drain();
  // Completion of Host::update(): "+OK ... signing off" or "-ERR [SYS/TEMP] ...", then close.
  void on_updated(core::Result<void> outcome);
  // RFC 2595 §4: TLS is up. Forgets everything learned before it (a pending USER, a
  // half-discarded long line); the state stays AUTHORIZATION. On POP3S (created with
  // tls_active) the handshake was not awaited and this is ignored.
  void on_tls_ready();
  // RFC 1939 §3 autologout: close without UPDATE and without a reply.
  void on_timeout();
  // The peer went away: no UPDATE (RFC 1939 §6). Does not call Host::close().
  void on_disconnect();

  State state() const { return state_; }
  const Peer& peer() const { return peer_; }
  const Limits& limits() const { return limits_; }

  struct Command;  // commands.cpp: verb, legal states, handler

 private:
  enum class Waiting : std::uint8_t { nothing, password, maildrop, stream, update, tls };
  struct Stream {  // a RETR/TOP under way
    MessageEntry message;
    std::uint64_t number = 0;
    std::size_t next_chunk = 0;
    DotStuffer stuffer;
  };
  struct Listing {            // a multi-line LIST or UIDL under way
    bool unique_ids = false;  // UIDL, else LIST
    std::uint64_t next = 1;   // the next message number to list
  };
  using Handler = Reply (Session::*)(std::string_view args);

  static std::span<const Command> commands();
  static const Command* find_command(std::string_view verb);

  // session.cpp: lines, dispatch, transitions, completions, endings.
  void handle_line(std::string_view line);
  void refuse_long_line();
  void refuse_control_byte();
  void dispatch(std::string_view line);
  void respond(const Reply& reply);  // send(), counting -ERR towards Limits::max_errors
  void send(const Reply& reply);
  void enter(State next);
  void end(EndReason reason, bool close_connection);
  bool plaintext_allowed() const;

  // session_auth.cpp: AUTHORIZATION.
  Reply on_user(std::string_view args);
  Reply on_pass(std::string_view args);
  Reply on_auth(std::string_view args);
  Reply on_stls(std::string_view args);
  Reply on_capa(std::string_view args);
  Reply on_quit(std::string_view args);
  Reply on_utf8(std::string_view args);
  Reply on_lang(std::string_view args);
  void on_sasl_response(std::string_view line);
  Reply check_plain(std::string_view base64);
  void start_password_check(std::string user, std::string password);

  // session_transaction.cpp: TRANSACTION.
  Reply on_stat(std::string_view args);
  Reply on_list(std::string_view args);
  Reply on_retr(std::string_view args);
  Reply on_dele(std::string_view args);
  Reply on_noop(std::string_view args);
  Reply on_rset(std::string_view args);
  Reply on_top(std::string_view args);
  Reply on_uidl(std::string_view args);
  std::optional<Reply> check_message(std::uint64_t number) const;
  Reply start_stream(std::uint64_t number, std::optional<std::uint64_t> top_lines);
  bool emit_chunk(std::string_view chunk, std::string& out);
  void pump();
  Reply start_listing(bool unique_ids, const Reply& head);
  bool emit_listing(std::string& out);
  void pump_listing();

  Host& host_;
  Limits limits_;
  const core::Clock& clock_;
  Peer peer_;
  core::TimePoint started_;

  State state_ = State::authorization;
  Waiting waiting_ = Waiting::nothing;
  core::LineFramer framer_;       // command lines: CRLF or bare LF, over-long ones dropped
  bool ended_ = false;            // session_ended() was called
  bool connection_gone_ = false;  // on_disconnect/on_timeout/close: send nothing more
  std::size_t errors_ = 0;

  std::optional<std::string> pending_user_;  // USER accepted, PASS awaited
  bool utf8_ = false;                        // RFC 6856 §2: the client sent UTF8
  std::string user_;                         // the user whose password is being checked
  bool authenticated_ = false;
  std::size_t removed_ = 0;  // messages a committed UPDATE removed
  MaildropView maildrop_;
  std::optional<Stream> stream_;
  std::optional<Listing> listing_;
};

}  // namespace postern::pop3
