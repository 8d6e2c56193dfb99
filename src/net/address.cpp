// sockaddr helpers over libuv's inet_pton/ntop wrappers.
#include "net/address.h"

#include <netinet/in.h>

#include <cstring>

#include <uv.h>

namespace postern::net {
namespace {

bool is_v4_mapped(const sockaddr_in6& a) {
  static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.sin6_addr.s6_addr, prefix, sizeof prefix) == 0;
}

}  // namespace

core::Result<sockaddr_storage> parse_address(const std::string& text, std::uint16_t port) {
  sockaddr_storage out{};
  int rc = text.find(':') != std::string::npos
               ? uv_ip6_addr(text.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out))
               : uv_ip4_addr(text.c_str(), port, reinterpret_cast<sockaddr_in*>(&out));
  if (rc != 0) return core::make_error(core::Errc::invalid, "parse listen address", -rc);
  return out;
}

std::string address_text(const sockaddr_storage& address) {
  char text[64] = "";
  if (address.ss_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&address), text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const auto& a6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (is_v4_mapped(a6)) {
      sockaddr_in a4{};
      a4.sin_family = AF_INET;
      std::memcpy(&a4.sin_addr, a6.sin6_addr.s6_addr + 12, 4);
      uv_ip4_name(&a4, text, sizeof text);
    } else {
      uv_ip6_name(&a6, text, sizeof text);
    }
  } else {
    return "unknown";
  }
  return text;
}

bool is_loopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& a4 = reinterpret_cast<const sockaddr_in&>(address);
    return (ntohl(a4.sin_addr.s_addr) >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const auto& a6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (is_v4_mapped(a6)) return a6.sin6_addr.s6_addr[12] == 127;
    return IN6_IS_ADDR_LOOPBACK(&a6.sin6_addr);
  }
  return false;
}

std::uint16_t address_port(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return 0;
}

}  // namespace postern::net
