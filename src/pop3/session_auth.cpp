// Session, AUTHORIZATION (USER/PASS, AUTH PLAIN, STLS) and the verbs of both states (CAPA, QUIT).
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "pop3/args.h"
#include "pop3/sasl_plain.h"
#include "pop3/session.h"

namespace postern::pop3 {

// RFC 2595 §2 and RFC 8314: a password never crosses the network in the clear unless the
// operator said so; loopback traffic does not cross the network.
Reply Session::on_user(std::string_view args) {
  if (!plaintext_allowed()) return replies::plaintext_disabled();
  const std::vector<std::string_view> words = split_args(args);
  if (words.size() != 1) return replies::syntax("USER <name>");
  // Any name is accepted here: rejecting unknown users at USER would let a client probe
  // which accounts exist (RFC 1939 §13).
  pending_user_ = std::string(words[0]);
  return replies::user_accepted();
}

// RFC 1939 §7 PASS: the argument is the rest of the line, spaces included.
Reply Session::on_pass(std::string_view args) {
  if (!plaintext_allowed()) return replies::plaintext_disabled();
  if (!pending_user_) return replies::pass_without_user();
  if (args.empty()) return replies::syntax("PASS <password>");
  std::string user = std::move(*pending_user_);
  pending_user_.reset();
  start_password_check(std::move(user), std::string(args));
  return replies::none();
}

// RFC 5034 §4: AUTH mechanism [initial-response]; "=" is an empty initial response.
Reply Session::on_auth(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  // A bare AUTH lists the mechanisms, one a line (the RFC 1734 draft's form, not in RFC 5034):
  // Dovecot and Cyrus answer it, and older clients probe with it instead of CAPA.
  if (words.empty()) return replies::auth_mechanisms(plaintext_allowed());
  if (words.size() > 2) return replies::syntax("AUTH PLAIN [initial-response]");
  if (!equals_ignore_case(words[0], "PLAIN")) return replies::auth_mechanism_unsupported();
  if (!plaintext_allowed()) return replies::plaintext_disabled();
  pending_user_.reset();
  if (words.size() == 2) return check_plain(words[1] == "=" ? std::string_view() : words[1]);
  // No initial response: an empty challenge, then the next line is the response.
  host_.send(std::string(replies::sasl_continue()));
  enter(State::sasl_response);
  return replies::none();
}

void Session::on_sasl_response(std::string_view line) {
  enter(State::authorization);
  if (line == "*") {  // RFC 5034 §4: the client cancels the exchange
    respond(replies::auth_cancelled());
    return;
  }
  Reply reply = check_plain(line);
  if (reply.kind != Reply::Kind::none) respond(reply);
}

Reply Session::check_plain(std::string_view base64) {
  const std::optional<std::string> message = base64_decode(base64);
  if (!message) return replies::auth_bad_base64();
  PlainParse parsed = parse_plain(*message);
  if (!parsed.credentials) {
    return parsed.error == PlainError::authzid_differs ? replies::auth_authzid_differs()
                                                       : replies::auth_malformed();
  }
  start_password_check(std::move(parsed.credentials->user),
                       std::move(parsed.credentials->password));
  return replies::none();
}

void Session::start_password_check(std::string user, std::string password) {
  user_ = std::move(user);
  waiting_ = Waiting::password;
  host_.check_password(user_, password);
}

void Session::on_password_checked(core::Result<bool> outcome) {
  if (waiting_ != Waiting::password) return;
  waiting_ = Waiting::nothing;
  if (connection_gone_) return;
  const std::string who = core::printable(user_, 64);
  if (!outcome) {
    POSTERN_LOG_WARN("pop3 %s event=auth-error user=%s error=%s where=%s", peer_.session_id.c_str(),
                     who.c_str(), core::to_string(outcome.error().code), outcome.error().where);
    respond(replies::temporary_failure());
    return;
  }
  if (!outcome.value()) {
    POSTERN_LOG_INFO("pop3 %s event=auth-failed user=%s peer=%s", peer_.session_id.c_str(),
                     who.c_str(), peer_.address.c_str());
    respond(replies::auth_failed());
    return;
  }
  // RFC 1939 §4: "+OK" only once the maildrop is locked and snapshotted; the snapshot is
  // taken off the loop, and nothing pipelined behind PASS is read until it is in.
  waiting_ = Waiting::maildrop;
  host_.open_maildrop(user_);
}

void Session::on_maildrop_opened(core::Result<Maildrop> drop) {
  if (waiting_ != Waiting::maildrop) return;
  waiting_ = Waiting::nothing;
  if (connection_gone_) return;
  const std::string who = core::printable(user_, 64);
  if (!drop) {
    POSTERN_LOG_INFO("pop3 %s event=maildrop-refused user=%s error=%s where=%s",
                     peer_.session_id.c_str(), who.c_str(), core::to_string(drop.error().code),
                     drop.error().where);
    respond(replies::for_maildrop_error(drop.error()));
    return;
  }
  maildrop_ = MaildropView(std::move(drop.value()));
  authenticated_ = true;
  const DropStats stats = maildrop_.stats();
  POSTERN_LOG_INFO("pop3 %s event=login user=%s tls=%d utf8=%d messages=%zu",
                   peer_.session_id.c_str(), who.c_str(), peer_.tls_active ? 1 : 0, utf8_ ? 1 : 0,
                   stats.count);
  enter(State::transaction);
  respond(replies::logged_in(stats.count, stats.octets));
}

// RFC 2595 §4. After this line the session consumes nothing until on_tls_ready(); the host
// discards what net buffered behind it.
Reply Session::on_stls(std::string_view args) {
  if (peer_.tls_active) return replies::stls_already_active();
  if (!limits_.stls_available) return replies::stls_unavailable();
  if (!split_args(args).empty()) return replies::syntax("STLS");
  send(replies::stls_begin());
  waiting_ = Waiting::tls;
  host_.start_tls();
  return replies::none();
}

// RFC 2449 §5. USER and SASL PLAIN are listed only when a login with them would be
// accepted (RFC 2595 §2); STLS only before login, when available and not yet active.
Reply Session::on_capa(std::string_view args) {
  if (!split_args(args).empty()) return replies::syntax("CAPA");
  Reply reply = replies::capa_follows();
  auto& lines = reply.lines;
  lines.emplace_back("TOP");
  lines.emplace_back("UIDL");
  if (plaintext_allowed()) lines.emplace_back("USER");
  if (plaintext_allowed()) lines.emplace_back("SASL PLAIN");
  lines.emplace_back("RESP-CODES");
  lines.emplace_back("AUTH-RESP-CODE");
  lines.emplace_back("PIPELINING");
  if (state_ == State::authorization && limits_.stls_available && !peer_.tls_active)
    lines.emplace_back("STLS");
  if (limits_.expire) {
    lines.push_back("EXPIRE " + std::to_string(limits_.expire->count()));
  } else {
    lines.emplace_back("EXPIRE NEVER");
  }
  if (limits_.login_delay.count() > 0)
    lines.push_back("LOGIN-DELAY " + std::to_string(limits_.login_delay.count()));
  // RFC 6856 §2: "USER" says UTF-8 user names and passwords work with USER/PASS too.
  lines.emplace_back(plaintext_allowed() ? "UTF8 USER" : "UTF8");
  lines.emplace_back("LANG");
  lines.push_back("IMPLEMENTATION " + limits_.implementation);
  return reply;
}

// RFC 6856 §2. postern stores mail as it arrived and sends it unchanged in both modes (it
// does not downgrade UTF-8 headers for a client that did not ask, RFC 6857); the command
// tells the client that UTF-8 user names, passwords and headers are understood. User
// names go to the login lookup unchanged, whether or not UTF8 was sent.
Reply Session::on_utf8(std::string_view args) {
  if (!split_args(args).empty()) return replies::syntax("UTF8");
  utf8_ = true;
  POSTERN_LOG_DEBUG("pop3 %s event=utf8", peer_.session_id.c_str());
  return replies::utf8_enabled();
}

// RFC 6856 §3: postern's replies are English only. "LANG" lists it; "LANG *", "LANG en"
// and a range whose primary subtag is "en" (RFC 4647 §3.4 lookup: "en-GB" falls back to
// "en") select it; anything else is refused without changing the language.
Reply Session::on_lang(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  if (words.empty()) return replies::language_listing();
  if (words.size() != 1) return replies::syntax("LANG [language-range]");
  const std::string_view range = words[0];
  const std::string_view primary = range.substr(0, range.find('-'));
  if (range == "*" || equals_ignore_case(primary, "en")) return replies::language_changed("en");
  return replies::language_unsupported();
}

// RFC 1939 §4: QUIT in AUTHORIZATION ends the session with no UPDATE. §6: QUIT in
// TRANSACTION enters UPDATE, the only way anything is removed.
Reply Session::on_quit(std::string_view args) {
  if (!split_args(args).empty()) return replies::syntax("QUIT");
  // Its reply carries the close; dispatch() ends the session once it is sent.
  if (state_ == State::authorization) return replies::quit_authorization(limits_.greeting_host);
  enter(State::update);
  const std::vector<std::uint64_t> deleted = maildrop_.deleted_keys();
  const std::vector<std::uint64_t> retrieved = maildrop_.retrieved_keys();
  waiting_ = Waiting::update;
  if (deleted.empty() && retrieved.empty()) {
    on_updated(core::Result<void>());  // nothing to commit
  } else {
    host_.update(deleted, retrieved);
  }
  return replies::none();
}

}  // namespace postern::pop3
