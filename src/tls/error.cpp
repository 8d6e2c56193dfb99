// mbedTLS error codes as log text.
#include "tls/error.h"

#include <mbedtls/error.h>

namespace postern::tls {

std::string describe(int mbedtls_code) {
  char text[160];
  mbedtls_strerror(mbedtls_code, text, sizeof text);
  return text;
}

}  // namespace postern::tls
