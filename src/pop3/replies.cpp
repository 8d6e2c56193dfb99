// The POP3 reply catalogue: wording, response codes and the Errc -> reply mapping.
#include "pop3/replies.h"

#include <cassert>
#include <cinttypes>
#include <cstdio>

namespace postern::pop3 {

std::string Reply::render() const {
  assert(kind != Kind::none);
  std::string out = kind == Kind::ok ? "+OK" : "-ERR";
  if (!text.empty()) {
    out += ' ';
    out += text;
  }
  out += "\r\n";
  if (multiline) {
    for (const auto& line : lines) {
      if (!line.empty() && line[0] == '.') out += '.';  // RFC 1939 §3 byte-stuffing
      out += line;
      out += "\r\n";
    }
    out += ".\r\n";
  }
  return out;
}

namespace replies {
namespace {

Reply ok_text(std::string text) {
  return Reply{Reply::Kind::ok, std::move(text), {}, false};
}
Reply err_text(std::string text) {
  return Reply{Reply::Kind::err, std::move(text), {}, false};
}

std::string format(const char* fmt, std::uint64_t a, std::uint64_t b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

}  // namespace

Reply none() {
  return Reply{};
}
Reply greeting(std::string_view host) {
  return ok_text(std::string(host) + " POP3 server ready");
}
Reply ok(std::string_view text) {
  return ok_text(std::string(text));
}

Reply unknown_command() {
  return err_text("Unknown command");
}
Reply wrong_state(std::string_view verb, bool logged_in) {
  return err_text(std::string(verb) +
                  (logged_in ? " is not valid after login" : " is not valid before login"));
}
Reply line_too_long() {
  return err_text("Line too long");
}
Reply bad_characters() {
  return err_text("Syntax: command contains a control character");
}
Reply wrong_protocol() {
  return err_text("This is a POP3 server, not a web server; closing connection");
}
Reply syntax(std::string_view usage) {
  return err_text("Syntax: " + std::string(usage));
}

Reply user_accepted() {
  return ok_text("Send PASS");
}
Reply pass_without_user() {
  return err_text("Send USER first");
}
// RFC 3206 §4 [AUTH]: the client should not retry the same credentials; the text says
// what to do instead, since a mail client shows it to its user.
Reply plaintext_disabled() {
  return err_text("[AUTH] Plaintext login is disabled: use STLS or POP3S (port 995)");
}
Reply auth_failed() {
  return err_text("[AUTH] Invalid user name or password");
}
Reply auth_mechanism_unsupported() {
  return err_text("Unsupported SASL mechanism: use PLAIN");
}
Reply auth_bad_base64() {
  return err_text("Invalid base64 in AUTH response");
}
Reply auth_malformed() {
  return err_text("Malformed PLAIN response");
}
Reply auth_authzid_differs() {
  return err_text("[AUTH] Authorization identity must be empty or equal the user name");
}
Reply auth_cancelled() {
  return err_text("AUTH cancelled");
}
std::string_view sasl_continue() {
  return "+ \r\n";
}
Reply logged_in(std::size_t count, std::uint64_t octets) {
  return ok_text(format("Logged in, %" PRIu64 " messages (%" PRIu64 " octets)", count, octets));
}
Reply maildrop_in_use() {
  return err_text("[IN-USE] Maildrop is locked by another session; try again later");
}
Reply login_delay() {
  return err_text("[LOGIN-DELAY] Logged in too recently; try again later");
}
Reply temporary_failure() {
  return err_text("[SYS/TEMP] Temporary server failure; try again later");
}
Reply busy_idle_closed() {
  return err_text("[SYS/TEMP] Server busy, closing idle connection; try again later");
}
Reply for_maildrop_error(const core::Error& error) {
  switch (error.code) {
    case core::Errc::busy:
      return maildrop_in_use();
    case core::Errc::denied:
      return login_delay();
    default:
      return temporary_failure();
  }
}
Reply stls_begin() {
  return ok_text("Begin TLS negotiation");
}
Reply stls_unavailable() {
  return err_text("STLS is not available on this server");
}
Reply stls_already_active() {
  return err_text("Command not permitted when TLS active");
}
Reply quit_authorization(std::string_view host) {
  Reply reply = ok_text(std::string(host) + " POP3 server signing off");
  reply.close_after = true;
  return reply;
}
Reply utf8_enabled() {
  return ok_text("UTF8 enabled");
}
Reply language_listing() {
  Reply r = ok_text("Language listing follows");
  r.multiline = true;
  r.lines.emplace_back("en English");
  return r;
}
Reply language_changed(std::string_view tag) {
  return ok_text(std::string(tag) + " Language changed");
}
Reply language_unsupported() {
  return err_text("Unsupported language; LANG lists the languages (en)");
}

Reply no_such_message(std::uint64_t number) {
  return err_text(format("No message %" PRIu64 " in the maildrop", number));
}
Reply message_deleted(std::uint64_t number) {
  return err_text(format("Message %" PRIu64 " is marked deleted", number));
}
Reply stat(std::size_t count, std::uint64_t octets) {
  return ok_text(format("%" PRIu64 " %" PRIu64, count, octets));
}
Reply scan_listing(std::uint64_t number, std::uint64_t octets) {
  return ok_text(format("%" PRIu64 " %" PRIu64, number, octets));
}
Reply unique_id_listing(std::uint64_t number, std::string_view unique_id) {
  return ok_text(format("%" PRIu64, number) + " " + std::string(unique_id));
}
Reply list_follows(std::size_t count, std::uint64_t octets) {
  Reply r = ok_text(format("%" PRIu64 " messages (%" PRIu64 " octets)", count, octets));
  r.multiline = true;
  return r;
}
Reply uidl_follows() {
  Reply r = ok_text("Unique-ID listing follows");
  r.multiline = true;
  return r;
}
Reply retr_follows(std::uint64_t octets) {
  return ok_text(format("%" PRIu64 " octets", octets));
}
Reply top_follows() {
  return ok_text("Top of message follows");
}
Reply dele_done(std::uint64_t number) {
  return ok_text(format("Message %" PRIu64 " marked deleted", number));
}
Reply rset_done(std::size_t count, std::uint64_t octets) {
  return ok_text(format("Maildrop has %" PRIu64 " messages (%" PRIu64 " octets)", count, octets));
}
Reply capa_follows() {
  Reply r = ok_text("Capability list follows");
  r.multiline = true;
  return r;
}

Reply auth_mechanisms(bool plain) {
  Reply r = ok_text("SASL mechanisms follow");
  r.multiline = true;
  if (plain) r.lines.emplace_back("PLAIN");
  return r;
}

Reply signing_off(std::size_t messages_left) {
  return ok_text(format("postern signing off (%" PRIu64 " messages left)", messages_left));
}
// RFC 1939 §6 QUIT: "-ERR some deleted messages not removed"; [SYS/TEMP] says it is ours.
Reply update_failed() {
  return err_text("[SYS/TEMP] Some deleted messages not removed; try again later");
}

Reply too_many_errors() {
  return err_text("Too many errors; closing connection");
}

}  // namespace replies
}  // namespace postern::pop3
