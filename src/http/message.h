// HTTP/1.1 request and response values, and the response's wire form (RFC 9112).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One parsed request. Header names are lowercased (RFC 9110 §5.1: case-insensitive);
// repeated headers stay separate entries in arrival order.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the request-target as sent
  std::string path;    // target without query, e.g. "/api/status"
  std::string query;   // after '?', without it; may be empty
  Headers headers;
  std::string body;
  int version_minor = 1;   // HTTP/1.<minor>
  bool keep_alive = true;  // http_should_keep_alive(): Connection header and version

  // The first header named `lowercase_name`, or null.
  const std::string* header(std::string_view lowercase_name) const;
};

// A body too large to hold in memory (a stored message): produced a piece at a
// time while the connection drains, so memory stays at the write high-water mark.
struct BodyStream {
  std::uint64_t length = 0;  // sent as Content-Length; the pieces must add up to it
  // Piece `index` (0, 1, ...): "" after the last one; nullopt when the source
  // failed, and the connection is then closed short (the client sees the cut).
  std::function<std::optional<std::string>(std::size_t index)> next;
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Length, Date and Connection are added by serialize()
  std::string body;
  std::shared_ptr<BodyStream> stream;  // when set, the body is streamed instead of `body`

  Response& set(std::string name, std::string value);
  const std::string* header(std::string_view name) const;  // exact-case match
};

// "OK", "Not Found", ...; "Unknown" for codes we never send.
const char* reason_phrase(int status);

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t unix_seconds);

// Status line, headers, Date, Content-Length and (when !keep_alive)
// "Connection: close", then the body unless `head_only` (RFC 9110 §9.3.2: HEAD
// gets the GET headers without content). 1xx, 204 and 304 carry no body. With a
// stream, Content-Length is stream->length and the caller sends the pieces.
std::string serialize(const Response& response, std::int64_t now_unix, bool keep_alive,
                      bool head_only);

}  // namespace postern::http
