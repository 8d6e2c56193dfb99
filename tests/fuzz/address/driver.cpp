// libFuzzer driver for src/address: any bytes as a domain and as an address.
//
// Build: tests/fuzz/run_smoke.sh (the "fuzz" preset); by hand:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I src \
//     tests/fuzz/address/driver.cpp src/address/*.cpp src/core/*.cpp -lidn2 -lunistring \
//     -o address_fuzz
// Checks beyond the sanitizers: a canonical form is a fixed point (canonicalising it again
// gives it back), the U-label display of a canonical domain canonicalises to it, keys stay
// within RFC 5321's lengths, and every refusal has a sentence that quotes no raw control byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "address/address.h"

namespace {

using namespace postern;

void require(bool ok) {
  if (!ok) std::abort();
}

void check_refusal(const address::Error& e) {
  const std::string sentence = address::explain(e);
  require(!sentence.empty());
  for (unsigned char c : sentence) require(c >= 0x20 && c != 0x7f);
  require(address::where(e) != nullptr);
}

void check_domain(std::string_view in) {
  auto d = address::canonical_domain(in);
  if (!d) return check_refusal(d.error());
  require(!d->empty() && d->size() <= 255);
  for (unsigned char c : *d) require(c < 0x80 && !(c >= 'A' && c <= 'Z'));
  auto again = address::canonical_domain(*d);
  require(again && *again == *d);
  auto shown = address::canonical_domain(address::display_domain(*d));
  require(shown && *shown == *d);
}

void check_address(std::string_view in) {
  auto m = address::parse_mailbox(in);
  if (!m) return check_refusal(m.error());
  require(!m->local_part.empty() && m->local_part.size() <= 64);
  auto again = address::parse_mailbox(m->key());
  require(again && again->key() == m->key());
  auto shown = address::parse_mailbox(address::display_address(m->key()));
  require(shown && shown->key() == m->key());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_domain(in);
  check_address(in);
  return 0;
}
