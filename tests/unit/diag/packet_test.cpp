// ICMP classification from error-queue entries and from captured raw packets.
#include "diag/packet.h"

#include <doctest/doctest.h>
#include <linux/errqueue.h>

#include <cerrno>
#include <vector>

using namespace postern;
using diag::ReplyKind;

namespace {

sock_extended_err entry(int origin, int type, int code, unsigned info = 0, int err = 0) {
  sock_extended_err ee{};
  ee.ee_origin = static_cast<std::uint8_t>(origin);
  ee.ee_type = static_cast<std::uint8_t>(type);
  ee.ee_code = static_cast<std::uint8_t>(code);
  ee.ee_info = info;
  ee.ee_errno = static_cast<std::uint32_t>(err);
  return ee;
}

// Captured layout of an ICMPv4 error from 192.0.2.1 to 198.51.100.7 quoting our UDP
// probe (DF, 1500 bytes, TTL 1) to 203.0.113.5 port 33434.
std::vector<std::uint8_t> icmp4(std::uint8_t type, std::uint8_t code, std::uint16_t mtu = 0) {
  return {
      0x45,
      0x00,
      0x00,
      0x38,
      0x00,
      0x00,
      0x00,
      0x00,
      0x40,
      0x01,
      0x00,
      0x00,  // IP, proto 1
      0xc0,
      0x00,
      0x02,
      0x01,
      0xc6,
      0x33,
      0x64,
      0x07,  // src, dst
      type,
      code,
      0x00,
      0x00,
      0x00,
      0x00,
      static_cast<std::uint8_t>(mtu >> 8),
      static_cast<std::uint8_t>(mtu & 0xff),  // ICMP
      0x45,
      0x00,
      0x05,
      0xdc,
      0x12,
      0x34,
      0x40,
      0x00,
      0x01,
      0x11,
      0x00,
      0x00,  // quoted IP
      0xc6,
      0x33,
      0x64,
      0x07,
      0xcb,
      0x00,
      0x71,
      0x05,  // src, dst
      0xd4,
      0x31,
      0x82,
      0x9a,
      0x05,
      0xc8,
      0x00,
      0x00,  // quoted UDP
  };
}

// An ICMPv6 error (no IPv6 header: raw ICMPv6 sockets omit it) quoting a UDP probe from
// 2001:db8::1 to 2001:db8::5 port 33435.
std::vector<std::uint8_t> icmp6(std::uint8_t type, std::uint8_t code, std::uint32_t word = 0) {
  std::vector<std::uint8_t> m = {type,
                                 code,
                                 0x00,
                                 0x00,
                                 static_cast<std::uint8_t>(word >> 24),
                                 static_cast<std::uint8_t>(word >> 16),
                                 static_cast<std::uint8_t>(word >> 8),
                                 static_cast<std::uint8_t>(word)};
  const std::uint8_t inner[] = {0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x01};
  m.insert(m.end(), std::begin(inner), std::end(inner));
  const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};
  m.insert(m.end(), std::begin(src), std::end(src));
  m.insert(m.end(), std::begin(dst), std::end(dst));
  const std::uint8_t udp[] = {0xd4, 0x31, 0x82, 0x9b, 0x00, 0x08, 0x00, 0x00};
  m.insert(m.end(), std::begin(udp), std::end(udp));
  return m;
}

}  // namespace

TEST_CASE("Error-queue entries from ICMPv4 map to hop, destination, unreachable and MTU") {
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 11, 0)).kind == ReplyKind::time_exceeded);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 11, 1)).kind == ReplyKind::other);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 3, 3)).kind == ReplyKind::destination);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 3, 1)).kind == ReplyKind::unreachable);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 3, 13)).kind == ReplyKind::unreachable);
  auto frag = diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 3, 4, 1400));
  CHECK(frag.kind == ReplyKind::mtu);
  CHECK(frag.mtu == 1400);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP, 0, 0)).kind == ReplyKind::other);
}

TEST_CASE("Error-queue entries from ICMPv6 and local errors are classified") {
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP6, 3, 0)).kind == ReplyKind::time_exceeded);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP6, 1, 4)).kind == ReplyKind::destination);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP6, 1, 1)).kind == ReplyKind::unreachable);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_ICMP6, 1, 0)).kind == ReplyKind::unreachable);
  auto big = diag::classify_error(entry(SO_EE_ORIGIN_ICMP6, 2, 0, 1280));
  CHECK(big.kind == ReplyKind::mtu);
  CHECK(big.mtu == 1280);
  auto local = diag::classify_error(entry(SO_EE_ORIGIN_LOCAL, 0, 0, 1500, EMSGSIZE));
  CHECK(local.kind == ReplyKind::mtu);
  CHECK(local.mtu == 1500);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_LOCAL, 0, 0, 0, EHOSTUNREACH)).kind ==
        ReplyKind::other);
  CHECK(diag::classify_error(entry(SO_EE_ORIGIN_NONE, 11, 0)).kind == ReplyKind::other);
}

