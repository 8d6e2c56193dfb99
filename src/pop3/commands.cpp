// The index of the protocol: every POP3 verb postern knows, where it is legal, its handler.
//
// Not here, on purpose:
// - APOP (RFC 1939 §7): its MD5 digest needs the plaintext-equivalent secret on the server,
//   while postern stores only PBKDF2 hashes (users table); and MD5 is broken. Clients fall
//   back to USER/PASS or AUTH PLAIN over TLS. APOP is answered as an unknown command, and the
//   greeting carries no timestamp, which is how RFC 1939 §7 says APOP is not offered.
// - LAST, RPOP: removed by RFC 1725 / RFC 1939.
#include "pop3/commands.h"

#include "pop3/args.h"

namespace postern::pop3 {
namespace {
constexpr State kAuth = State::authorization;
constexpr State kTrans = State::transaction;
}  // namespace

std::span<const Session::Command> Session::commands() {
  static constexpr Command kCommands[] = {
      // AUTHORIZATION (RFC 1939 §4, §7; RFC 5034; RFC 2595 §4).
      {"USER", States{kAuth}, &Session::on_user},
      {"PASS", States{kAuth}, &Session::on_pass},
      {"AUTH", States{kAuth}, &Session::on_auth},
      {"STLS", States{kAuth}, &Session::on_stls},
      // RFC 6856 §2 UTF8 (AUTHORIZATION only), §3 LANG (both states).
      {"UTF8", States{kAuth}, &Session::on_utf8},
      {"LANG", States{kAuth, kTrans}, &Session::on_lang},
      // Both states (RFC 2449 §5 CAPA; RFC 1939 §4, §6 QUIT).
      {"CAPA", States{kAuth, kTrans}, &Session::on_capa},
      {"QUIT", States{kAuth, kTrans}, &Session::on_quit},
      // TRANSACTION (RFC 1939 §5, §7).
      {"STAT", States{kTrans}, &Session::on_stat},
      {"LIST", States{kTrans}, &Session::on_list},
      {"RETR", States{kTrans}, &Session::on_retr},
      {"DELE", States{kTrans}, &Session::on_dele},
      {"NOOP", States{kTrans}, &Session::on_noop},
      {"RSET", States{kTrans}, &Session::on_rset},
      {"TOP", States{kTrans}, &Session::on_top},
      {"UIDL", States{kTrans}, &Session::on_uidl},
  };
  return kCommands;
}

const Session::Command* Session::find_command(std::string_view verb) {
  for (const Command& command : commands())
    if (equals_ignore_case(verb, command.verb)) return &command;
  return nullptr;
}

}  // namespace postern::pop3
