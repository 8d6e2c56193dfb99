// Looking up an embedded board profile by name.
#include "app/boards.h"

namespace postern::app {

std::optional<BoardProfile> find_board(std::string_view name) {
  for (const BoardProfile& board : embedded_boards()) {
    if (board.name == name) return board;
  }
  return std::nullopt;
}

}  // namespace postern::app