TEST_CASE("A captured ICMPv4 time exceeded names the router and the probe's port") {
  auto p = diag::parse_icmp4(icmp4(11, 0));
  REQUIRE(p);
  CHECK(p->what.kind == ReplyKind::time_exceeded);
  CHECK(p->from == "192.0.2.1");
  CHECK(p->inner_destination == "203.0.113.5");
  CHECK(p->inner_port == 33434);
}

TEST_CASE("A captured ICMPv4 port unreachable and frag needed are parsed") {
  auto port = diag::parse_icmp4(icmp4(3, 3));
  REQUIRE(port);
  CHECK(port->what.kind == ReplyKind::destination);
  auto frag = diag::parse_icmp4(icmp4(3, 4, 1400));
  REQUIRE(frag);
  CHECK(frag->what.kind == ReplyKind::mtu);
  CHECK(frag->what.mtu == 1400);  // RFC 1191 §4: next-hop MTU in the low 16 bits
  CHECK(frag->inner_port == 33434);
}

TEST_CASE("Truncated or foreign IPv4 packets never read past their end") {
  const auto full = icmp4(11, 0);
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto p = diag::parse_icmp4(cut);  // ASan checks the bounds: the vector is exact-sized
    if (n < 28) CHECK_FALSE(p);
    if (p && n < full.size()) CHECK(p->inner_port == 0);
  }
  auto not_icmp = full;
  not_icmp[9] = 17;
  CHECK_FALSE(diag::parse_icmp4(not_icmp));
  auto v6 = full;
  v6[0] = 0x65;
  CHECK_FALSE(diag::parse_icmp4(v6));
}

TEST_CASE("An ICMPv4 echo reply carries its id and sequence") {
  std::vector<std::uint8_t> reply = {0x45, 0,    0,  28, 0,    0,    0,    0,   64, 1,
                                     0,    0,    10, 0,  0,    1,    10,   0,   0,  2,
                                     0x00, 0x00, 0,  0,  0x12, 0x34, 0x00, 0x07};
  auto p = diag::parse_icmp4(reply);
  REQUIRE(p);
  CHECK(p->echo_reply);
  CHECK(p->what.kind == ReplyKind::destination);
  CHECK(p->echo_id == 0x1234);
  CHECK(p->echo_seq == 7);
}

TEST_CASE("Captured ICMPv6 time exceeded, port unreachable and packet too big are parsed") {
  auto hop = diag::parse_icmp6(icmp6(3, 0), "2001:db8::fe");
  REQUIRE(hop);
  CHECK(hop->what.kind == ReplyKind::time_exceeded);
  CHECK(hop->from == "2001:db8::fe");
  CHECK(hop->inner_destination == "2001:db8::5");
  CHECK(hop->inner_port == 33435);
  auto port = diag::parse_icmp6(icmp6(1, 4), "2001:db8::5");
  REQUIRE(port);
  CHECK(port->what.kind == ReplyKind::destination);
  auto big = diag::parse_icmp6(icmp6(2, 0, 1280), "2001:db8::fe");
  REQUIRE(big);
  CHECK(big->what.kind == ReplyKind::mtu);
  CHECK(big->what.mtu == 1280);
  auto full = icmp6(3, 0);
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto p = diag::parse_icmp6(cut, "x");
    if (n < 8) CHECK_FALSE(p);
    if (p) CHECK(p->inner_port == 0);
  }
}

TEST_CASE("RFC 1191 plateaus step down and stop at the family minimum") {
  using diag::Family;
  CHECK(diag::next_plateau(65535, Family::ipv4) == 32000);
  CHECK(diag::next_plateau(1500, Family::ipv4) == 1492);
  CHECK(diag::next_plateau(1400, Family::ipv4) == 1280);
  CHECK(diag::next_plateau(1280, Family::ipv4) == 1006);
  CHECK(diag::next_plateau(68, Family::ipv4) == 68);
  CHECK(diag::next_plateau(1500, Family::ipv6) == 1492);
  CHECK(diag::next_plateau(1492, Family::ipv6) == 1280);
  CHECK(diag::next_plateau(1280, Family::ipv6) == 1280);
}

TEST_CASE("The Internet checksum matches RFC 1071's example and validates echo requests") {
  const std::uint8_t rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(diag::internet_checksum(rfc1071) == 0x220d);
  auto echo = diag::build_echo_request(diag::Family::ipv4, 0xbeef, 3, 13);
  REQUIRE(echo.size() == 21);
  CHECK(echo[0] == 8);
  CHECK(echo[4] == 0xbe);
  CHECK(echo[7] == 3);
  CHECK(diag::internet_checksum(echo) == 0);  // a correct checksum sums to zero
  auto echo6 = diag::build_echo_request(diag::Family::ipv6, 1, 2, 0);
  CHECK(echo6[0] == 128);
  CHECK(echo6[2] == 0);  // the kernel fills it in (RFC 3542 §3.1)
}
