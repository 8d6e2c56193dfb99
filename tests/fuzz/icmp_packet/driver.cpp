// libFuzzer driver for the tracer's ICMP / ICMPv6 parsing (diag/packet.*): the bytes a raw
// socket hands over, from any router on the path, parsed by parse_icmp4/parse_icmp6.
//
// Input: byte 0 picks what the rest is: an IPv4 packet (even), an ICMPv6 message (odd);
// bytes 1-2 also give the id and sequence of a generated echo request.
//
// Invariants beyond ASan (libFuzzer's input buffer is exactly its size, so any read past
// it is reported): a parse only reports what the input holds (the addresses, port and echo
// fields equal the bytes at their RFC 792 / RFC 4443 offsets, all inside the input), the
// classification is coherent (an MTU only for ReplyKind::mtu, an echo reply is the
// destination), a shorter prefix of a packet never yields a field the whole packet does
// not, and an echo request we build checksums to zero and comes back through the parser.
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "diag/packet.h"

namespace {

using namespace postern;
using Bytes = std::span<const std::uint8_t>;

void require(bool ok) {
  if (!ok) std::abort();
}

std::uint16_t be16(Bytes b, std::size_t at) {
  require(at + 2 <= b.size());
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

// `text` is the address whose bytes sit at b[at...].
bool address_at(int af, const std::string& text, Bytes b, std::size_t at) {
  const std::size_t n = af == AF_INET ? 4 : 16;
  if (at + n > b.size()) return false;
  std::uint8_t parsed[16];
  return ::inet_pton(af, text.c_str(), parsed) == 1 && std::memcmp(parsed, &b[at], n) == 0;
}

void check_kind(const diag::IcmpPacket& p) {
  if (p.what.mtu != 0) require(p.what.kind == diag::ReplyKind::mtu);
  if (p.echo_reply) require(p.what.kind == diag::ReplyKind::destination);
  if (p.inner_port != 0 || (p.echo_id && !p.echo_reply)) require(!p.inner_destination.empty());
  require(p.echo_id.has_value() == p.echo_seq.has_value());
}

// What a prefix reports is there in the whole packet too (prefix fields may be missing).
void check_prefix(const std::optional<diag::IcmpPacket>& part,
                  const std::optional<diag::IcmpPacket>& whole) {
  if (!part) return;
  require(whole.has_value());
  require(part->from == whole->from && part->what.kind == whole->what.kind &&
          part->what.mtu == whole->what.mtu && part->echo_reply == whole->echo_reply);
  if (!part->inner_destination.empty())
    require(part->inner_destination == whole->inner_destination);
  if (part->inner_port != 0) require(part->inner_port == whole->inner_port);
  if (part->echo_id) require(part->echo_id == whole->echo_id && part->echo_seq == whole->echo_seq);
}

void check_ipv4(Bytes packet) {
  auto p = diag::parse_icmp4(packet);
  if (packet.size() > 0) check_prefix(diag::parse_icmp4(packet.first(packet.size() - 1)), p);
  if (!p) return;
  require(packet.size() >= 28 && (packet[0] >> 4) == 4 && packet[9] == IPPROTO_ICMP);
  check_kind(*p);
  require(address_at(AF_INET, p->from, packet, 12));
  const std::size_t ihl = (packet[0] & 0x0f) * 4u;
  require(ihl >= 20 && ihl + 8 <= packet.size());
  const Bytes icmp = packet.subspan(ihl);
  if (p->echo_reply) {
    require(icmp[0] == 0 && p->echo_id == be16(icmp, 4) && p->echo_seq == be16(icmp, 6));
    return;
  }
  if (p->what.kind == diag::ReplyKind::mtu) require(p->what.mtu == be16(icmp, 6));
  if (p->inner_destination.empty()) return;
  const Bytes inner = icmp.subspan(8);
  const std::size_t inner_ihl = (inner[0] & 0x0f) * 4u;
  require(inner_ihl >= 20 && inner_ihl + 8 <= inner.size());
  require(address_at(AF_INET, p->inner_destination, inner, 16));
  if (p->inner_port != 0)
    require(inner[9] == IPPROTO_UDP && p->inner_port == be16(inner, inner_ihl + 2));
  if (p->echo_id) require(p->echo_id == be16(inner, inner_ihl + 4));
}

void check_ipv6(Bytes message) {
  const std::string from = "2001:db8::1";
  auto p = diag::parse_icmp6(message, from);
  if (message.size() > 0)
    check_prefix(diag::parse_icmp6(message.first(message.size() - 1), from), p);
  if (!p) return;
  require(message.size() >= 8 && p->from == from);
  check_kind(*p);
  if (p->echo_reply) {
    require(message[0] == 129 && p->echo_id == be16(message, 4));
    return;
  }
  if (p->inner_destination.empty()) return;
  const Bytes inner = message.subspan(8);
  require(inner.size() >= 48 && address_at(AF_INET6, p->inner_destination, inner, 24));
  if (p->inner_port != 0) require(inner[6] == IPPROTO_UDP && p->inner_port == be16(inner, 42));
  if (p->echo_id) require(p->echo_id == be16(inner, 44));
}

// RFC 1071: a message carrying its checksum sums to zero; our echo request parses back.
void check_echo(std::uint16_t id, std::uint16_t seq, std::size_t payload) {
  auto request = diag::build_echo_request(diag::Family::ipv4, id, seq, payload);
  require(request.size() == 8 + payload && diag::internet_checksum(request) == 0);
  // The reply a host sends back: type 0, behind a 20-octet IPv4 header.
  std::vector<std::uint8_t> packet(20, 0);
  packet[0] = 0x45;
  packet[9] = IPPROTO_ICMP;
  packet[12] = 192, packet[13] = 0, packet[14] = 2, packet[15] = 9;
  std::vector<std::uint8_t> reply = request;
  reply[0] = 0;
  packet.insert(packet.end(), reply.begin(), reply.end());
  auto p = diag::parse_icmp4(packet);
  require(p && p->echo_reply && p->echo_id == id && p->echo_seq == seq && p->from == "192.0.2.9");
  // A router quoting the request in a time exceeded (RFC 792): header, IP header, 8 octets.
  std::vector<std::uint8_t> quoted(packet.begin(), packet.begin() + 20);
  const std::uint8_t te[8] = {11, 0, 0, 0, 0, 0, 0, 0};
  quoted.insert(quoted.end(), te, te + 8);
  std::vector<std::uint8_t> inner(packet.begin(), packet.begin() + 20);
  inner[16] = 198, inner[17] = 51, inner[18] = 100, inner[19] = 7;
  quoted.insert(quoted.end(), inner.begin(), inner.end());
  quoted.insert(quoted.end(), request.begin(), request.begin() + 8);
  p = diag::parse_icmp4(quoted);
  require(p && p->what.kind == diag::ReplyKind::time_exceeded && p->echo_id == id &&
          p->echo_seq == seq && p->inner_destination == "198.51.100.7");
}

void check_error_queue(Bytes b) {
  sock_extended_err ee{};
  std::memcpy(&ee, b.data(), std::min(sizeof ee, b.size()));
  const diag::Classified c = diag::classify_error(ee);
  if (c.kind != diag::ReplyKind::mtu) require(c.mtu == 0);
  require(std::strlen(diag::to_string(c.kind)) > 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Bytes rest(data + 1, size - 1);
  if (data[0] & 1) {
    check_ipv6(rest);
  } else {
    check_ipv4(rest);
  }
  check_error_queue(rest);
  if (size >= 3) check_echo(be16(Bytes(data, size), 1), data[0], data[0] % 64);
  (void)diag::internet_checksum(rest);
  return 0;
}
