// What a loaded certificate says (validity, SANs) and when a self-made one is renewed.
#include <arpa/inet.h>

#include <algorithm>

#include "tls/credentials.h"

namespace postern::tls {
namespace {

core::TimePoint to_time_point(const mbedtls_x509_time& t) {
  using namespace std::chrono;
  const sys_days day = year{t.year} / month{static_cast<unsigned>(t.mon)} /
                       std::chrono::day{static_cast<unsigned>(t.day)};
  return core::TimePoint(day) + hours(t.hour) + minutes(t.min) + seconds(t.sec);
}

// Walks the leaf's subjectAltName list; mbedTLS 2.28 keeps each GeneralName's tag and value.
template <class F>
void for_each_san(const mbedtls_x509_crt& crt, F f) {
  for (const mbedtls_x509_sequence* s = &crt.subject_alt_names; s != nullptr; s = s->next) {
    if (s->buf.p != nullptr) f(s->buf.tag & 0x1f, s->buf.p, s->buf.len);
  }
}

// The canonical text of an address literal, so "::0001" matches "::1".
std::string canonical(const std::string& address) {
  unsigned char raw[16];
  char text[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, address.c_str(), raw) == 1) {
    return ::inet_ntop(AF_INET, raw, text, sizeof text) ? text : address;
  }
  if (::inet_pton(AF_INET6, address.c_str(), raw) == 1) {
    return ::inet_ntop(AF_INET6, raw, text, sizeof text) ? text : address;
  }
  return address;
}

bool contains_name(const std::vector<std::string>& names, const std::string& want) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return n.size() == want.size() &&
           std::equal(n.begin(), n.end(), want.begin(), [](char a, char b) {
             return (a | 0x20) == (b | 0x20);  // RFC 4343: DNS names compare case-insensitively
           });
  });
}

}  // namespace

const char* to_string(Renewal reason) noexcept {
  switch (reason) {
    case Renewal::none:
      return "none";
    case Renewal::expiring:
      return "expiring";
    case Renewal::too_long:
      return "too-long";
    case Renewal::names_missing:
      return "names-missing";
  }
  return "unknown";
}

core::TimePoint Credentials::not_before() const noexcept {
  return to_time_point(certificate_.valid_from);
}

core::TimePoint Credentials::not_after() const noexcept {
  return to_time_point(certificate_.valid_to);
}

std::vector<std::string> Credentials::dns_names() const {
  std::vector<std::string> names;
  for_each_san(certificate_, [&](int tag, const unsigned char* p, std::size_t n) {
    if (tag == 2) names.emplace_back(reinterpret_cast<const char*>(p), n);  // dNSName
  });
  return names;
}

std::vector<std::string> Credentials::ip_addresses() const {
  std::vector<std::string> addresses;
  for_each_san(certificate_, [&](int tag, const unsigned char* p, std::size_t n) {
    char text[INET6_ADDRSTRLEN];
    if (tag != 7 || (n != 4 && n != 16)) return;  // iPAddress
    if (::inet_ntop(n == 4 ? AF_INET : AF_INET6, p, text, sizeof text)) addresses.push_back(text);
  });
  return addresses;
}

Renewal renewal_needed(const Credentials& credentials, const Identity& identity,
                       core::TimePoint now, bool check_names) {
  if (!credentials.self_made()) return Renewal::none;
  if (now >= credentials.not_after() - kRenewBefore) return Renewal::expiring;
  if (credentials.not_after() - credentials.not_before() > kMaxValidity) return Renewal::too_long;
  if (check_names) {
    const std::vector<std::string> dns = credentials.dns_names();
    const std::vector<std::string> ips = credentials.ip_addresses();
    if (!contains_name(dns, identity.hostname) || !contains_name(dns, "localhost")) {
      return Renewal::names_missing;
    }
    for (const std::string& address : identity.addresses) {
      if (std::find(ips.begin(), ips.end(), canonical(address)) == ips.end()) {
        return Renewal::names_missing;
      }
    }
  }
  return Renewal::none;
}

}  // namespace postern::tls
