// Board profiles (board/<name>/board.conf), embedded in the binary at build time
// so a flashed device needs no files besides the binary to start.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace postern::app {

struct BoardProfile {
  std::string_view name;
  std::string_view text;  // the board.conf contents
};

const std::vector<BoardProfile>& embedded_boards();
std::optional<BoardProfile> find_board(std::string_view name);

}  // namespace postern::app
