// A trace target as typed by a user or taken from a peer: validated before anything is sent.
//
// There is no shell behind `postern trace` (probes are our own sockets), so nothing could
// be injected; the validator still refuses everything that is not a host name or an IP
// literal, so a hostile string is a clear error and never reaches DNS, a log or a page.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace postern::diag {

enum class TargetKind { ipv4, ipv6, host_name };

struct Target {
  TargetKind kind = TargetKind::host_name;
  std::string text;  // canonical: lowercase name without a trailing dot, or the literal as given
};

// Accepts an IPv4 dotted quad, an IPv6 literal (no brackets, no zone) or a host name:
// LDH labels of 1..63 bytes, no label starting or ending in '-', at most 253 bytes in all
// (RFC 1035 §2.3.1, RFC 1123 §2.1), one trailing dot allowed, and a last label that is not
// all digits (RFC 3696 §2), so "1.2.3" is refused rather than guessed at.
// Errors: Errc::invalid with `where` naming the rule ("target-empty", "target-too-long",
// "target-character", "target-label", "target-numeric-tld").
core::Result<Target> validate_target(std::string_view text);

// One sentence for a validate_target() error, for the owner (status page, CLI): what is
// wrong and what is allowed. Never echoes the input, so a hostile string is not reflected.
std::string describe_target_error(const core::Error& error);

// True for a numeric loopback address: 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(std::string_view numeric_address);

}  // namespace postern::diag
