// The SMTP reply catalogue: every reply the session sends, with its RFC 5321
// code, its RFC 3463 enhanced status code and a text that says what to do.
//
// Enhanced codes (RFC 2034 §3) are on every 2xx/4xx/5xx reply except the 220
// greeting and the EHLO/HELO success lines, whose text is a domain and keywords
// by grammar (RFC 5321 §4.1.1.1); 354 is a 3xx and RFC 3463 has no class 3.
// We send them from the greeting on, whether or not the client said EHLO, so a
// reply looks the same in every state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "smtp/host.h"

namespace postern::smtp {

struct Reply {
  int code = 0;               // 0: nothing to send (already written, or deferred)
  const char* enhanced = "";  // "" when the reply carries none (see above)
  std::string text;
  bool peer_fault = false;  // counts towards Limits::max_errors
  // A multi-line reply (RFC 5321 §4.2.1) when not empty: these lines instead of `text`.
  std::vector<std::string> lines;
  // The action that goes with the reply: the session ends and the glue closes the
  // connection once the reply is written (QUIT's 221, RFC 5321 §4.1.1.10; every 421).
  bool close_after = false;

  bool empty() const { return code == 0; }
  // "250 2.1.0 Sender ok\r\n"; multi-line "250-first\r\n250-...\r\n250 last\r\n".
  std::string wire() const;
};

namespace replies {

Reply none();  // the reply is deferred (after a BDAT chunk), or close_with() sent it
Reply greeting(std::string_view hostname);
Reply helo(std::string_view hostname);
// EHLO's success (RFC 5321 §4.1.1.1): the hostname line, then one extension a line.
Reply ehlo(std::vector<std::string> lines);
Reply ok();
Reply sender_ok();
Reply recipient_ok();
Reply start_data();
Reply queued(std::string_view message_id);
Reply chunk_received(std::uint64_t octets);
Reply bye(std::string_view hostname);
Reply help();
Reply cannot_vrfy();
Reply expn_refused();
Reply ready_to_start_tls();

// Peer faults.
Reply unknown_command();
Reply command_bare_line_ending();
Reply command_too_long(std::size_t max_octets);
Reply command_control_byte();
Reply syntax(std::string_view what_to_do);
Reply bad_sender_syntax();
Reply bad_recipient_syntax();
Reply unknown_parameter();
Reply address_needs_smtputf8();
Reply sender_not_utf8();
Reply recipient_not_utf8();
Reply bad_sequence(std::string_view what_to_do);
Reply no_valid_recipients();
Reply too_big(std::uint64_t max_octets);
Reply bad_line_ending();
Reply tls_not_available();
Reply tls_already_active();

// RCPT outcomes other than accept; temporary ones are not peer faults.
Reply recipient_verdict(RecipientVerdict verdict);
Reply too_many_recipients();

// The durable commit's outcome, translated once here (STYLE.md "Errors are values").
Reply commit_failed(const core::Error& error);

// Closing replies (421, and 554 for another protocol); the session closes after sending one.
Reply too_many_errors(std::string_view hostname);
Reply too_many_commands(std::string_view hostname);
Reply timeout(std::string_view hostname);
// Idle eviction under load (net/idle_eviction.h): RFC 5321 §3.8, 421 then close.
Reply busy_idle_closed(std::string_view hostname);
Reply command_line_never_ends(std::string_view hostname);
Reply other_protocol();
Reply local_error_closing(std::string_view hostname);

}  // namespace replies
}  // namespace postern::smtp
