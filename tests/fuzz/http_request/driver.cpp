// libFuzzer driver for http::RequestParser, the one file that includes http_parser.h
// (DESIGN.md: the adapter to fuzz). Random bytes are fed in splits chosen by the
// first input byte, as net would offer them, with pipelined requests taken in turn.
//
// It checks the contract, not only the absence of crashes: feed() never claims more
// than it was offered, consumes nothing once complete or failed, a failure has one
// of the documented statuses, and a taken request respects the body limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/request_parser.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  postern::http::ParserLimits limits;
  limits.max_head_bytes = 2048;
  limits.max_body_bytes = 4096;
  postern::http::RequestParser parser(limits);
  std::size_t offset = 0;
  int requests = 0;
  while (offset < input.size() && requests < 64) {
    std::string_view piece = input.substr(offset, step);
    std::size_t used = parser.feed(piece);
    require(used <= piece.size());
    offset += used;
    auto state = parser.state();
    if (state == postern::http::RequestParser::State::failed) {
      int status = parser.error_status();
      require(status == 400 || status == 413 || status == 431 || status == 501 || status == 505);
      require(parser.feed(input.substr(offset)) == 0);
      break;
    }
    if (state == postern::http::RequestParser::State::complete) {
      require(parser.feed(input.substr(offset)) == 0);
      auto request = parser.take();
      require(request.body.size() <= limits.max_body_bytes);
      ++requests;
      continue;
    }
    if (used == 0) break;  // needs more bytes than the input holds
  }
  return 0;
}
