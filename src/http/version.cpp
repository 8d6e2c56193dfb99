// POSTERN_PAGE_VERSION comes from src/http/CMakeLists.txt (PROJECT_VERSION).
#include "http/version.h"

namespace postern::http {

const char* build_version() noexcept {
  return POSTERN_PAGE_VERSION;
}

}  // namespace postern::http
