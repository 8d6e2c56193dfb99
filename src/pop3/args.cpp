// Command argument parsing: words, numbers, case-insensitive comparison.
#include "pop3/args.h"

namespace postern::pop3 {

std::vector<std::string_view> split_args(std::string_view args) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < args.size()) {
    if (args[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t end = args.find(' ', i);
    const std::size_t stop = end == std::string_view::npos ? args.size() : end;
    words.push_back(args.substr(i, stop - i));
    i = stop;
  }
  return words;
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace postern::pop3
