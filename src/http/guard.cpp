// Host, Origin and Cookie checks for every request.
#include "http/guard.h"

#include <cctype>
#include <charconv>

#include "core/ascii.h"

namespace postern::http {
namespace {

using core::equals_ignore_case;

bool is_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    if (part.empty() || part.size() > 3) return false;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool is_ipv6_literal(std::string_view s) {  // "[...]" with hex digits, ':' and '.'
  if (s.size() < 4 || s.front() != '[' || s.back() != ']') return false;
  for (char c : s.substr(1, s.size() - 2)) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  }
  return true;
}

// Splits "name[:port]"; false when the port is not a number.
bool split_host(std::string_view host, std::string_view& name, std::optional<unsigned>& port) {
  std::size_t colon = host.rfind(':');
  std::size_t bracket = host.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket)) {
    name = host;
    port.reset();
    return true;
  }
  name = host.substr(0, colon);
  std::string_view digits = host.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value > 65535)
    return false;
  port = value;
  return true;
}

}  // namespace

bool host_allowed(std::string_view host_header, std::string_view hostname,
                  std::uint16_t local_port) {
  std::string_view name;
  std::optional<unsigned> port;
  if (host_header.empty() || !split_host(host_header, name, port)) return false;
  if (port && *port != local_port) return false;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "example.org." is the same
  return equals_ignore_case(name, hostname) || equals_ignore_case(name, "localhost") ||
         is_ipv4(name) || is_ipv6_literal(name);
}

bool origin_matches(std::string_view origin, std::string_view host_header, bool secure) {
  std::string_view scheme = secure ? "https://" : "http://";
  if (origin.substr(0, scheme.size()) != scheme) return false;
  return equals_ignore_case(origin.substr(scheme.size()), host_header);
}

bool same_site_request(const std::string* sec_fetch_site, const std::string* origin,
                       std::string_view host_header, bool secure) {
  if (sec_fetch_site != nullptr && equals_ignore_case(*sec_fetch_site, "cross-site")) return false;
  return origin == nullptr || origin_matches(*origin, host_header, secure);
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      return std::string(value);
    }
  }
  return std::nullopt;
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

}  // namespace postern::http
