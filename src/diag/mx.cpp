// MX parsing over c-ares's parser, and the choice of exchanger.
#include "diag/mx.h"

#include <ares.h>

#include <algorithm>

namespace postern::diag {

core::Result<std::vector<MxHost>> parse_mx_answer(const unsigned char* answer, int length) {
  ares_mx_reply* replies = nullptr;
  const int status = ::ares_parse_mx_reply(answer, length, &replies);
  if (status == ARES_ENODATA) return core::make_error(core::Errc::not_found, "mx-none");
  if (status != ARES_SUCCESS) return core::make_error(core::Errc::corrupt, "mx-answer", status);
  std::vector<MxHost> out;
  for (ares_mx_reply* r = replies; r != nullptr; r = r->next) {
    std::string host = r->host ? r->host : "";
    if (!host.empty() && host.back() == '.') host.pop_back();
    out.push_back(MxHost{r->priority, std::move(host)});
  }
  ::ares_free_data(replies);
  if (out.empty()) return core::make_error(core::Errc::not_found, "mx-none");
  std::stable_sort(out.begin(), out.end(),
                   [](const MxHost& a, const MxHost& b) { return a.preference < b.preference; });
  return out;
}

core::Result<MxHost> best_mx(const std::vector<MxHost>& sorted) {
  if (sorted.empty()) return core::make_error(core::Errc::not_found, "mx-none");
  if (sorted.size() == 1 && (sorted[0].host.empty() || sorted[0].host == ".")) {
    return core::make_error(core::Errc::not_found, "null-mx");
  }
  // Skip a stray root entry mixed with real ones; RFC 7505 §3 says not to publish that.
  for (const auto& mx : sorted) {
    if (!mx.host.empty() && mx.host != ".") return mx;
  }
  return core::make_error(core::Errc::not_found, "null-mx");
}

}  // namespace postern::diag
