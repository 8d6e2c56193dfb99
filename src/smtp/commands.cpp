// The index of the SMTP protocol: verb, the states where it is legal, handler;
// and the handlers. The dispatcher (session.cpp) answers a verb used in the
// wrong state with 503 5.5.1 before any handler runs.
#include <algorithm>

#include "core/log.h"
#include "smtp/session.h"
#include "smtp/syntax.h"

namespace postern::smtp {

std::span<const Session::Command> Session::commands() {
  using S = State;
  // RFC 5321 §4.1.4: EHLO/HELO may come at any time and reset the transaction;
  // RSET, NOOP, QUIT and HELP are always legal. RFC 3030 §3: between BDAT
  // chunks only BDAT (and RSET, NOOP, QUIT, HELP) may follow; DATA there is 503.
  static constexpr Command kCommands[] = {
      {"EHLO", {S::connected, S::ready, S::mail, S::rcpt}, &Session::on_ehlo, false},
      {"HELO", {S::connected, S::ready, S::mail, S::rcpt}, &Session::on_helo, false},
      {"MAIL", {S::ready}, &Session::on_mail_from, false},
      {"RCPT", {S::mail, S::rcpt}, &Session::on_rcpt_to, false},
      {"DATA", {S::mail, S::rcpt}, &Session::on_data, false},
      {"BDAT", {S::mail, S::rcpt, S::bdat}, &Session::on_bdat, true},
      {"RSET", {S::connected, S::ready, S::mail, S::rcpt, S::bdat}, &Session::on_rset, false},
      {"NOOP", {S::connected, S::ready, S::mail, S::rcpt, S::bdat}, &Session::on_noop, false},
      {"QUIT", {S::connected, S::ready, S::mail, S::rcpt, S::bdat}, &Session::on_quit, false},
      {"HELP", {S::connected, S::ready, S::mail, S::rcpt, S::bdat}, &Session::on_help, false},
      {"VRFY", {S::connected, S::ready, S::mail, S::rcpt}, &Session::on_vrfy, false},
      {"EXPN", {S::connected, S::ready, S::mail, S::rcpt}, &Session::on_expn, false},
      // RFC 3207 §4: after EHLO, outside a transaction.
      {"STARTTLS", {S::ready}, &Session::on_starttls, false},
  };
  return kCommands;
}

Reply Session::on_ehlo(std::string_view args) {
  auto name = parse_helo(args);
  if (!name) return replies::syntax("send EHLO <your domain or [address]>");
  tx_.reset();
  helo_ = std::string(*name);
  esmtp_ = true;
  enter(State::ready);
  std::vector<std::string> lines;
  lines.push_back(limits_.hostname);
  lines.push_back("PIPELINING");                                         // RFC 2920
  lines.push_back("SIZE " + std::to_string(limits_.max_message_bytes));  // RFC 1870
  lines.push_back("8BITMIME");                                           // RFC 6152
  lines.push_back("ENHANCEDSTATUSCODES");                                // RFC 2034
  // RFC 3207 §4.2: not offered again once TLS is active.
  if (limits_.tls_available && !peer_.tls_active) lines.push_back("STARTTLS");
  lines.push_back("CHUNKING");  // RFC 3030
  lines.push_back("SMTPUTF8");  // RFC 6531
  lines.push_back("HELP");
  return replies::ehlo(std::move(lines));
}

Reply Session::on_helo(std::string_view args) {
  auto name = parse_helo(args);
  if (!name) return replies::syntax("send HELO <your domain>");
  tx_.reset();
  helo_ = std::string(*name);
  esmtp_ = false;
  enter(State::ready);
  return replies::helo(limits_.hostname);
}

Reply Session::on_mail_from(std::string_view args) {
  auto mail = parse_mail_from(args, esmtp_);
  if (!mail) {
    switch (mail.error()) {
      case SyntaxError::bad_path:
        return replies::bad_sender_syntax();
      case SyntaxError::unknown_parameter:
        return replies::unknown_parameter();
      case SyntaxError::needs_smtputf8:
        return replies::address_needs_smtputf8();
      case SyntaxError::bad_utf8:
        return replies::sender_not_utf8();
      case SyntaxError::bad_parameter:
        break;
    }
    return replies::syntax("use SIZE=<octets>, BODY=7BIT or BODY=8BITMIME, SMTPUTF8, once each");
  }
  // RFC 1870 §6.1: refuse at MAIL what would be refused after the data anyway.
  if (mail->size && *mail->size > limits_.max_message_bytes) {
    return replies::too_big(limits_.max_message_bytes);
  }
  tx_.emplace();
  tx_->envelope.helo = helo_;
  tx_->envelope.reverse_path = std::move(mail->reverse_path);
  tx_->envelope.declared_size = mail->size;
  tx_->envelope.eight_bit_mime = mail->eight_bit_mime;
  tx_->envelope.smtputf8 = mail->smtputf8;
  commands_without_mail_ = 0;
  enter(State::mail);
  return replies::sender_ok();
}

Reply Session::on_rcpt_to(std::string_view args) {
  auto rcpt = parse_rcpt_to(args, tx_->envelope.smtputf8);
  if (!rcpt) {
    switch (rcpt.error()) {
      case SyntaxError::unknown_parameter:
        return replies::unknown_parameter();
      case SyntaxError::needs_smtputf8:
        return replies::address_needs_smtputf8();
      case SyntaxError::bad_utf8:
        return replies::recipient_not_utf8();
      case SyntaxError::bad_path:
      case SyntaxError::bad_parameter:
        break;
    }
    return replies::bad_recipient_syntax();
  }
  auto& recipients = tx_->envelope.recipients;
  // A repeated recipient is acknowledged but delivered once.
  if (std::find(recipients.begin(), recipients.end(), *rcpt) != recipients.end()) {
    return replies::recipient_ok();
  }
  if (recipients.size() >= limits_.max_recipients) return replies::too_many_recipients();
  RecipientVerdict verdict = host_.check_recipient(tx_->envelope, *rcpt);
  if (verdict != RecipientVerdict::accept) {
    POSTERN_LOG_INFO("smtp %s event=rcpt-rejected rcpt=<%s> reason=%s", peer_.session_id.c_str(),
                     core::printable(*rcpt).c_str(), to_string(verdict));
    return replies::recipient_verdict(verdict);
  }
  recipients.push_back(std::move(*rcpt));
  if (state_ == State::mail) enter(State::rcpt);
  return replies::recipient_ok();
}

Reply Session::on_data(std::string_view args) {
  if (!args.empty()) return replies::syntax("DATA takes no arguments");
  if (state_ == State::mail) return replies::no_valid_recipients();
  begin_message(/*via_bdat=*/false);
  tx_->data.emplace(limits_.max_message_bytes);
  framing_ = Framing::data_body;
  enter(State::data);
  return replies::start_data();
}

Reply Session::on_bdat(std::string_view args) {
  auto chunk = parse_bdat(args);
  // Without a size we cannot find the end of the chunk: the octets that follow
  // will be read as commands, which RFC 3030 §3 accepts as the client's fault.
  if (!chunk) return replies::syntax("use BDAT <octets> [LAST]");
  if (state_ == State::mail) {
    start_chunk(chunk->size, chunk->last, replies::no_valid_recipients());
    return replies::none();
  }
  if (state_ != State::bdat) {
    begin_message(/*via_bdat=*/true);
    enter(State::bdat);
  }
  start_chunk(chunk->size, chunk->last, replies::none());  // answered after the chunk
  return replies::none();
}

Reply Session::on_rset(std::string_view) {
  abort_message(AbortReason::reset);
  tx_.reset();
  if (state_ != State::connected) enter(State::ready);
  return replies::ok();
}

Reply Session::on_noop(std::string_view) {
  return replies::ok();
}  // §4.1.1.9: args ignored

// §4.1.1.10: 221, then the close (the reply carries it; answer() acts on it). A message
// between BDAT chunks ends here, unstored.
Reply Session::on_quit(std::string_view) {
  abort_message(AbortReason::reset);
  tx_.reset();
  return replies::bye(limits_.hostname);
}

Reply Session::on_help(std::string_view) {
  return replies::help();
}

Reply Session::on_vrfy(std::string_view args) {
  if (args.empty()) return replies::syntax("send VRFY <address>");
  return replies::cannot_vrfy();  // RFC 5321 §3.5.3, §7.3: never reveal who exists
}

Reply Session::on_expn(std::string_view) {
  return replies::expn_refused();
}

Reply Session::on_starttls(std::string_view args) {
  if (!args.empty()) return replies::syntax("STARTTLS takes no arguments");  // RFC 3207 §4
  if (peer_.tls_active) return replies::tls_already_active();
  if (!limits_.tls_available) return replies::tls_not_available();
  enter(State::tls_pending);             // feed() stops here: nothing after this line is read
  return replies::ready_to_start_tls();  // dispatch() starts TLS once it is sent
}

}  // namespace postern::smtp
