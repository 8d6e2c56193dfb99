// Hop statistics and the JSON form of trace results.
#include "diag/hop_stats.h"

#include <algorithm>
#include <cstdio>

namespace postern::diag {

void HopStats::answered(Micros rtt_us, const std::string& from) {
  if (rtt_us < 0) rtt_us = 0;
  if (hop_.received == 0) {
    hop_.rtt_min_us = hop_.rtt_max_us = rtt_us;
  } else {
    hop_.rtt_min_us = std::min(hop_.rtt_min_us, rtt_us);
    hop_.rtt_max_us = std::max(hop_.rtt_max_us, rtt_us);
  }
  ++hop_.sent;
  ++hop_.received;
  rtt_sum_ += rtt_us;
  hop_.rtt_avg_us = rtt_sum_ / hop_.received;
  hop_.rtts_us.push_back(rtt_us);
  if (from.empty()) return;
  if (hop_.address.empty()) {
    hop_.address = from;
  } else if (from != hop_.address &&
             std::find(hop_.also.begin(), hop_.also.end(), from) == hop_.also.end()) {
    hop_.also.push_back(from);
  }
}

void HopStats::lost() {
  ++hop_.sent;
  hop_.rtts_us.push_back(-1);
}

const char* to_string(TraceOutcome outcome) noexcept {
  switch (outcome) {
    case TraceOutcome::reached:
      return "reached";
    case TraceOutcome::max_hops:
      return "max-hops";
    case TraceOutcome::unreachable:
      return "unreachable";
    case TraceOutcome::failed:
      return "failed";
    case TraceOutcome::cancelled:
      return "cancelled";
  }
  return "failed";
}

namespace {

void append_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

void append_number(std::string& out, const char* key, long long value) {
  out += '"';
  out += key;
  out += "\":";
  out += std::to_string(value);
}

void append_text(std::string& out, const char* key, const std::string& value) {
  out += '"';
  out += key;
  out += "\":";
  append_string(out, value);
}

void append_flag(std::string& out, const char* key, bool value) {
  out += '"';
  out += key;
  out += "\":";
  out += value ? "true" : "false";
}

}  // namespace

std::string to_json(const HopResult& hop) {
  std::string out = "{";
  append_number(out, "ttl", hop.ttl);
  out += ',';
  append_text(out, "address", hop.address);
  out += ",\"also\":[";
  for (std::size_t i = 0; i < hop.also.size(); ++i) {
    if (i) out += ',';
    append_string(out, hop.also[i]);
  }
  out += "],";
  append_number(out, "sent", hop.sent);
  out += ',';
  append_number(out, "received", hop.received);
  out += ',';
  append_number(out, "loss", hop.loss_percent());
  out += ',';
  append_number(out, "rtt_min_us", hop.rtt_min_us);
  out += ',';
  append_number(out, "rtt_avg_us", hop.rtt_avg_us);
  out += ',';
  append_number(out, "rtt_max_us", hop.rtt_max_us);
  out += ',';
  append_number(out, "mtu", hop.mtu);
  out += ',';
  append_flag(out, "destination", hop.destination);
  out += ',';
  append_flag(out, "unreachable", hop.unreachable);
  out += '}';
  return out;
}

std::string to_json(const TraceResult& result) {
  std::string out = "{";
  append_text(out, "target", result.target);
  out += ',';
  append_text(out, "address", result.address);
  out += ',';
  append_text(out, "mx", result.mx);
  out += ',';
  append_text(out, "outcome", std::string(to_string(result.outcome)));
  out += ',';
  append_number(out, "path_mtu", result.path_mtu);
  out += ',';
  append_text(out, "error", result.error);
  out += ",\"hops\":[";
  for (std::size_t i = 0; i < result.hops.size(); ++i) {
    if (i) out += ',';
    out += to_json(result.hops[i]);
  }
  out += "]}";
  return out;
}

}  // namespace postern::diag
