// What a POP3 session asks of its surroundings: the seam between the pure session and net/store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "pop3/maildrop.h"

namespace postern::pop3 {

enum class EndReason {
  quit,            // QUIT in AUTHORIZATION, or QUIT in TRANSACTION with the UPDATE committed
  update_failed,   // QUIT, but the UPDATE commit failed: nothing was removed
  disconnect,      // the peer went away without QUIT (RFC 1939 §6: no UPDATE)
  timeout,         // autologout (RFC 1939 §3): no UPDATE
  error_limit,     // Limits::max_errors protocol errors
  store_error,     // a message could not be read in the middle of RETR/TOP
  wrong_protocol,  // an HTTP request line or header line instead of a command (ALPACA)
  line_flood,      // Limits::max_discarded_bytes without a line end
};
const char* to_string(EndReason reason) noexcept;

// Reported once per session. The seed report (users receiving the same mail again and
// again) comes from clients that drop without QUIT: those ends are "abnormal" and carry
// what the client fetched and had marked, so the operator can see it in the event log.
struct SessionSummary {
  std::string user;            // empty if no login succeeded
  bool authenticated = false;  // reached TRANSACTION
  EndReason reason = EndReason::quit;
  // Distinct messages sent in full: by RETR, or by a TOP whose line count covered the whole
  // message (fetchmail's "TOP n 99999999"). Recorded as retrieved at UPDATE, too.
  std::size_t retrieved = 0;
  std::size_t marked_deleted = 0;  // marked by DELE (after any RSET) when the session ended
  std::size_t removed = 0;         // actually removed by a committed UPDATE
  std::chrono::seconds duration{0};
  bool abnormal() const { return reason != EndReason::quit; }
  // What the client was doing, as the event log and the page explain it: "delete" when it
  // had marked messages with DELE (lost with the missing QUIT, RFC 1939 §6), "keep" when
  // it downloaded without DELE (leave-on-server), "none" when it did neither.
  const char* mode() const {
    return marked_deleted > 0 ? "delete" : retrieved > 0 ? "keep" : "none";
  }
};

// Implemented by the glue (server.cpp). All calls come from the loop thread; none of them
// re-enters the session. Calls marked ASYNC answer later through a Session completion.
//
// Typical order:
//   send(greeting)  [start_tls() ... on_tls_ready]  check_password() ... on_password_checked
//   open_maildrop() ... on_maildrop_opened
//   (read_message_chunk()* [can_send_more() ... on_drain])*
//   update() ... on_updated  session_ended()  close()
struct Host {
  virtual ~Host() = default;

  // Queues bytes for the client. Only sends. Takes the buffer: net writes it without
  // another copy (a RETR chunk is copied once from the store and once while stuffing).
  virtual void send(std::string bytes) = 0;

  // ASYNC: answer with Session::on_password_checked(). The host runs PBKDF2 off the loop
  // and delays its answer by core::Throttle's delay for the peer address and the user.
  virtual void check_password(std::string_view user, std::string_view password) = 0;

  // ASYNC: answer with Session::on_maildrop_opened(). Locks the maildrop for this session
  // (on the loop thread), then snapshots it on the thread pool: a listing proportional to
  // the maildrop must not stall the loop (issue 16 §3). Errc::busy -> "-ERR [IN-USE]";
  // Errc::denied -> "-ERR [LOGIN-DELAY]" (the host enforces Limits::login_delay); anything
  // else -> "-ERR [SYS/TEMP]". The host keeps the lock until session_ended() (or releases it
  // itself when it answers with an error).
  virtual void open_maildrop(std::string_view user) = 0;

  // Synchronous: chunk `chunk_index` (0, 1, ...) of the stored message, CRLF line ends, not
  // dot-stuffed; "" after the last chunk. Each call copies one chunk in its own short read
  // transaction, so a stalled client pins no LMDB pages.
  virtual core::Result<std::string> read_message_chunk(const MessageEntry& message,
                                                       std::size_t chunk_index) = 0;

  // False while net's write queue is above its cap; net calls Session::on_drain() when it
  // falls below again. Streamed replies (RETR, TOP, a LIST or UIDL listing) send in batches
  // while this holds, so one reply never occupies the loop for more than a batch or two.
  virtual bool can_send_more() const = 0;

  // ASYNC: commit the UPDATE state (RFC 1939 §6) in one write transaction: remove
  // `deleted_keys`, record `retrieved_keys` as fetched. Answer with Session::on_updated().
  virtual void update(const std::vector<std::uint64_t>& deleted_keys,
                      const std::vector<std::uint64_t>& retrieved_keys) = 0;

  // Exactly once per session, before close() (or after on_disconnect()).
  virtual void session_ended(const SessionSummary& summary) = 0;

  // Called right after "+OK Begin TLS negotiation" was sent. net must discard every
  // plaintext byte it holds that feed() did not consume (RFC 2595 §4; CVE-2011-0411 is
  // the bug of keeping them), then call Session::on_tls_ready() once the handshake is done.
  virtual void start_tls() = 0;

  // Close the connection once queued bytes are flushed. The only call that may follow is
  // session_ended(), when the autologout fired while an UPDATE commit was in flight.
  virtual void close() = 0;
};

}  // namespace postern::pop3
