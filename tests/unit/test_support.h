// Helpers shared by unit tests: scaled timeouts and a temporary directory.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace postern::test {

// POSTERN_TEST_TIMEOUT_MULTIPLIER scales every bounded wait (raised under qemu).
inline std::chrono::milliseconds scaled(std::chrono::milliseconds base) {
  const char* m = std::getenv("POSTERN_TEST_TIMEOUT_MULTIPLIER");
  long factor = m ? std::strtol(m, nullptr, 10) : 1;
  return base * (factor > 0 ? factor : 1);
}

// A fresh directory under $TMPDIR, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "postern-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace postern::test
