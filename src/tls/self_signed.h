// The self-signed certificate postern makes for itself: what it names and how long it lives.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "tls/random.h"

namespace postern::tls {

// CA/Browser Forum BR §6.3.2 and Apple's TLS policy (2019): a server certificate lives at
// most 825 days, counted from notBefore to notAfter.
inline constexpr std::chrono::hours kMaxValidity{825 * 24};
// Renewed by postern when less than this remains (tls/renewal.h).
inline constexpr std::chrono::hours kRenewBefore{30 * 24};
// notBefore is this far in the past: a client whose clock lags a little still accepts it.
inline constexpr std::chrono::hours kBackdate{1};

// The names a self-signed certificate carries in subjectAltName (RFC 5280 §4.2.1.6): the
// hostname (also the CN), "localhost", and the addresses postern listens on, as iPAddress
// entries (clients that connect by address check those, RFC 6125 §6.2.1 / RFC 2818 §3.1).
struct Identity {
  std::string hostname;
  std::vector<std::string> addresses;  // IPv4 / IPv6 literals, e.g. "127.0.0.1", "::1"
};

struct PemPair {
  std::string cert, key;
  PemPair() = default;
  PemPair(const PemPair&) = delete;
  PemPair& operator=(const PemPair&) = delete;
  ~PemPair();  // wipes the key
};

// RFC 1123 §2.1 host names: letters, digits, hyphen, dot; at most 253 octets.
bool valid_hostname(std::string_view host);

// A new EC P-256 key and a certificate signed with it: CN = hostname, the SANs above, a
// random 126-bit serial, valid from `now` - kBackdate for kMaxValidity. Public-key work
// (tens of ms on a router): not on the loop. Errors: Errc::invalid (hostname or address),
// Errc::tls.
core::Result<void> generate_self_signed(const Identity& identity, core::TimePoint now,
                                        Random& random, PemPair& out);

}  // namespace postern::tls
