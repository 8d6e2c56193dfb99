// Plain-language sentences for collection failures.
#include "collect/failure.h"

namespace postern::collect {

const char* to_string(Failure failure) noexcept {
  switch (failure) {
    case Failure::none:
      return "none";
    case Failure::resolve:
      return "resolve";
    case Failure::connect:
      return "connect";
    case Failure::network:
      return "network";
    case Failure::timeout:
      return "timeout";
    case Failure::no_tls:
      return "no-tls";
    case Failure::tls:
      return "tls";
    case Failure::cert_untrusted:
      return "cert-untrusted";
    case Failure::cert_mismatch:
      return "cert-mismatch";
    case Failure::auth:
      return "auth";
    case Failure::in_use:
      return "in-use";
    case Failure::no_uidl:
      return "no-uidl";
    case Failure::protocol:
      return "protocol";
    case Failure::store:
      return "store";
  }
  return "unknown";
}

std::string describe(Failure failure, const std::string& detail) {
  auto with = [&](std::string sentence) {
    return detail.empty() ? sentence : sentence + " (" + detail + ")";
  };
  switch (failure) {
    case Failure::none:
      return "collected without error";
    case Failure::resolve:
      return with("the server name does not resolve — check the host name");
    case Failure::connect:
      return with("cannot connect to the server — check the host, the port and the link");
    case Failure::network:
      return with(
          "the connection broke during the session; nothing was deleted, it will be "
          "retried");
    case Failure::timeout:
      return with("the server stopped answering; it will be retried");
    case Failure::no_tls:
      return "server offers no TLS (STLS) — choose POP3S, or allow plain text for this account";
    case Failure::tls:
      return with("the TLS handshake failed");
    case Failure::cert_untrusted:
      return "certificate not trusted: fingerprint " + detail +
             " — pin it if you know this is the right server";
    case Failure::cert_mismatch:
      return "certificate does not match the pinned fingerprint: the server sent " + detail;
    case Failure::auth:
      return with("authentication failed — check the user name and password");
    case Failure::in_use:
      return with("the mailbox is in use by another client; it will be retried");
    case Failure::no_uidl:
      return "the server offers neither UIDL nor TOP, so its messages cannot be told apart "
             "safely";
    case Failure::protocol:
      return with("the server broke the POP3 protocol");
    case Failure::store:
      return with("the local store refused a message");
  }
  return detail;
}

}  // namespace postern::collect
