// RequestParser: whole, byte at a time and in random splits; limits; malformed input.
#include "http/request_parser.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using postern::http::ParserLimits;
using postern::http::Request;
using postern::http::RequestParser;
using State = RequestParser::State;

namespace {

// Feeds `wire` in the given piece sizes the way the server glue does (the
// unconsumed rest offered again with the next bytes); collects every request.
struct Outcome {
  std::vector<Request> requests;
  int error = 0;
};

Outcome run(const std::string& wire, const std::vector<std::size_t>& pieces,
            ParserLimits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::string buffer;
  std::size_t offset = 0;
  for (std::size_t piece : pieces) {
    buffer += wire.substr(offset, piece);
    offset += piece;
    while (true) {
      std::size_t n = parser.feed(buffer);
      REQUIRE(n <= buffer.size());
      buffer.erase(0, n);
      if (parser.state() == State::complete) {
        out.requests.push_back(parser.take());
        continue;
      }
      if (parser.state() == State::failed) {
        out.error = parser.error_status();
        return out;
      }
      break;
    }
  }
  return out;
}

std::vector<std::vector<std::size_t>> all_ways(std::size_t size) {
  std::vector<std::vector<std::size_t>> ways;
  ways.push_back({size});
  ways.push_back(std::vector<std::size_t>(size, 1));
  std::mt19937 rng(20240611);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> split;
    std::size_t left = size;
    while (left > 0) {
      std::size_t n =
          std::uniform_int_distribution<std::size_t>(1, std::min<std::size_t>(left, 17))(rng);
      split.push_back(n);
      left -= n;
    }
    ways.push_back(split);
  }
  return ways;
}

}  // namespace

TEST_CASE("A GET request parses the same whole, byte at a time and in random splits") {
  const std::string wire =
      "GET /api/status?x=1 HTTP/1.1\r\nHost: 192.168.1.1:8080\r\nCookie: a=b\r\n"
      "Accept-Encoding: gzip, br\r\n\r\n";
  for (const auto& way : all_ways(wire.size())) {
    Outcome out = run(wire, way);
    REQUIRE(out.error == 0);
    REQUIRE(out.requests.size() == 1);
    const Request& r = out.requests[0];
    CHECK(r.method == "GET");
    CHECK(r.path == "/api/status");
    CHECK(r.query == "x=1");
    CHECK(*r.header("host") == "192.168.1.1:8080");
    CHECK(*r.header("cookie") == "a=b");
    CHECK(*r.header("accept-encoding") == "gzip, br");
    CHECK(r.keep_alive);
  }
}

TEST_CASE("A POST body and a pipelined second request are both parsed, in order") {
  const std::string wire =
      "POST /api/login HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
      "Content-Length: 17\r\n\r\n{\"password\":\"pw\"}"
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  for (const auto& way : all_ways(wire.size())) {
    Outcome out = run(wire, way);
    REQUIRE(out.error == 0);
    REQUIRE(out.requests.size() == 2);
    CHECK(out.requests[0].method == "POST");
    CHECK(out.requests[0].body == "{\"password\":\"pw\"}");
    CHECK(out.requests[1].path == "/");
    CHECK_FALSE(out.requests[1].keep_alive);
  }
}

TEST_CASE("feed stops after one request until take() is called") {
  RequestParser parser;
  const std::string two = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  std::size_t n = parser.feed(two);
  CHECK(n == two.size() / 2);
  CHECK(parser.state() == State::complete);
  CHECK(parser.feed(std::string_view(two).substr(n)) == 0);
  CHECK(parser.take().path == "/a");
  CHECK(parser.feed(std::string_view(two).substr(n)) == two.size() / 2);
  CHECK(parser.take().path == "/b");
}

TEST_CASE("A chunked body is reassembled") {
  const std::string wire =
      "POST /api/users HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  for (const auto& way : all_ways(wire.size())) {
    Outcome out = run(wire, way);
    REQUIRE(out.requests.size() == 1);
    CHECK(out.requests[0].body == "hello world");
  }
}

TEST_CASE("An empty header value does not merge two header names") {
  Outcome out = run("GET / HTTP/1.1\r\nX-Empty:\r\nHost: h\r\n\r\n", {39});
  REQUIRE(out.requests.size() == 1);
  REQUIRE(out.requests[0].header("x-empty") != nullptr);
  CHECK(out.requests[0].header("x-empty")->empty());
  CHECK(*out.requests[0].header("host") == "h");
}

TEST_CASE("HTTP/1.0 without keep-alive is not kept alive") {
  Outcome out = run("GET / HTTP/1.0\r\nHost: h\r\n\r\n", {27});
  REQUIRE(out.requests.size() == 1);
  CHECK_FALSE(out.requests[0].keep_alive);
}

TEST_CASE("A head over the limit is refused with 431, whole or byte at a time") {
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  for (const auto& way :
       {std::vector<std::size_t>{wire.size()}, std::vector<std::size_t>(wire.size(), 1)}) {
    CHECK(run(wire, way).error == 431);
  }
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 2000; ++i) many += "X: y\r\n";
  CHECK(run(many + "\r\n", {many.size() + 2}).error == 431);
  std::string long_url = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(run(long_url, {long_url.size()}).error == 431);
}

TEST_CASE("A body over the limit is refused with 413, declared or chunked") {
  ParserLimits limits;
  limits.max_body_bytes = 10;
  std::string declared = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
  CHECK(run(declared, {declared.size()}, limits).error == 413);
  std::string chunked =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello "
      "\r\n6\r\nworld!\r\n";
  CHECK(run(chunked, {chunked.size()}, limits).error == 413);
  std::string fits = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
  CHECK(run(fits, {fits.size()}, limits).requests.size() == 1);
}

TEST_CASE("Malformed requests are refused with 400") {
  for (std::string wire : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\nHost h\r\n\r\n"),
           std::string("GET / HTTP/1.1\r\n\r\n"),  // no Host (RFC 9112 §3.2)
           std::string("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n"),
           std::string(
               "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
           std::string("G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n"),
       }) {
    CAPTURE(wire);
    Outcome out = run(wire, {wire.size()});
    CHECK(out.requests.empty());
    CHECK(out.error == 400);
  }
}

TEST_CASE("Upgrade and CONNECT are refused with 501") {
  std::string connect = "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org\r\n\r\n";
  CHECK(run(connect, {connect.size()}).error == 501);
  std::string upgrade =
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  CHECK(run(upgrade, {upgrade.size()}).error == 501);
}

TEST_CASE("started() is false until a byte of a request arrives") {
  RequestParser parser;
  CHECK_FALSE(parser.started());
  CHECK(parser.feed("GE") == 2);
  CHECK(parser.started());
  CHECK_FALSE(parser.head_complete());
  CHECK(parser.feed("T / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
  CHECK(parser.head_complete());
  (void)parser.take();
  CHECK_FALSE(parser.started());
}
