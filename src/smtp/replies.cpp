// The SMTP reply catalogue (see replies.h): codes from RFC 5321 §4.2, enhanced
// codes from RFC 3463 and the IANA registry.
#include "smtp/replies.h"

#include <cstdio>

namespace postern::smtp {
namespace {

Reply make(int code, const char* enhanced, std::string text, bool peer_fault = false) {
  return Reply{code, enhanced, std::move(text), peer_fault, {}};
}

Reply fault(int code, const char* enhanced, std::string text) {
  return make(code, enhanced, std::move(text), true);
}

std::string with_number(const char* format, std::uint64_t n) {
  char buf[200];
  std::snprintf(buf, sizeof buf, format, static_cast<unsigned long long>(n));
  return buf;
}

std::string multiline_wire(int code, const std::vector<std::string>& lines) {
  std::string out;
  const std::string prefix = std::to_string(code);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += prefix;
    out += (i + 1 == lines.size()) ? ' ' : '-';
    out += lines[i];
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::string Reply::wire() const {
  if (!lines.empty()) return multiline_wire(code, lines);
  std::string out = std::to_string(code);
  out += ' ';
  if (*enhanced != '\0') {
    out += enhanced;
    out += ' ';
  }
  out += text;
  out += "\r\n";
  return out;
}

namespace replies {

Reply none() {
  return Reply{};
}

Reply greeting(std::string_view hostname) {
  // "ESMTP" in the greeting: some clients try EHLO only when they see it.
  return make(220, "", std::string(hostname) + " ESMTP postern");
}
Reply helo(std::string_view hostname) {
  return make(250, "", std::string(hostname));
}
Reply ehlo(std::vector<std::string> lines) {
  Reply reply = make(250, "", {});
  reply.lines = std::move(lines);
  return reply;
}
Reply ok() {
  return make(250, "2.0.0", "Ok");
}
Reply sender_ok() {
  return make(250, "2.1.0", "Sender ok");
}
Reply recipient_ok() {
  return make(250, "2.1.5", "Recipient ok");
}
Reply start_data() {
  return make(354, "", "End data with <CR><LF>.<CR><LF>");
}
Reply queued(std::string_view message_id) {
  return make(250, "2.0.0", "Ok: queued as " + std::string(message_id));
}
Reply chunk_received(std::uint64_t octets) {
  return make(250, "2.0.0", with_number("%llu octets received", octets));
}
Reply bye(std::string_view hostname) {
  Reply reply = make(221, "2.0.0", std::string(hostname) + " closing connection");
  reply.close_after = true;
  return reply;
}
Reply help() {
  return make(214, "2.0.0",
              "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS; "
              "see RFC 5321");
}
Reply cannot_vrfy() {
  // RFC 5321 §3.5.3: 252 when we will not say whether a user exists.
  return make(252, "2.0.0", "Cannot VRFY user; send the message and delivery will be attempted");
}
Reply expn_refused() {
  // RFC 5321 §3.5.2/§7.3: EXPN may be disabled; we host no mailing lists, so a
  // 252 ("will attempt") would promise a list we cannot expand.
  return fault(502, "5.5.1", "EXPN not available here");
}
Reply ready_to_start_tls() {
  return make(220, "2.0.0", "Ready to start TLS");
}

Reply unknown_command() {
  return fault(500, "5.5.2", "Command unrecognised; try HELP");
}
Reply command_bare_line_ending() {
  return fault(500, "5.5.2",
               "Command line rejected: bare CR or LF; end every line with CRLF "
               "(RFC 5321 §2.3.8)");
}
Reply command_too_long(std::size_t max_octets) {
  // RFC 5321 §4.5.3.1.10: "500 Line too long". X.5.6 was registered by RFC 4954
  // for an over-long AUTH line; it is the registry's only "line too long" code,
  // and a client reading the enhanced code learns exactly what went wrong.
  return fault(500, "5.5.6",
               with_number("Line too long; command lines are limited to %llu octets", max_octets));
}
Reply command_control_byte() {
  // RFC 5321 §4.1.2: no production of a command admits a C0 control or DEL.
  return fault(501, "5.5.2",
               "Syntax error: control character in the command line; send printable text only");
}
Reply syntax(std::string_view what_to_do) {
  return fault(501, "5.5.4", "Syntax error: " + std::string(what_to_do));
}
Reply bad_sender_syntax() {
  return fault(501, "5.1.7", "Bad sender address syntax; use MAIL FROM:<user@domain> or <>");
}
Reply bad_recipient_syntax() {
  return fault(501, "5.1.3", "Bad recipient address syntax; use RCPT TO:<user@domain>");
}
Reply unknown_parameter() {
  // RFC 5321 §4.1.1.11: 555 for MAIL/RCPT parameters not recognised.
  return fault(555, "5.5.4", "Parameter not recognised; see the EHLO reply for what we support");
}
Reply address_needs_smtputf8() {
  // RFC 6531 §3.3 and its 553 5.6.7 for a non-ASCII address without SMTPUTF8.
  return fault(553, "5.6.7",
               "Non-ASCII address without SMTPUTF8: add the SMTPUTF8 parameter to MAIL FROM, "
               "or use an ASCII address");
}
Reply sender_not_utf8() {
  return fault(501, "5.1.7",
               "Bad sender address: not valid UTF-8, or it holds a control character "
               "(RFC 6531 §3.3)");
}
Reply recipient_not_utf8() {
  return fault(501, "5.1.3",
               "Bad recipient address: not valid UTF-8, or it holds a control character "
               "(RFC 6531 §3.3)");
}
Reply bad_sequence(std::string_view what_to_do) {
  return fault(503, "5.5.1", "Bad sequence of commands: " + std::string(what_to_do));
}
Reply no_valid_recipients() {
  // RFC 5321 §3.3: 554 "no valid recipients" for DATA with none accepted.
  return fault(554, "5.5.1", "No valid recipients; send RCPT TO first");
}
Reply too_big(std::uint64_t max_octets) {
  // RFC 1870 §6.2/§6.3: 552 with 5.3.4 (RFC 3463).
  return fault(552, "5.3.4",
               with_number("Message too big: this mailbox accepts at most %llu octets; "
                           "send a link to the file instead, or split it into smaller messages",
                           max_octets));
}
Reply bad_line_ending() {
  return fault(550, "5.6.0",
               "Message rejected: bare CR or LF in the data; send CRLF line endings "
               "(RFC 5321 §2.3.8)");
}
Reply tls_not_available() {
  return fault(502, "5.5.1", "STARTTLS not available");
}
Reply tls_already_active() {
  return fault(503, "5.5.1", "TLS already active");
}

Reply recipient_verdict(RecipientVerdict verdict) {
  switch (verdict) {
    case RecipientVerdict::accept:
      return recipient_ok();
    case RecipientVerdict::unknown_user:
      return fault(550, "5.1.1", "Mailbox unknown; check the address");
    case RecipientVerdict::relay_denied:
      return fault(550, "5.7.1", "Relay denied: we do not relay; send to the domain's own MX");
    case RecipientVerdict::over_quota:
      return make(452, "4.2.2", "Mailbox full; try again later");
    case RecipientVerdict::temp_failure:
      return make(451, "4.3.0", "Temporary local failure; try again later");
  }
  return make(451, "4.3.0", "Temporary local failure; try again later");
}
Reply too_many_recipients() {
  // RFC 5321 §4.5.3.1.10: 452 so the client sends the rest in another transaction.
  return make(452, "4.5.3", "Too many recipients; send the rest in another transaction");
}

Reply commit_failed(const core::Error& error) {
  if (error.code == core::Errc::full) {
    return make(452, "4.3.1", "Insufficient system storage; try again later");
  }
  return make(451, "4.3.0", "Local error in processing; try again later");
}

Reply too_many_errors(std::string_view hostname) {
  return make(421, "4.7.0", std::string(hostname) + " too many errors, closing connection");
}
Reply too_many_commands(std::string_view hostname) {
  return make(421, "4.7.0",
              std::string(hostname) + " too many commands without MAIL, closing connection");
}
Reply timeout(std::string_view hostname) {
  return make(421, "4.4.2", std::string(hostname) + " timeout, closing connection");
}
Reply busy_idle_closed(std::string_view hostname) {
  return make(421, "4.7.0",
              std::string(hostname) + " too busy, closing idle connection; try again later");
}
Reply command_line_never_ends(std::string_view hostname) {
  return make(421, "4.7.0",
              std::string(hostname) + " command line without end, closing connection");
}
Reply other_protocol() {
  // Like Postfix's smtpd_forbidden_commands: a browser or proxy talking HTTP to a
  // mail port (ALPACA-style cross-protocol requests) gets one reply, never an
  // echo of what it sent, and the connection ends.
  return make(554, "5.7.0", "This is an SMTP mail server, not a web server; closing connection");
}
Reply local_error_closing(std::string_view hostname) {
  return make(421, "4.3.0", std::string(hostname) + " local error, closing connection");
}

}  // namespace replies
}  // namespace postern::smtp
