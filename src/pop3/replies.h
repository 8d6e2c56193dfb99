// Every POP3 reply postern sends, in one catalogue, with RFC 2449 / RFC 3206 response codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace postern::pop3 {

struct Reply {
  enum class Kind { ok, err, none };
  Kind kind = Kind::none;  // none: the handler sent (or deferred) its own reply
  std::string text;        // after "+OK " / "-ERR "; may be empty
  // RFC 1939 §3 multi-line body; dot-stuffed and terminated by render().
  std::vector<std::string> lines;
  bool multiline = false;
  // The action that goes with the reply: the session ends (RFC 1939 §4 QUIT in
  // AUTHORIZATION, no UPDATE) and the glue closes the connection once it is written.
  bool close_after = false;

  bool is_error() const { return kind == Kind::err; }
  // The exact wire bytes. REQUIRES: kind != none; no line contains CR or LF.
  std::string render() const;
};

namespace replies {

Reply none();
Reply greeting(std::string_view host);
Reply ok(std::string_view text = {});

// Dispatcher and line reader.
Reply unknown_command();
Reply wrong_state(std::string_view verb, bool logged_in);
Reply line_too_long();
Reply bad_characters();
// Another protocol's request on the POP3 port: one reply, no echo, then the close.
Reply wrong_protocol();
Reply syntax(std::string_view usage);  // e.g. syntax("RETR <message number>")

// AUTHORIZATION (RFC 1939 §7, RFC 5034, RFC 2595).
Reply user_accepted();
Reply pass_without_user();
Reply plaintext_disabled();
Reply auth_failed();
Reply auth_mechanism_unsupported();
Reply auth_bad_base64();
Reply auth_malformed();
Reply auth_authzid_differs();
Reply auth_cancelled();
// RFC 5034 §4: the empty server challenge, "+" SP CRLF; not a +OK/-ERR reply.
std::string_view sasl_continue();
Reply logged_in(std::size_t count, std::uint64_t octets);
Reply maildrop_in_use();
Reply login_delay();
Reply temporary_failure();
// Idle eviction under load (net/idle_eviction.h), before login: RFC 3206 §4 SYS/TEMP.
Reply busy_idle_closed();
// Maps an error from the host to its reply: busy -> [IN-USE], denied -> [LOGIN-DELAY],
// everything else (full, io, fatal, ...) -> [SYS/TEMP] (RFC 2449 §8).
Reply for_maildrop_error(const core::Error& error);
Reply stls_begin();
Reply stls_unavailable();
Reply stls_already_active();
Reply quit_authorization(std::string_view host);
// RFC 6856 §2 UTF8, §3 LANG.
Reply utf8_enabled();
Reply language_listing();                      // multi-line: "en English"
Reply language_changed(std::string_view tag);  // "+OK en Language changed"
Reply language_unsupported();

// TRANSACTION (RFC 1939 §5).
Reply no_such_message(std::uint64_t number);
Reply message_deleted(std::uint64_t number);
Reply stat(std::size_t count, std::uint64_t octets);
Reply scan_listing(std::uint64_t number, std::uint64_t octets);
Reply unique_id_listing(std::uint64_t number, std::string_view unique_id);
Reply list_follows(std::size_t count, std::uint64_t octets);
Reply uidl_follows();
Reply retr_follows(std::uint64_t octets);
Reply top_follows();
Reply dele_done(std::uint64_t number);
Reply rset_done(std::size_t count, std::uint64_t octets);
Reply capa_follows();
// The SASL mechanisms, multi-line: PLAIN when a plaintext login would be accepted, else none.
Reply auth_mechanisms(bool plain);

// UPDATE (RFC 1939 §6).
Reply signing_off(std::size_t messages_left);
Reply update_failed();

// Too many errors: the last reply before the session closes.
Reply too_many_errors();

}  // namespace replies
}  // namespace postern::pop3
