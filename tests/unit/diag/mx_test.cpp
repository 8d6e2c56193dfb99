// MX selection from hand-built DNS answers parsed by ares_parse_mx_reply.
#include "diag/mx.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace postern;

namespace {

using Bytes = std::vector<unsigned char>;

void name(Bytes& out, const std::string& dotted) {
  std::size_t start = 0;
  while (start < dotted.size()) {
    std::size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<unsigned char>(dot - start));
    out.insert(out.end(), dotted.begin() + static_cast<std::ptrdiff_t>(start),
               dotted.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

// A response to "example.org MX" (RFC 1035 §4.1) with the given (preference, exchange)
// records; "" is the root (null MX). Names are written in full, no compression.
Bytes answer(const std::vector<std::pair<int, std::string>>& records) {
  Bytes out = {0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, static_cast<unsigned char>(records.size()),
               0x00, 0x00, 0x00, 0x00};
  name(out, "example.org");
  out.insert(out.end(), {0x00, 0x0f, 0x00, 0x01});
  for (const auto& [preference, exchange] : records) {
    out.insert(out.end(), {0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10});
    Bytes rdata = {static_cast<unsigned char>(preference >> 8),
                   static_cast<unsigned char>(preference & 0xff)};
    name(rdata, exchange);
    out.push_back(static_cast<unsigned char>(rdata.size() >> 8));
    out.push_back(static_cast<unsigned char>(rdata.size() & 0xff));
    out.insert(out.end(), rdata.begin(), rdata.end());
  }
  return out;
}

}  // namespace

TEST_CASE("MX records are sorted by preference, answer order kept among equals") {
  auto wire =
      answer({{20, "mx2.example.org"}, {10, "mx1.example.org"}, {10, "backup.example.net"}});
  auto mx = diag::parse_mx_answer(wire.data(), static_cast<int>(wire.size()));
  REQUIRE(mx);
  REQUIRE(mx->size() == 3);
  CHECK((*mx)[0].host == "mx1.example.org");
  CHECK((*mx)[0].preference == 10);
  CHECK((*mx)[1].host == "backup.example.net");
  CHECK((*mx)[2].host == "mx2.example.org");
  auto best = diag::best_mx(*mx);
  REQUIRE(best);
  CHECK(best->host == "mx1.example.org");
}

TEST_CASE("A null MX (RFC 7505) means the domain takes no mail") {
  auto wire = answer({{0, ""}});
  auto mx = diag::parse_mx_answer(wire.data(), static_cast<int>(wire.size()));
  REQUIRE(mx);
  auto best = diag::best_mx(*mx);
  REQUIRE_FALSE(best);
  CHECK(best.error().where == std::string("null-mx"));
}

TEST_CASE("An answer without MX records is not_found and garbage is corrupt") {
  auto empty = answer({});
  auto none = diag::parse_mx_answer(empty.data(), static_cast<int>(empty.size()));
  REQUIRE_FALSE(none);
  CHECK(none.error().code == core::Errc::not_found);
  auto wire = answer({{10, "mx1.example.org"}});
  auto cut = diag::parse_mx_answer(wire.data(), static_cast<int>(wire.size()) - 5);
  REQUIRE_FALSE(cut);
  CHECK(cut.error().code == core::Errc::corrupt);
  CHECK_FALSE(diag::best_mx({}));
}
