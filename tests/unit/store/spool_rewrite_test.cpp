// rewrite_spooled: a filtered copy of a spooled body, in memory or in a new spool file.
#include "store/spool_rewrite.h"
#include "store/body_key.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

namespace {

// Emits "<" before everything, each piece with 'a' turned into 'A', and ">" at the end.
BodyFilter bracket_filter(BodyEmit emit) {
  auto started = std::make_shared<bool>(false);
  return BodyFilter{[emit, started](std::string_view in) {
                      if (!*started) emit("<");
                      *started = true;
                      std::string piece(in);
                      for (char& c : piece) c = c == 'a' ? 'A' : c;
                      emit(piece);
                    },
                    [emit] { emit(">"); }};
}

std::string bracketed(std::string bytes) {
  for (char& c : bytes) c = c == 'a' ? 'A' : c;
  return "<" + bytes + ">";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::size_t files_in(const std::string& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

}  // namespace

TEST_CASE("a body in memory is rewritten in memory with the new hash and size") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  auto out = rewrite_spooled(memory_body("banana\r\n"), env->spool_dir(), bracket_filter);
  REQUIRE(out.has_value());
  CHECK(out->in_memory());
  CHECK(out->memory == "<bAnAnA\r\n>");
  CHECK(out->size == out->memory.size());
  CHECK(out->hash == body_key(out->memory));
  CHECK(files_in(env->spool_dir()) == 0);
}

TEST_CASE("a spool file is rewritten piece by piece into a new file and the original goes") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  // Several 64 KiB pieces and a short last one, so the filter sees the body in parts.
  const std::string bytes = stored_form_bytes(3 * 65536 + 1234) + std::string(500, 'a');
  SpooledBody original;
  original.path = env->spool_dir() + "/body-original";
  { std::ofstream(original.path, std::ios::binary) << bytes; }
  original.size = bytes.size();
  original.hash = sha256(bytes);
  auto out = rewrite_spooled(original, env->spool_dir(), bracket_filter);
  REQUIRE(out.has_value());
  CHECK_FALSE(out->in_memory());
  CHECK_FALSE(std::filesystem::exists(original.path));
  const std::string expected = bracketed(bytes);
  CHECK(slurp(out->path) == expected);
  CHECK(out->size == expected.size());
  CHECK(out->hash == body_key(expected));
  CHECK(files_in(env->spool_dir()) == 1);
}

TEST_CASE("a spool file that cannot be read fails with io and leaves no file behind") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  SpooledBody original;
  original.path = env->spool_dir() + "/body-missing";
  original.size = 10;
  auto out = rewrite_spooled(original, env->spool_dir(), bracket_filter);
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == Errc::io);
  CHECK(files_in(env->spool_dir()) == 0);
}
