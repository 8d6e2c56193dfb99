// ICMP classification (error queue and raw packets), RFC 1191 plateaus, echo requests.
#include "diag/packet.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>

#include <cerrno>

namespace postern::diag {

namespace {

// ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) numbers used below.
constexpr int kIcmp4EchoReply = 0;
constexpr int kIcmp4Unreach = 3;
constexpr int kIcmp4EchoRequest = 8;
constexpr int kIcmp4TimeExceeded = 11;
constexpr int kIcmp4PortUnreach = 3;
constexpr int kIcmp4ProtoUnreach = 2;
constexpr int kIcmp4FragNeeded = 4;
constexpr int kIcmp6Unreach = 1;
constexpr int kIcmp6PacketTooBig = 2;
constexpr int kIcmp6TimeExceeded = 3;
constexpr int kIcmp6EchoRequest = 128;
constexpr int kIcmp6EchoReply = 129;
constexpr int kIcmp6PortUnreach = 4;

Classified classify4(int type, int code, int mtu) {
  if (type == kIcmp4TimeExceeded) {
    // Code 1 is a fragment reassembly timeout at the destination, not a hop.
    return {code == 0 ? ReplyKind::time_exceeded : ReplyKind::other, 0};
  }
  if (type == kIcmp4Unreach) {
    if (code == kIcmp4PortUnreach || code == kIcmp4ProtoUnreach) return {ReplyKind::destination, 0};
    if (code == kIcmp4FragNeeded) return {ReplyKind::mtu, mtu};
    return {ReplyKind::unreachable, 0};  // net, host, prohibited (9, 10, 13), ...
  }
  return {ReplyKind::other, 0};
}

Classified classify6(int type, int code, int mtu) {
  if (type == kIcmp6TimeExceeded)
    return {code == 0 ? ReplyKind::time_exceeded : ReplyKind::other, 0};
  if (type == kIcmp6PacketTooBig) return {ReplyKind::mtu, mtu};
  if (type == kIcmp6Unreach) {
    return {code == kIcmp6PortUnreach ? ReplyKind::destination : ReplyKind::unreachable, 0};
  }
  return {ReplyKind::other, 0};
}

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::string address_text(int af, const std::uint8_t* bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(af, bytes, buf, sizeof buf);
  return buf;
}

}  // namespace

const char* to_string(ReplyKind kind) noexcept {
  switch (kind) {
    case ReplyKind::time_exceeded:
      return "time-exceeded";
    case ReplyKind::destination:
      return "destination";
    case ReplyKind::unreachable:
      return "unreachable";
    case ReplyKind::mtu:
      return "mtu";
    case ReplyKind::other:
      return "other";
  }
  return "other";
}

Classified classify_error(const sock_extended_err& ee) {
  const int info = static_cast<int>(ee.ee_info);
  switch (ee.ee_origin) {
    case SO_EE_ORIGIN_ICMP:
      return classify4(ee.ee_type, ee.ee_code, info);
    case SO_EE_ORIGIN_ICMP6:
      return classify6(ee.ee_type, ee.ee_code, info);
    case SO_EE_ORIGIN_LOCAL:
      // The datagram exceeded the outgoing interface's MTU (IP_PMTUDISC_PROBE / _DO).
      if (ee.ee_errno == EMSGSIZE) return {ReplyKind::mtu, info};
      return {ReplyKind::other, 0};
    default:
      return {ReplyKind::other, 0};
  }
}

int next_plateau(int size, Family family) {
  // RFC 1191 §7, table 7-1 (the plateaus column), plus Ethernet (1500) and the IPv6 minimum
  // (1280, RFC 8200 §5), the two sizes most often met today.
  static constexpr int kPlateaus[] = {65535, 32000, 17914, 8166, 4352, 2002, 1500,
                                      1492,  1280,  1006,  508,  296,  68};
  const int floor = min_mtu(family);
  for (int p : kPlateaus) {
    if (p < size && p >= floor) return p;
  }
  return floor;
}

std::optional<IcmpPacket> parse_icmp4(std::span<const std::uint8_t> packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) return std::nullopt;
  const std::size_t ihl = static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  if (ihl < 20 || packet.size() < ihl + 8 || packet[9] != IPPROTO_ICMP) return std::nullopt;
  IcmpPacket out;
  out.from = address_text(AF_INET, &packet[12]);
  auto icmp = packet.subspan(ihl);
  const int type = icmp[0];
  const int code = icmp[1];
  if (type == kIcmp4EchoReply) {
    out.what = {ReplyKind::destination, 0};
    out.echo_reply = true;
    out.echo_id = be16(icmp, 4);
    out.echo_seq = be16(icmp, 6);
    return out;
  }
  // RFC 1191 §4: the next-hop MTU sits in the low 16 bits of the "unused" word.
  out.what = classify4(type, code, be16(icmp, 6));
  if (out.what.kind == ReplyKind::other) return out;
  // The quoted datagram: its IP header and at least 8 bytes (RFC 792).
  auto inner = icmp.subspan(8);
  if (inner.size() < 20 || (inner[0] >> 4) != 4) return out;
  const std::size_t inner_ihl = static_cast<std::size_t>(inner[0] & 0x0f) * 4;
  if (inner_ihl < 20 || inner.size() < inner_ihl + 8) return out;
  out.inner_destination = address_text(AF_INET, &inner[16]);
  if (inner[9] == IPPROTO_UDP) {
    out.inner_port = be16(inner, inner_ihl + 2);
  } else if (inner[9] == IPPROTO_ICMP && inner[inner_ihl] == kIcmp4EchoRequest) {
    out.echo_id = be16(inner, inner_ihl + 4);
    out.echo_seq = be16(inner, inner_ihl + 6);
  }
  return out;
}

