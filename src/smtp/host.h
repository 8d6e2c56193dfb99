// smtp::Host: what a Session asks of the layers around it (net sends, delivery stores).
//
// Every call is synchronous and must not re-enter the Session: results of slow
// work (the durable commit, the TLS handshake) come back later through
// Session::on_committed() and Session::on_tls_ready(). Loop thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::smtp {

// The connection as net saw it.
struct Peer {
  std::string address;      // "192.0.2.7" or "2001:db8::7", for the Received header
  bool tls_active = false;  // true for implicit TLS; STARTTLS sets it later
  std::string session_id;   // short id for logs and message ids ("3f2a")
};

// The host's decision about one RCPT (RFC 5321 §4.2.2 / RFC 3463 codes in replies.cpp).
enum class RecipientVerdict { accept, unknown_user, relay_denied, over_quota, temp_failure };

// Why a message that was begun is not being stored.
enum class AbortReason {
  too_big,          // more octets than Limits::max_message_bytes (RFC 1870)
  bad_line_ending,  // a bare CR or LF in DATA (RFC 5321 §2.3.8)
  connection_lost,  // the peer went away mid-message
  timeout,          // RFC 5321 §4.5.3.2 timer fired mid-message
  reset,            // RSET (or a new EHLO) between BDAT chunks
};

const char* to_string(AbortReason reason) noexcept;
const char* to_string(RecipientVerdict verdict) noexcept;

// The envelope of the transaction under way (RFC 5321 §2.3.1).
struct Envelope {
  std::string helo;                            // the EHLO/HELO argument
  std::string reverse_path;                    // without <>; empty for the null reverse-path
  std::vector<std::string> recipients;         // accepted forward-paths without <>
  bool eight_bit_mime = false;                 // BODY=8BITMIME (RFC 6152)
  bool smtputf8 = false;                       // SMTPUTF8 (RFC 6531)
  std::optional<std::uint64_t> declared_size;  // SIZE= (RFC 1870)
  bool via_bdat = false;                       // body arrives by BDAT (RFC 3030)
};

// Typical call sequence for one accepted message:
//   send("220 ...") send(EHLO reply) send("250 2.1.0 ...") check_recipient()* send(...)
//   message_begin() message_data()* message_end()   ... Session::on_committed() ... send("250 ...")
// A message that fails after message_begin() gets exactly one message_abort() and
// no message_end(); message_data() is never called after either.
struct Host {
  virtual ~Host() = default;
  // Whole reply lines, CRLF included; net queues them in order.
  virtual void send(std::string_view reply_bytes) = 0;
  // `recipient` is the forward-path without <>, or "postmaster" for <Postmaster>.
  virtual RecipientVerdict check_recipient(const Envelope& envelope,
                                           std::string_view recipient) = 0;
  // `trace_headers` are Return-Path and Received, each CRLF-terminated (RFC 5321 §4.4).
  virtual void message_begin(const Envelope& envelope, std::string_view trace_headers) = 0;
  // Body octets as received: CRLF line ends, dot-unstuffed; at most 64 KiB per call.
  // The view is valid only during the call.
  virtual void message_data(std::string_view chunk) = 0;
  // Starts the durable commit; the session waits for Session::on_committed().
  virtual void message_end() = 0;
  virtual void message_abort(AbortReason reason) = 0;
  // Called after "220 2.0.0 Ready to start TLS" was sent: net must discard any
  // plaintext it buffered after the STARTTLS line (CVE-2011-0411), then handshake.
  virtual void start_tls() = 0;
  // Called after a 221 or 421: net flushes what was sent and closes.
  virtual void close() = 0;
};

}  // namespace postern::smtp
