// smtp::Session: one SMTP conversation (RFC 5321) for our own domains, sans-I/O.
//
// Bytes in through feed(), replies and message events out through Host. The
// session holds no socket, timer, store or clock of its own: net feeds it and
// arms the timer current_timeout() names, delivery answers message_end() with
// on_committed(). Loop thread only; not copyable.
//
// Typical call sequence (PIPELINING, RFC 2920):
//   Session s(host, limits, clock, peer);          // send("220 ...")
//   s.feed("EHLO a.example\r\nMAIL FROM:<x@a.example>\r\nRCPT TO:<u@ours>\r\nDATA\r\n")
//                                                    // send(EHLO) send(250) check_recipient()
//                                                    // send(250) message_begin() send(354)
//   s.feed("Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n")   // message_data()* message_end();
//                                                    // returns the count up to ".\r\n" only
//   s.wants_input() == false                          // net stops feeding (and reading)
//   s.on_committed({})                                // send("250 2.0.0 Ok: queued as ...")
//   s.feed("QUIT\r\n")                                // net re-offers the rest: send(221) close()
// STARTTLS: feed() returns right after the STARTTLS line, start_tls() was called,
// and wants_input() stays false until on_tls_ready(); net discards what it had
// buffered (CVE-2011-0411).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/enum_set.h"
#include "core/line_framer.h"
#include "core/result.h"
#include "smtp/data_reader.h"
#include "smtp/host.h"
#include "smtp/limits.h"
#include "smtp/replies.h"
#include "smtp/transaction.h"

namespace postern::smtp {

class Session final : private DataReader::Sink {
 public:
  // Sends the 220 greeting. `host`, `limits` and `clock` are borrowed and must
  // outlive the session.
  Session(Host& host, const Limits& limits, const core::Clock& clock, Peer peer);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Consumes whole command lines, DATA body octets and BDAT chunk octets; returns
  // how many octets of `bytes` were consumed. An incomplete command line is left
  // for net to offer again with more bytes; a command line longer than the limit
  // is answered 500 at once, then consumed and discarded in pieces, so net never
  // buffers more than Limits::max_command_line (after
  // Limits::max_discarded_command_bytes without a CRLF: 421 and close). Text
  // lines in DATA and BDAT may be of any length: they are streamed, never held.
  // Stops early when wants_input() turns false.
  std::size_t feed(std::string_view bytes);

  // False while a commit is pending, after STARTTLS until on_tls_ready(), and after close.
  bool wants_input() const;

  // The outcome of the commit started by Host::message_end(): 250, or 452/451
  // (replies.cpp); Errc::fatal adds 421 and close. Ignored unless one is pending.
  void on_committed(core::Result<void> outcome);
  // RFC 3207 §4.2: the handshake is done; forget EHLO and everything before it.
  // REQUIRES: start_tls() was called and on_tls_ready() not yet.
  void on_tls_ready();
  // The current_timeout() timer fired: 421 4.4.2 and close (only close() mid-handshake);
  // mid-message, message_abort(timeout) first.
  void on_timeout();
  // The peer went away: mid-message, message_abort(connection_lost). No close() call.
  void on_disconnect();
  // Idle eviction (net/idle_eviction.h): true while waiting for a command line with no
  // message bytes under way (greeted, after EHLO, or with an envelope before DATA/BDAT),
  // or for the client's TLS handshake after STARTTLS.
  bool awaiting_command() const;
  // The listener closes this idle session for a newcomer or under stress: 421 4.7.0 and
  // close (only close mid-handshake). REQUIRES: awaiting_command().
  void on_evicted();

  // The RFC 5321 §4.5.3.2 timer that applies now; zero once closed.
  std::chrono::seconds current_timeout() const;
  const char* state_name() const;

