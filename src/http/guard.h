// Request guards: the Host check against DNS rebinding, same-origin checks,
// cookies and constant-time token comparison. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::http {

// DNS rebinding: a hostile page whose name resolves to us sends its own name
// in Host. Allowed: `hostname` (ours, case-insensitive), "localhost", an IPv4
// literal or a bracketed IPv6 literal; with no port or exactly `local_port`
// (the port the request arrived on).
bool host_allowed(std::string_view host_header, std::string_view hostname,
                  std::uint16_t local_port);

// An Origin header (RFC 6454 §7), when present, must name the same host as
// Host and the scheme of this connection ("null" and strangers are refused).
bool origin_matches(std::string_view origin, std::string_view host_header, bool secure);

// Whether a state-changing request may come from this page's own origin only:
// false when Sec-Fetch-Site (Fetch Metadata, W3C) is "cross-site" whatever the
// Origin says, or when an Origin is present and foreign (origin_matches).
// "same-origin", "same-site" (then Origin decides), "none" (typed by the user)
// and an absent header (older browsers, curl) are left to the Origin check.
bool same_site_request(const std::string* sec_fetch_site, const std::string* origin,
                       std::string_view host_header, bool secure);

// The value of cookie `name` in a Cookie header (RFC 6265 §5.4), if present.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

// Compares in time that depends only on the lengths, not on where they differ.
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

}  // namespace postern::http
