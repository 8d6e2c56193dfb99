// RequestParser: HTTP/1.1 requests from bytes, one at a time, within size limits.
//
// The only file that includes http_parser.h (DESIGN.md "HTTP parsing behind one
// file"): http_parser is unmaintained since 2020, so replacing it changes the .cpp only.
//
// Typical call sequence (the server glue, one parser per connection):
//   n = parser.feed(conn.input()); conn.consume(n);
//   if (parser.state() == State::complete) { Request r = parser.take(); ... respond ... }
//   if (parser.state() == State::failed)   { answer parser.error_status(), close }
// feed() stops right after one complete request, so bytes pipelined behind it
// stay unconsumed until take() and the response (ordering, RFC 9112 §9.3.2).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "http/message.h"

namespace postern::http {

struct ParserLimits {
  // Request line plus header fields. 8 KiB is what nginx (large_client_header_buffers
  // 8k) and Apache (LimitRequestFieldSize 8190) accept per line; our own page sends
  // under 1 KiB, so a bigger head is an attack or a misdirected client.
  std::size_t max_head_bytes = 8 * 1024;
  // Body, whole. The largest legitimate body is a certificate upload (a PEM chain
  // of 3-4 certificates plus a key, ~8-12 KiB, JSON-escaped); 64 KiB leaves room
  // for long RSA chains while bounding what one connection can make us hold.
  std::size_t max_body_bytes = 64 * 1024;
};

class RequestParser {
 public:
  enum class State { incomplete, complete, failed };

  explicit RequestParser(ParserLimits limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses up to the end of one request; returns the bytes consumed. Consumes
  // nothing while state() is complete or failed.
  std::size_t feed(std::string_view bytes);
  State state() const noexcept;
  // True once some byte of the current request has been consumed (for the
  // request timeout: an idle keep-alive connection has not started one).
  bool started() const noexcept;
  // True once the request line and headers are complete.
  bool head_complete() const noexcept;

  // REQUIRES: state() == complete. Returns the request and resets for the next.
  Request take();

  // REQUIRES: state() == failed. 400 (malformed), 413 (body too large),
  // 431 (head too large), 501 (upgrade/CONNECT), 505 (not HTTP/1.x).
  int error_status() const noexcept;
  // A short text for the log, e.g. "HPE_INVALID_METHOD".
  const char* error_reason() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace postern::http
