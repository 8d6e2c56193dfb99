// libFuzzer driver for Maildir import (store/maildir.*, `postern import --maildir`): the
// fuzzer input becomes a Maildir file, imported into a fresh store, checked, exported.
//
// Input: byte 0 = flags (bit 0: new/ instead of cur/; bit 1: a second, foreign-named copy
// of the same bytes; bit 2: the body repeated to pass a 64 KiB chunk boundary), then the
// file name up to the first '/' (a NUL becomes 'x'; empty, "." and ".." become "m"), then
// the file's bytes. Everything lives under /dev/shm when it exists (no disk syncs).
//
// Invariants: import succeeds and counts one message per file, and its byte count is the
// stored form's size; the store passes the deep consistency check (store/check.h); export
// gives back every file in the stored form (store/FORMAT.md "Stored form": every line ends
// in CRLF, the last one included; computed here from that rule, not by the store's code),
// so a file already in that form comes back byte for byte; the name gets the documented
// normalisation only (maildir.h): our own names keep their
// received time, unique id (unless 0, "not allocated", or too large to restore, see
// mailbox.h) and the S flag; foreign names get the file's mtime and a fresh id and keep
// the S flag; no two messages share a unique id.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "core/log.h"
#include "store/check.h"
#include "store/delivery.h"
#include "store/env.h"
#include "store/mailbox.h"
#include "store/maildir.h"
#include "store/records.h"

namespace {

using namespace postern;
namespace fs = std::filesystem;

// Names the failed check on stderr, so a crash input explains itself.
#define require(ok)                                                                      \
  ((ok) ? (void)0                                                                        \
        : (std::fprintf(stderr, "maildir_import: %s failed (line %d)\n", #ok, __LINE__), \
           std::abort()))

// The fields of one of our names, "<received>.P<16 hex>.postern,S=<size>:2,<flags>".
struct OurName {
  long long received = 0;
  unsigned long long unique_id = 0;
  unsigned long long size = 0;
};

std::optional<OurName> parse_ours(const std::string& name) {
  OurName n;
  char hex[17] = {};
  if (std::sscanf(name.c_str(), "%lld.P%16[0-9a-f].postern,S=%llu", &n.received, hex, &n.size) !=
          3 ||
      std::string_view(hex).size() != 16)
    return std::nullopt;
  n.unique_id = std::strtoull(hex, nullptr, 16);
  return n;
}

bool seen_flag(const std::string& name) {
  const std::size_t info = name.find(":2,");
  return info != std::string::npos && name.find('S', info + 3) != std::string::npos;
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  require(out.good());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The stored form, from FORMAT.md's rule alone (RFC 5322 §2.3): a LF not preceded by CR
// becomes CRLF, a lone CR elsewhere stays content, and a last line without its LF is
// completed ("\n" after a final CR, "\r\n" otherwise). An empty file stays empty.
std::string stored_form(std::string_view file) {
  std::string out;
  for (std::size_t i = 0; i < file.size(); ++i) {
    if (file[i] == '\n' && (i == 0 || file[i - 1] != '\r')) out += '\r';
    out += file[i];
  }
  if (!out.empty() && out.back() != '\n') out += out.back() == '\r' ? "\n" : "\r\n";
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
    std::string pattern = base + "/postern-fuzz-XXXXXX";
    require(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (core::set_log_to_stderr(false), true);
  (void)quiet;
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash > 200) return 0;
  std::string name(rest.substr(0, slash));
  for (char& c : name) {
    if (c == '\0') c = 'x';
  }
  if (name.empty() || name == "." || name == "..") name = "m";
  std::string body(rest.substr(slash + 1));
  if (flags & 4) {
    std::string one = body.empty() ? std::string("x") : body;
    body.clear();
    while (body.size() <= store::kChunkBytes) body += one;
  }

  TempDir dir;
  const fs::path box = dir.path / "in" / "bob@example.org";
  for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(box / sub);
  const fs::path file = box / ((flags & 1) ? "new" : "cur") / name;
  struct File {
    std::string bytes;
    long long mtime = 0;
  };
  std::map<std::string, File> files;  // by name
  auto add = [&](const fs::path& path) {
    write_file(path, body);
    struct stat st {};
    require(::stat(path.c_str(), &st) == 0);
    files.emplace(path.filename().string(), File{body, static_cast<long long>(st.st_mtime)});
  };
  add(file);
  if ((flags & 2) && name != "copy.foreign") add(box / "cur" / "copy.foreign");

  store::Options options;
  options.data_dir = (dir.path / "data").string();
  options.map_bytes = 16ull << 20;
  options.pbkdf2_iterations = 1000;
  auto env = store::Env::open(options);
  require(env.has_value());
  auto imported = store::import_maildir(**env, (dir.path / "in").string());
  require(imported.has_value());
  require(imported->messages == files.size() && imported->mailboxes == 1);
  const std::string stored = stored_form(body);
  require(imported->bytes == stored.size() * files.size());
  auto checked = store::check_consistency(**env, /*deep=*/true);
  require(checked.has_value());

  auto exported = store::export_maildir(**env, (dir.path / "out").string());
  require(exported.has_value() && exported->messages == files.size());
  std::set<unsigned long long> ids;
  std::multiset<std::string> got, want;
  for (const auto& [n, f] : files) want.insert(stored_form(f.bytes));
  const fs::path out_box = dir.path / "out" / "bob@example.org";
  require(fs::is_empty(out_box / "new") && fs::is_empty(out_box / "tmp"));
  for (const auto& entry : fs::directory_iterator(out_box / "cur")) {
    const std::string out_name = entry.path().filename().string();
    const std::string bytes = read_file(entry.path());
    got.insert(bytes);
    auto ours = parse_ours(out_name);
    require(ours.has_value() && ours->size == bytes.size() && ours->unique_id != 0);
    require(ids.insert(ours->unique_id).second);  // UIDLs stay distinct
    // Which input file it was: the same bytes, and our own name's fields when restored.
    bool matched = false;
    for (const auto& [in_name, in] : files) {
      if (stored_form(in.bytes) != bytes || seen_flag(in_name) != seen_flag(out_name)) continue;
      auto named = parse_ours(in_name);
      if (named && named->unique_id != 0 && named->unique_id < store::kMaxRestoredUniqueId) {
        if (named->received == ours->received && named->unique_id == ours->unique_id)
          matched = true;
      } else if (named) {
        if (named->received == ours->received) matched = true;
      } else if (ours->received == in.mtime) {
        matched = true;
      }
    }
    require(matched);
  }
  require(got == want);
  return 0;
}
