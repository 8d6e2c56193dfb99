// The page's static files, embedded at build time (src/http/embed_assets.cmake):
// gzip -9 bytes, a content type and a strong ETag each. Only the gzip form is kept
// (51 KB less flash than raw + gzip; there is no inflater in the binary), except
// for the page itself, which curl and scripts read too: a client that refuses gzip
// gets the raw page, and 406 for a script or style sheet (README "Binary size").
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"

namespace postern::http {

struct Asset {
  std::string_view path;                // "/", "/app.js", "/style.css"
  std::string_view content_type;        // with charset for text
  std::string_view etag;                // "\"<16 hex of SHA-256 of the raw bytes>\""
  std::span<const unsigned char> gzip;  // always there
  std::span<const unsigned char> raw;   // the page ("/") only; empty for the others
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

// 200 with the gzip bytes (Content-Encoding: gzip, Vary: Accept-Encoding) when the
// client names gzip; the raw bytes when it does not and the asset has them (plain
// curl, wget, urllib reading the page); else the gzip bytes when it sent no
// Accept-Encoding at all, or 406 with a one-line hint when it refuses gzip
// (RFC 9110 §15.5.7: no acceptable representation). 304 when If-None-Match names the
// ETag (RFC 9110 §13.1.2; the ETag is of the raw bytes, the same for both forms). Cache-Control:
// no-cache, so the browser revalidates each time but a 304 costs a few hundred bytes: a new
// firmware's page is picked up at once without cache-busting file names.
Response serve_asset(const Asset& asset, const Request& request);

}  // namespace postern::http
