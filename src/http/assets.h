// The page's static files, embedded at build time (src/http/embed_assets.cmake):
// raw and gzip -9 bytes, a content type and a strong ETag each.
#pragma once

#include <span>
#include <string_view>

#include "http/message.h"

namespace postern::http {

struct Asset {
  std::string_view path;          // "/", "/app.js", "/style.css"
  std::string_view content_type;  // with charset for text
  std::string_view etag;          // "\"<16 hex of SHA-256 of the raw bytes>\""
  std::span<const unsigned char> raw;
  std::span<const unsigned char> gzip;
};

// Generated: every file of src/http/assets/.
std::span<const Asset> embedded_assets();

// The asset served at `path` ("/setup" shows the page too), or null.
const Asset* find_asset(std::string_view path);

// True when Accept-Encoding lists gzip with a non-zero q (RFC 9110 §12.5.3).
bool accepts_gzip(const Request& request);

// 200 with the gzip or raw bytes (Vary: Accept-Encoding), or 304 when
// If-None-Match names the ETag (RFC 9110 §13.1.2). Cache-Control: no-cache, so
// the browser revalidates each time but a 304 costs a few hundred bytes: a new
// firmware's page is picked up at once without cache-busting file names.
Response serve_asset(const Asset& asset, const Request& request);

}  // namespace postern::http
