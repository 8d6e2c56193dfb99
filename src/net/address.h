// Numeric socket addresses: parsing for bind, text and loopback test for peers. No DNS.
#pragma once

#include <cstdint>
#include <string>

#include <sys/socket.h>

#include "core/result.h"

namespace postern::net {

// Parses a numeric IPv4 ("0.0.0.0") or IPv6 ("::", "::1") address; never
// resolves a name (DESIGN: DNS goes through c-ares, never getaddrinfo).
core::Result<sockaddr_storage> parse_address(const std::string& text, std::uint16_t port);

// The address without the port. IPv4-mapped IPv6 (::ffff:a.b.c.d, seen on a
// dual-stack "::" listener) is shown as plain IPv4, so per-IP limits count one
// client once whichever way it came in.
std::string address_text(const sockaddr_storage& address);

// 127.0.0.0/8, ::1 or their mapped forms.
bool is_loopback(const sockaddr_storage& address);

std::uint16_t address_port(const sockaddr_storage& address);

}  // namespace postern::net