std::optional<IcmpPacket> parse_icmp6(std::span<const std::uint8_t> message,
                                      const std::string& from) {
  if (message.size() < 8) return std::nullopt;
  IcmpPacket out;
  out.from = from;
  const int type = message[0];
  const int code = message[1];
  if (type == kIcmp6EchoReply) {
    out.what = {ReplyKind::destination, 0};
    out.echo_reply = true;
    out.echo_id = be16(message, 4);
    out.echo_seq = be16(message, 6);
    return out;
  }
  // RFC 4443 §3.2: packet too big carries a 32-bit MTU.
  const int mtu = static_cast<int>((static_cast<std::uint32_t>(message[4]) << 24) |
                                   (static_cast<std::uint32_t>(message[5]) << 16) |
                                   (static_cast<std::uint32_t>(message[6]) << 8) | message[7]);
  out.what = classify6(type, code, type == kIcmp6PacketTooBig ? mtu : 0);
  if (out.what.kind == ReplyKind::other) return out;
  auto inner = message.subspan(8);
  if (inner.size() < 48 || (inner[0] >> 4) != 6) return out;
  out.inner_destination = address_text(AF_INET6, &inner[24]);
  // Our probes carry no extension headers, so the next header follows at 40.
  if (inner[6] == IPPROTO_UDP) {
    out.inner_port = be16(inner, 42);
  } else if (inner[6] == IPPROTO_ICMPV6 && inner[40] == kIcmp6EchoRequest) {
    out.echo_id = be16(inner, 44);
    out.echo_seq = be16(inner, 46);
  }
  return out;
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::vector<std::uint8_t> build_echo_request(Family family, std::uint16_t id, std::uint16_t seq,
                                             std::size_t payload_bytes) {
  std::vector<std::uint8_t> out(8 + payload_bytes, 0);
  out[0] = family == Family::ipv4 ? kIcmp4EchoRequest : kIcmp6EchoRequest;
  out[4] = static_cast<std::uint8_t>(id >> 8);
  out[5] = static_cast<std::uint8_t>(id & 0xff);
  out[6] = static_cast<std::uint8_t>(seq >> 8);
  out[7] = static_cast<std::uint8_t>(seq & 0xff);
  for (std::size_t i = 0; i < payload_bytes; ++i)
    out[8 + i] = static_cast<std::uint8_t>(0x40 + i % 64);
  if (family == Family::ipv4) {
    const std::uint16_t sum = internet_checksum(out);
    out[2] = static_cast<std::uint8_t>(sum >> 8);
    out[3] = static_cast<std::uint8_t>(sum & 0xff);
  }
  return out;
}

}  // namespace postern::diag
