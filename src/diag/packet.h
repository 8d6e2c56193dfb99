// Probe packets and ICMP replies, pure: what an error-queue entry or a raw ICMP packet
// means for a trace (time exceeded, destination reached, unreachable, smaller MTU).
//
// Two sources describe the same ICMP messages:
//  - an unprivileged UDP socket with IP_RECVERR / IPV6_RECVERR reads them from the error
//    queue (recvmsg(MSG_ERRQUEUE)) as a struct sock_extended_err, as tracepath does;
//  - a raw ICMP socket (CAP_NET_RAW) reads the packets themselves, parsed by parse_icmp*().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct sock_extended_err;

namespace postern::diag {

enum class Family { ipv4, ipv6 };

inline constexpr int kIpv4HeaderBytes = 20;  // no options on our probes
inline constexpr int kIpv6HeaderBytes = 40;
inline constexpr int kUdpHeaderBytes = 8;
inline constexpr int kMinMtuIpv4 = 68;    // RFC 791: every host must take 68 bytes unfragmented
inline constexpr int kMinMtuIpv6 = 1280;  // RFC 8200 §5

inline int ip_header_bytes(Family f) {
  return f == Family::ipv4 ? kIpv4HeaderBytes : kIpv6HeaderBytes;
}
inline int min_mtu(Family f) {
  return f == Family::ipv4 ? kMinMtuIpv4 : kMinMtuIpv6;
}

enum class ReplyKind {
  time_exceeded,  // a router on the path: the hop's address (RFC 792 type 11, RFC 4443 type 3)
  destination,    // the target answered: port unreachable (or a UDP reply)
  unreachable,    // net/host unreachable, prohibited: the path ends at this responder
  mtu,            // frag needed / packet too big / local EMSGSIZE: resend smaller
  other,          // anything else (reassembly timeout, source quench, ...): ignored
};
const char* to_string(ReplyKind kind) noexcept;

struct Classified {
  ReplyKind kind = ReplyKind::other;
  int mtu = 0;  // for ReplyKind::mtu: the next-hop MTU reported (0 = not given, RFC 1191 §4)
};

// Classifies one error-queue entry (SO_EE_ORIGIN_ICMP, _ICMP6 or _LOCAL). ee_info carries
// the MTU for frag-needed, packet-too-big and a local EMSGSIZE.
Classified classify_error(const sock_extended_err& ee);

// The next smaller plateau of RFC 1191 §7 below `size`, floored at the family's minimum:
// the guess when a router reports frag-needed without an MTU, or the kernel says EMSGSIZE
// without an error-queue entry.
int next_plateau(int size, Family family);

// One ICMP message read from a raw socket.
struct IcmpPacket {
  Classified what;
  std::string from;                      // responder (IPv4: from the IP header; IPv6: as given)
  std::string inner_destination;         // the quoted probe's destination address
  std::uint16_t inner_port = 0;          // the quoted UDP destination port (UDP probes)
  std::optional<std::uint16_t> echo_id;  // for echo replies, or quoted echo requests
  std::optional<std::uint16_t> echo_seq;
  bool echo_reply = false;  // an echo reply (ReplyKind::destination)
};

// Parses an IPv4 packet as a raw ICMP socket delivers it (IP header first). Returns nothing
// for truncated or non-ICMP input; never reads past `packet`.
std::optional<IcmpPacket> parse_icmp4(std::span<const std::uint8_t> packet);
// Parses an ICMPv6 message as a raw ICMPv6 socket delivers it (no IPv6 header: RFC 3542
// §3); `from` is the source address recvfrom() gave.
std::optional<IcmpPacket> parse_icmp6(std::span<const std::uint8_t> message,
                                      const std::string& from);

// RFC 1071 Internet checksum over `bytes` (odd length padded with a zero byte).
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes);

// An ICMP echo request (RFC 792 type 8 / RFC 4443 type 128), `payload_bytes` of pattern
// after the 8-byte header. The IPv4 checksum is filled in; for IPv6 it is left 0, because
// the kernel computes it over the pseudo-header (RFC 3542 §3.1).
std::vector<std::uint8_t> build_echo_request(Family family, std::uint16_t id, std::uint16_t seq,
                                             std::size_t payload_bytes);

}  // namespace postern::diag
