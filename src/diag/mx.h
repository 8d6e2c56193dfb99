// MX answers, pure: the mail exchangers of a domain from a DNS answer, best first.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace postern::diag {

struct MxHost {
  int preference = 0;
  std::string host;  // no trailing dot; "" is the root (a null MX, RFC 7505)
};

// Parses a wire-format DNS answer with ares_parse_mx_reply. The records come back sorted
// by preference, lowest first (RFC 5321 §5.1), keeping answer order among equals (the RFC's
// random choice among equals is left to the DNS server's rotation). Errors: Errc::corrupt
// ("mx-answer", sys = the ARES_* status) for an answer that does not parse; Errc::not_found
// ("mx-none") for one without MX records.
core::Result<std::vector<MxHost>> parse_mx_answer(const unsigned char* answer, int length);

// The exchanger to trace: the first of a sorted list. A null MX (one record, host "" or
// ".", RFC 7505 §3) means the domain takes no mail: Errc::not_found ("null-mx").
// REQUIRES: `sorted` is non-empty and sorted as parse_mx_answer returns it.
core::Result<MxHost> best_mx(const std::vector<MxHost>& sorted);

}  // namespace postern::diag
