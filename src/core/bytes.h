// Big-endian integer encoding for LMDB keys, so cursors iterate in numeric order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace postern::core {

inline void put_be(std::string& out, std::uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_be64(std::string& out, std::uint64_t v) {
  put_be(out, v, 8);
}
inline void put_be32(std::string& out, std::uint32_t v) {
  put_be(out, v, 4);
}

// REQUIRES: in.size() >= offset + width.
inline std::uint64_t get_be(std::string_view in, std::size_t offset, int width) {
  std::uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(in[offset + i]);
  return v;
}
inline std::uint64_t get_be64(std::string_view in, std::size_t offset = 0) {
  return get_be(in, offset, 8);
}
inline std::uint32_t get_be32(std::string_view in, std::size_t offset = 0) {
  return static_cast<std::uint32_t>(get_be(in, offset, 4));
}

}  // namespace postern::core
