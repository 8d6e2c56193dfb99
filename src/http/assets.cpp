// Finding and serving the embedded page assets.
#include "http/assets.h"

#include <cctype>
#include <optional>

#include "core/ascii.h"

namespace postern::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whether a comma-separated list header contains `token` (or "*").
bool list_contains(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item == token || item == "*") return true;
  }
  return false;
}

}  // namespace

const Asset* find_asset(std::string_view path) {
  if (path == "/setup" || path == "/index.html") path = "/";
  for (const Asset& asset : embedded_assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

bool accepts_gzip(const Request& request) {
  const std::string* header = request.header("accept-encoding");
  // RFC 9110 §12.5.3: no Accept-Encoding means any content coding is acceptable.
  if (header == nullptr) return true;
  std::string_view list = *header;
  std::optional<bool> star;  // "*" covers gzip only when gzip is not named
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    std::size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    const bool named =
        core::equals_ignore_case(coding, "gzip") || core::equals_ignore_case(coding, "x-gzip");
    if (!named && coding != "*") continue;
    bool accepted = true;
    if (semi != std::string_view::npos) {
      std::string params = lower(item.substr(semi + 1));
      if (std::size_t q = params.find("q="); q != std::string::npos) {
        // q=0, q=0.0, q=0.00 ... refuse; anything else accepts.
        accepted = false;
        for (std::size_t i = q + 2; i < params.size() && params[i] != ' ' && params[i] != ';';
             ++i) {
          if (params[i] != '0' && params[i] != '.') accepted = true;
        }
      }
    }
    if (named) return accepted;
    star = accepted;
  }
  return star.value_or(false);
}

Response serve_asset(const Asset& asset, const Request& request) {
  Response r;
  r.set("ETag", std::string(asset.etag));
  r.set("Cache-Control", "no-cache");
  r.set("Vary", "Accept-Encoding");
  if (const std::string* inm = request.header("if-none-match");
      inm != nullptr && list_contains(*inm, asset.etag)) {
    r.status = 304;
    return r;
  }
  const bool gzip = accepts_gzip(request);
  const bool names_gzip = gzip && request.header("accept-encoding") != nullptr;
  if (!names_gzip && !asset.raw.empty()) {
    r.set("Content-Type", std::string(asset.content_type));
    r.body.assign(reinterpret_cast<const char*>(asset.raw.data()), asset.raw.size());
    return r;
  }
  if (!gzip) {
    r.status = 406;
    r.set("Content-Type", "text/plain; charset=utf-8");
    r.body =
        "This page is stored gzip-compressed only: open it in a web browser, or add "
        "--compressed to curl.\n";
    return r;
  }
  r.set("Content-Type", std::string(asset.content_type));
  r.set("Content-Encoding", "gzip");
  r.body.assign(reinterpret_cast<const char*>(asset.gzip.data()), asset.gzip.size());
  return r;
}

}  // namespace postern::http
