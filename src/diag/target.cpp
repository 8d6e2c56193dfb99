// Target validation: IP literals through inet_pton, host names by the LDH rule.
#include "diag/target.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace postern::diag {

namespace {

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool all_digits(std::string_view label) {
  for (char c : label) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

core::Result<Target> validate_target(std::string_view text) {
  using core::Errc;
  if (text.empty()) return core::make_error(Errc::invalid, "target-empty");
  // 253 for the name plus a possible trailing dot; IPv6 literals are at most 45 bytes.
  if (text.size() > 254) return core::make_error(Errc::invalid, "target-too-long");
  const std::string copy(text);  // inet_pton wants a NUL-terminated string
  if (copy.find('\0') != std::string::npos)
    return core::make_error(Errc::invalid, "target-character");

  in_addr v4{};
  if (::inet_pton(AF_INET, copy.c_str(), &v4) == 1) return Target{TargetKind::ipv4, copy};
  if (copy.find(':') != std::string::npos) {
    in6_addr v6{};
    if (::inet_pton(AF_INET6, copy.c_str(), &v6) == 1) return Target{TargetKind::ipv6, copy};
    return core::make_error(Errc::invalid, "target-character");
  }

  std::string_view name = text;
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return core::make_error(Errc::invalid, "target-empty");
  if (name.size() > 253) return core::make_error(Errc::invalid, "target-too-long");
  for (char c : name) {
    if (c != '.' && !is_ldh(c)) return core::make_error(Errc::invalid, "target-character");
  }
  std::string_view last;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return core::make_error(Errc::invalid, "target-label");
    }
    last = label;
    start = dot + 1;
  }
  if (all_digits(last)) return core::make_error(Errc::invalid, "target-numeric-tld");
  Target out{TargetKind::host_name, std::string(name)};
  for (char& c : out.text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string describe_target_error(const core::Error& error) {
  const std::string_view where = error.where;
  if (where == "target-empty") return "Enter a host name or IP address, e.g. example.org.";
  if (where == "target-too-long") return "That name is too long: at most 253 characters.";
  if (where == "target-character")
    return "Enter only a host name or an IP address: letters, digits, '-' and '.' (or an IPv6 "
           "address); no spaces, ';', '|', '$' or other characters.";
  if (where == "target-label")
    return "Each part of a host name needs 1 to 63 characters and may not start or end with "
           "'-'.";
  if (where == "target-numeric-tld")
    return "That is neither an IPv4 address (four numbers 0-255) nor a host name.";
  return "Enter a host name or IP address, e.g. example.org.";
}

bool is_loopback(std::string_view numeric_address) {
  const std::string copy(numeric_address);
  in_addr v4{};
  if (::inet_pton(AF_INET, copy.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, copy.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

}  // namespace postern::diag
