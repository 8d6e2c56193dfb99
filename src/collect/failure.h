// Why a collection run failed, as a value, with one plain sentence for the owner.
#pragma once

#include <string>

namespace postern::collect {

enum class Failure {
  none,
  resolve,         // the server's name did not resolve
  connect,         // TCP connect refused or timed out
  network,         // the link broke during the session
  timeout,         // the server stopped answering
  no_tls,          // STLS asked for, the server does not offer it
  tls,             // the TLS handshake failed
  cert_untrusted,  // the certificate chain or name did not verify (detail: fingerprint)
  cert_mismatch,   // the pinned fingerprint did not match (detail: fingerprint)
  auth,            // USER/PASS or AUTH PLAIN refused
  in_use,          // RFC 3206 [IN-USE]: another client holds the maildrop
  no_uidl,         // neither UIDL nor TOP: messages cannot be told apart
  protocol,        // the server broke RFC 1939 (detail: what)
  store,           // the local store refused a message (full disk, quota)
};

const char* to_string(Failure failure) noexcept;

// One sentence for the page and the CLI. `detail` (already printable) is the
// server's text or a fingerprint; it is appended where it helps.
std::string describe(Failure failure, const std::string& detail);

}  // namespace postern::collect
