// Trace headers (RFC 5321 §4.4): the Return-Path and Received lines prepended to a message.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "smtp/host.h"

namespace postern::smtp {

// RFC 5322 §3.3 date-time in UTC: "Tue, 14 Nov 2023 22:13:20 +0000".
std::string rfc5322_date(core::TimePoint when);

// The WITH protocol type: SMTP, ESMTP, ESMTPS (RFC 3848) or UTF8SMTP[S] (RFC 6531 §3.7.3).
// We offer no AUTH, so never the "A" forms.
const char* with_protocol(bool esmtp, bool tls, bool smtputf8);

struct TraceInfo {
  std::string_view hostname;  // ours
  std::string_view peer_address;
  std::string_view message_id;  // "<session_id>.<n>"
  bool esmtp = true;
  bool tls = false;
  core::TimePoint when;
};

// "Return-Path: <reverse-path>\r\nReceived: from <helo> (<address>)\r\n\tby <host> with
// <protocol> id <id>\r\n\tfor <rcpt>; <date>\r\n". "for" only with exactly one
// recipient, so a Bcc recipient list does not leak. The HELO argument is peer
// text: anything but letters, digits and ".-[]:_" becomes '_'.
std::string trace_headers(const Envelope& envelope, const TraceInfo& info);

}  // namespace postern::smtp
