// The POP3 service's own slice of the settings: limits and policy, each justified by its RFC.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace postern::pop3 {

struct Limits {
  // Shown in the greeting (RFC 1939 §4); no APOP timestamp, see commands.cpp.
  std::string greeting_host = "localhost";
  // RFC 1939 §3: an autologout timer "MUST be of at least 10 minutes' duration". net enforces
  // it and calls Session::on_timeout().
  std::chrono::seconds idle_timeout{600};
  // RFC 2449 §4: command lines are at most 255 octets including the CRLF.
  std::size_t max_line = 255;
  // RFC 5034 §4 keeps AUTH's initial response under the command limit, but a continuation
  // line may be longer: PLAIN for a 255-octet user and password needs about 700 octets.
  std::size_t max_auth_line = 1024;
  // A line over its limit is answered "-ERR" at once and its octets are dropped up to the
  // next LF, never buffered; a line longer than this (LF included) is not a POP3
  // client's (or is a hostile one's), and the connection closes once this many of its
  // octets came without an LF (core::LineFramer). 64 KiB is 250 maximal
  // command lines.
  std::size_t max_discarded_bytes = 64 * 1024;
  // Protocol errors (unknown verbs, bad arguments, failed logins) before the session closes.
  std::size_t max_errors = 10;
  // USER/PASS and AUTH PLAIN over a non-TLS, non-loopback connection (RFC 2595 §2).
  bool allow_plaintext_login = false;
  // RFC 2595 §4: STLS is offered when net has a certificate loaded.
  bool stls_available = true;
  // RFC 2449 §6.9 IMPLEMENTATION.
  std::string implementation = "postern";
  // RFC 2449 §6.5 LOGIN-DELAY: advertised when non-zero; the host enforces it by failing
  // open_maildrop() with Errc::denied.
  std::chrono::seconds login_delay{0};
  // RFC 2449 §6.7 EXPIRE: nullopt advertises "EXPIRE NEVER" (postern keeps mail until the
  // client deletes it); a value advertises that many days.
  std::optional<std::chrono::days> expire;
};

struct Peer {
  std::string address;      // for logs only; already printable (net formats it)
  bool loopback = false;    // 127.0.0.0/8 or ::1: plaintext never leaves the machine
  bool tls_active = false;  // POP3S (port 995), or after STLS (on_tls_ready sets it)
  std::string session_id;   // log correlation, as in "pop3 <id> event=..."
};

}  // namespace postern::pop3