 private:
  enum class State : std::uint8_t {
    connected,    // greeted; EHLO/HELO needed
    ready,        // after EHLO/HELO, no transaction
    mail,         // MAIL accepted, no recipient yet
    rcpt,         // at least one recipient accepted
    data,         // reading the DATA body
    bdat,         // a BDAT transaction: between or inside chunks (RFC 3030)
    committing,   // message_end() called; waiting for on_committed()
    tls_pending,  // STARTTLS accepted; waiting for on_tls_ready()
    closed,
  };
  // How the next octets are cut; orthogonal to State because a wrong-state BDAT
  // still carries a chunk that must be read past (RFC 3030 §3). Command lines go
  // through core::LineFramer (as POP3's do); a DATA body and a BDAT chunk are not
  // command lines and stay here: their text lines may be of any length and are
  // streamed as they come (§4.5.3.1), DATA is dot-unstuffed to its CRLF.CRLF by
  // DataReader, and a chunk is counted in octets with no line structure at all.
  enum class Framing : std::uint8_t { line, data_body, chunk };

  using StateSet = core::EnumSet<State>;
  using Handler = Reply (Session::*)(std::string_view args);
  struct Command {
    std::string_view verb;
    StateSet legal;
    Handler handler;
    bool carries_chunk;  // BDAT: its payload follows even when the verb is refused
  };
  // The protocol's index (commands.cpp).
  static std::span<const Command> commands();
  static const char* name(State state);

  // Handlers (commands.cpp): preconditions from the table hold; each returns its reply.
  Reply on_ehlo(std::string_view args);
  Reply on_helo(std::string_view args);
  Reply on_mail_from(std::string_view args);
  Reply on_rcpt_to(std::string_view args);
  Reply on_data(std::string_view args);
  Reply on_bdat(std::string_view args);
  Reply on_rset(std::string_view args);
  Reply on_noop(std::string_view args);
  Reply on_quit(std::string_view args);
  Reply on_help(std::string_view args);
  Reply on_vrfy(std::string_view args);
  Reply on_expn(std::string_view args);
  Reply on_starttls(std::string_view args);

  // framing.cpp
  std::size_t take_line(std::string_view rest);
  bool refuse_other_protocol(std::string_view line);
  // session.cpp
  std::size_t feed_data(std::string_view rest);
  std::size_t feed_chunk(std::string_view rest);
  void dispatch(std::string_view line);
  void start_chunk(std::uint64_t size, bool last, Reply refusal);
  void finish_chunk();
  void end_of_data();
  void begin_message(bool via_bdat);
  void fail_message(AbortReason reason);
  void abort_message(AbortReason reason);
  void finish_transaction(State next);
  void answer(const Reply& reply);
  void close_with(const Reply& reply, AbortReason reason = AbortReason::reset);
  void close_quietly_mid_handshake(const char* event, const Reply& goodbye, AbortReason reason);
  void enter(State next);
  std::string_view what_to_do() const;
  std::size_t command_line_limit() const { return limits_.max_command_line; }
  void body(std::string_view unstuffed) override;  // DataReader::Sink

  Host& host_;
  const Limits& limits_;
  const core::Clock& clock_;
  Peer peer_;
  State state_ = State::connected;
  Framing framing_ = Framing::line;
  std::string helo_;               // the EHLO/HELO argument; empty in State::connected
  bool esmtp_ = false;             // EHLO (true) or HELO (false): parameters are EHLO-only
  std::optional<Transaction> tx_;  // from MAIL to the end of the message (OpenSMTPD's smtp_tx)
  std::uint64_t messages_ = 0;     // numbers message ids <session_id>.<n>
  std::size_t errors_ = 0;
  std::size_t commands_without_mail_ = 0;
  core::LineFramer framer_;  // command lines: CRLF only, over-long ones dropped in pieces
  // The BDAT chunk being read: its remaining octets, its size and LAST flag, and
  // for a refused BDAT the reply owed once the chunk has been read past.
  std::uint64_t chunk_remaining_ = 0;
  std::uint64_t chunk_size_ = 0;
  bool chunk_last_ = false;
  Reply chunk_refusal_;
};

}  // namespace postern::smtp
