// smtp::Limits: the numbers one SMTP session enforces, each justified by its RFC clause.
//
// app fills one from the board profile and the saved settings; the session only
// reads it. Lengths count octets including the terminating CRLF.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace postern::smtp {

struct Limits {
  // Our name in the 220 greeting, the EHLO reply and the Received header (RFC 5321 §4.4).
  std::string hostname = "localhost";
  // Advertised as SIZE (RFC 1870) and enforced at MAIL and while counting DATA/BDAT.
  // The one bound on message content: text lines may be of any length within it
  // (RFC 5321 §4.5.3.1: "impose no limits on the length of these objects" where
  // possible), since the body is streamed and never held as lines.
  std::uint64_t max_message_bytes = 25 * 1024 * 1024;
  // RFC 5321 §4.5.3.1.8: a server must accept at least 100 recipients.
  std::size_t max_recipients = 100;
  // RFC 5321 §4.5.3.1.4: 512 octets including CRLF. Extensions may lengthen MAIL
  // (RFC 1870 §3: SIZE adds 26), but with the longest path (256, §4.5.3.1.3) and
  // every parameter we offer a MAIL line is 317 octets, so 512 still suffices.
  std::size_t max_command_line = 512;
  // A command line over max_command_line is answered 500 at once and discarded up
  // to its CRLF; a peer that sends this many octets without one is not speaking
  // SMTP, and gets 421 and a close instead of being read forever.
  std::size_t max_discarded_command_bytes = 64 * 1024;
  // Commands answered while no transaction is open before 421 (slows dictionary probes).
  std::size_t max_commands_before_mail = 30;
  // Replies to peer faults (5xx) before "421 4.7.0 too many errors" and close.
  std::size_t max_errors = 10;
  // RFC 5321 §4.5.3.2.7 (server waits for a command), §4.5.3.2.5 (a data block)
  // and §4.5.3.2.6 (the client waits for our reply to the final dot).
  std::chrono::seconds timeout_command{300};
  std::chrono::seconds timeout_data_block{180};
  std::chrono::seconds timeout_data_termination{600};
  // STARTTLS is offered only when net has a certificate (RFC 3207). No MX may
  // require TLS (RFC 3207 §4), so there is no "required" switch.
  bool tls_available = false;
};

}  // namespace postern::smtp
