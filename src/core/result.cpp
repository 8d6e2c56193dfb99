// Names for error categories, for logs and CLI messages.
#include "core/result.h"

namespace postern::core {

const char* to_string(Errc code) noexcept {
  switch (code) {
    case Errc::full:
      return "full";
    case Errc::io:
      return "io";
    case Errc::fatal:
      return "fatal";
    case Errc::corrupt:
      return "corrupt";
    case Errc::not_found:
      return "not-found";
    case Errc::exists:
      return "exists";
    case Errc::invalid:
      return "invalid";
    case Errc::busy:
      return "busy";
    case Errc::denied:
      return "denied";
    case Errc::tls:
      return "tls";
  }
  return "unknown";
}

}  // namespace postern::core
