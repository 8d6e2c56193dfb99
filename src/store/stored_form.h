// The stored form of a message (FORMAT.md "Stored form"): every line ends with CRLF, the last
// one included, so the stored size is exactly what POP3 RETR sends before byte-stuffing and
// without the terminating ".CRLF" (RFC 1939 §5, §11), and RETR never adds an octet.
//
// Decided once, at delivery: the spool (SMTP DATA/BDAT, and the kept partials rewritten from
// it) and the Maildir import put every body through LineEnds; schema step 2 completed the
// last line of bodies stored before.
#pragma once

#include <string>
#include <string_view>

#include "store/env.h"

namespace postern::store {

// Streaming line-end normaliser. RFC 5322 §2.3: CR and LF only occur together as CRLF.
// A bare LF (BDAT without BINARYMIME, a Unix Maildir file) becomes CRLF; a CR that is not
// followed by LF stays content, except at the very end, where finish() completes it.
// Typical use: for each piece { lines.convert(piece, out); }  out += lines.finish();
class LineEnds {
 public:
  // Appends `in` to `out`, each LF not preceded by CR (also across calls) as CRLF.
  void convert(std::string_view in, std::string& out);
  // The same without a copy when `in` has no bare LF (the usual case): returns `in`
  // itself, or the converted bytes written to `scratch` (cleared first).
  std::string_view view(std::string_view in, std::string& scratch);
  // What completes the last line: "" for an empty body or one ending in LF, "\n" after a
  // final CR, "\r\n" otherwise. Does not change the state.
  std::string_view finish() const;
  // True when convert() inserted a byte or finish() is not empty: the bytes differ from
  // what was given.
  bool changed() const { return inserted_ || !finish().empty(); }

 private:
  bool empty_ = true;
  char last_ = 0;  // last byte given (and emitted)
  bool inserted_ = false;
};

// Schema step 2 (version 1 -> 2): every body whose last byte is not LF gets its last line
// completed as LineEnds::finish() says; its hash key, chunks, messages (body hash, size) and
// mailbox used bytes move with it, merging into an existing body of the same new bytes.
// Bodies with bare LF inside (imported before version 2) keep them: their listed and sent
// sizes already agree. Runs inside Env::open's write transaction; rewrites only the affected
// bodies (in practice a few BDAT messages), so its dirty pages stay small.
Result<void> complete_last_lines(WriteTxn& txn);

}  // namespace postern::store
