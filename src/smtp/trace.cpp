// Trace headers (RFC 5321 §4.4), see trace.h.
#include "smtp/trace.h"

#include <cstdio>
#include <ctime>

namespace postern::smtp {
namespace {

std::string sanitized_helo(std::string_view helo) {
  std::string out(helo);
  for (char& c : out) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '[' || c == ']' || c == ':' || c == '_';
    if (!keep) c = '_';
  }
  return out;
}

}  // namespace

std::string rfc5322_date(core::TimePoint when) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(core::unix_seconds(when));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

const char* with_protocol(bool esmtp, bool tls, bool smtputf8) {
  if (smtputf8) return tls ? "UTF8SMTPS" : "UTF8SMTP";
  if (tls) return "ESMTPS";
  return esmtp ? "ESMTP" : "SMTP";
}

std::string trace_headers(const Envelope& envelope, const TraceInfo& info) {
  std::string out = "Return-Path: <" + envelope.reverse_path + ">\r\n";
  out += "Received: from " + sanitized_helo(envelope.helo) + " (" + std::string(info.peer_address) +
         ")\r\n\tby " + std::string(info.hostname) + " with " +
         with_protocol(info.esmtp, info.tls, envelope.smtputf8) + " id " +
         std::string(info.message_id);
  if (envelope.recipients.size() == 1) out += "\r\n\tfor <" + envelope.recipients.front() + ">";
  out += "; " + rfc5322_date(info.when) + "\r\n";
  return out;
}

}  // namespace postern::smtp
