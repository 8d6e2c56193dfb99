// JSON helpers shared by the API's handler files (internal to src/http).
//
// nlohmann::json is used without exceptions on every path a peer controls:
// parse(..., allow_exceptions=false), typed reads through the helpers below,
// and dump() with error_handler_t::replace so invalid UTF-8 cannot throw.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace postern::http {

using Json = nlohmann::json;

inline Response json_response(int status, const Json& body) {
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

// {"error": message}: the page shows `message` next to the form that sent it.
inline Response json_error(int status, std::string_view message) {
  return json_response(status, Json{{"error", std::string(message)}});
}

// 429 with Retry-After (RFC 6585 §4): the login throttle of the admin and mailbox logins.
inline Response too_many_attempts(std::chrono::seconds wait) {
  Response r = json_error(
      429, "Too many attempts; wait " + std::to_string(wait.count()) + " seconds and try again.");
  r.set("Retry-After", std::to_string(wait.count()));
  return r;
}

// The body as a JSON object, or nullopt (the caller answers 400).
inline std::optional<Json> parse_object(const std::string& body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// A string member, or nullopt when absent or not a string.
inline std::optional<std::string> string_field(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace postern::http
