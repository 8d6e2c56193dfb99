// The version the page reports: the CMake project version this firmware was built from.
#pragma once

namespace postern::http {

const char* build_version() noexcept;

}  // namespace postern::http
