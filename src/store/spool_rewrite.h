// Rewrites a spooled body through a streaming filter into a new body, for the
// SMTP glue's keep-as-alert partials (a labelled copy, dedup/partial_rewriter.h),
// so the protocol folders do no file I/O of their own.
//
// Typical call sequence (pool thread, e.g. an Executor job):
//   auto out = rewrite_spooled(original, env.spool_dir(), [](BodyEmit emit) {
//     auto filter = std::make_shared<MyFilter>(std::move(emit));
//     return BodyFilter{[filter](std::string_view in) { filter->feed(in); },
//                       [filter] { filter->finish(); }};
//   });
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "store/bodies.h"

namespace postern::store {

// Where a filter puts its output; the bytes are copied before it returns.
using BodyEmit = std::function<void(std::string_view)>;
struct BodyFilter {
  std::function<void(std::string_view)> feed;  // the original, in order, in pieces
  std::function<void()> finish;                // after the last piece; may emit more
};

// Streams `original` (64 KiB at a time from its spool file, or from memory)
// through the filter made by `make_filter`, computing the body key and writing
// what it emits: to a new file in `spool_dir` when the original was a file,
// else to memory. Unlinks the original's file whatever the outcome; on error
// the new file is removed too (Errc::full for ENOSPC, else Errc::io).
Result<SpooledBody> rewrite_spooled(
    const SpooledBody& original, const std::string& spool_dir,
    const std::function<BodyFilter(BodyEmit)>& make_filter) noexcept;

}  // namespace postern::store
