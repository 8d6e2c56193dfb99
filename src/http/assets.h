// The page's static files, embedded at build time (src/http/embed_assets.cmake):
// gzip -9 bytes, a content type and a strong ETag each. Only the gzip form is kept
// (51 KB less flash than raw + gzip) and there is no inflater in the binary: a
// client that refuses gzip gets 406 (README "Binary size").
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"

namespace postern::http {

struct Asset {
  std::string_view path;                // "/", "/app.js", "/style.css"
  std::string_view content_type;        // with charset for text
  std::string_view etag;                // "\"<16 hex of SHA-256 of the raw bytes>\""
  std::span<const unsigned char> gzip;  // the only representation
};

// Generated: every file of src/http/assets/.
std::span<const Asset> embedded_assets();

// The asset served at `path` ("/setup" shows the page too), or null.
const Asset* find_asset(std::string_view path);

// Whether the client accepts a gzip-coded response (RFC 9110 §12.5.3): with no
// Accept-Encoding at all any coding is acceptable; otherwise gzip (or x-gzip, or
// "*" when gzip is not named) must be listed with a non-zero q. Every browser sends
// "gzip"; `curl --compressed` does, plain curl sends no header; wget and Python's
// urllib send "identity" only, which refuses gzip.
bool accepts_gzip(const Request& request);

// 200 with the gzip bytes (Content-Encoding: gzip, Vary: Accept-Encoding), 304
// when If-None-Match names the ETag (RFC 9110 §13.1.2), or 406 with a one-line
// hint when the client refuses gzip (RFC 9110 §15.5.7: no acceptable
// representation; the raw bytes are not in the binary). Cache-Control: no-cache,
// so the browser revalidates each time but a 304 costs a few hundred bytes: a new
// firmware's page is picked up at once without cache-busting file names.
Response serve_asset(const Asset& asset, const Request& request);

}  // namespace postern::http
