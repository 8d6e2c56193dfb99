// Header block split and the version 3 body key, see body_key.h.
#include "store/body_key.h"

#include <algorithm>

#include "store/records.h"

namespace postern::store {

std::size_t HeaderSplit::feed(std::string_view bytes) {
  if (ended_) return 0;
  const std::size_t room =
      static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), kMaxHeaderBlock - seen_));
  for (std::size_t i = 0; i < room; ++i) {
    const char c = bytes[i];
    if (at_ == At::cr_at_start && c == '\n') {  // an empty line: the block ends with it
      seen_ += i + 1;
      ended_ = true;
      return i + 1;
    }
    if (c == '\n') {
      at_ = At::line_start;
    } else if (at_ == At::line_start && c == '\r') {
      at_ = At::cr_at_start;
    } else {
      at_ = At::in_line;
    }
  }
  seen_ += room;
  if (seen_ == kMaxHeaderBlock) ended_ = true;
  return room;
}

void BodyKeyHasher::update(std::string_view bytes) {
  const std::size_t head = split_.feed(bytes);
  if (head > 0) head_.update(bytes.substr(0, head));
  if (head < bytes.size()) rest_.update(bytes.substr(head));
}

BodyKeys BodyKeyHasher::finish() {
  BodyKeys out;
  out.rest_digest = rest_.finish();
  head_.update(as_view(out.rest_digest));
  head_.update(kKeyTag);
  out.key = head_.finish();
  return out;
}

Digest body_key(std::string_view bytes) {
  BodyKeyHasher h;
  h.update(bytes);
  return h.finish().key;
}

}  // namespace postern::store
