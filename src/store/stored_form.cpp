// LineEnds and schema step 2, which brings bodies stored before it into the stored form.
#include "store/stored_form.h"

#include <cstring>
#include <map>
#include <vector>

#include "core/bytes.h"
#include "core/log.h"
#include "store/records.h"
#include "store/sha256.h"

namespace postern::store {

namespace {

// The offset of the first LF in `in` at or after `from` that is not preceded by CR
// (`before` is the octet before in[0]), or npos. memchr per line, not per octet.
std::size_t next_bare_lf(std::string_view in, std::size_t from, char before) {
  while (from < in.size()) {
    const void* hit = std::memchr(in.data() + from, '\n', in.size() - from);
    if (hit == nullptr) return std::string_view::npos;
    const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - in.data());
    if ((i > 0 ? in[i - 1] : before) != '\r') return i;
    from = i + 1;
  }
  return std::string_view::npos;
}

}  // namespace

void LineEnds::convert(std::string_view in, std::string& out) {
  std::string scratch;
  out.append(view(in, scratch));
}

std::string_view LineEnds::view(std::string_view in, std::string& scratch) {
  if (in.empty()) return in;
  const char before = empty_ ? '\0' : last_;
  empty_ = false;
  last_ = in.back();
  std::size_t i = next_bare_lf(in, 0, before);
  if (i == std::string_view::npos) return in;  // already CRLF: no copy
  inserted_ = true;
  scratch.clear();
  scratch.reserve(in.size() + 64);
  std::size_t run = 0;  // copied in runs between insertions
  while (i != std::string_view::npos) {
    scratch.append(in.substr(run, i - run));
    scratch.push_back('\r');
    run = i;
    i = next_bare_lf(in, i + 1, before);
  }
  scratch.append(in.substr(run));
  return scratch;
}

std::string_view LineEnds::finish() const {
  if (empty_ || last_ == '\n') return {};
  return last_ == '\r' ? std::string_view("\n") : std::string_view("\r\n");
}

namespace {

Error err(Errc code, const char* where) {
  return core::make_error(code, where);
}

struct Fix {
  Digest old_hash{};
  BodyRecord old{};
  std::string suffix;
  Digest new_hash{};
};

// Copies the chunks of `fix.old` plus the suffix under the new hash, then deletes the old
// ones. The suffix goes on the last chunk, or starts a new one when the last is full.
Result<void> move_chunks(WriteTxn& txn, const Fix& fix) {
  const std::uint64_t new_size = fix.old.size + fix.suffix.size();
  std::string carry;  // bytes of the new body not yet written, less than one chunk
  std::uint32_t out = 0;
  for (std::uint32_t n = 0; n < fix.old.chunk_count; ++n) {
    auto chunk = txn.get(Db::chunks, chunk_key(fix.old_hash, n));
    if (!chunk) return err(Errc::corrupt, "migrate-chunk");
    std::string bytes(*chunk);  // a view dies at the next put
    if (n + 1 == fix.old.chunk_count) bytes += fix.suffix;
    while (!bytes.empty()) {
      const std::size_t take = std::min(bytes.size(), kChunkBytes);
      if (auto r = txn.put(Db::chunks, chunk_key(fix.new_hash, out++), bytes.substr(0, take)); !r) {
        return r;
      }
      bytes.erase(0, take);
    }
  }
  if (out != chunk_count_for(new_size)) return err(Errc::corrupt, "migrate-count");
  for (std::uint32_t n = 0; n < fix.old.chunk_count; ++n) {
    if (auto r = txn.del(Db::chunks, chunk_key(fix.old_hash, n)); !r) return r;
  }
  return {};
}

Result<void> rehash(WriteTxn& txn, Fix& fix) {
  Sha256 hasher;
  for (std::uint32_t n = 0; n < fix.old.chunk_count; ++n) {
    auto chunk = txn.get(Db::chunks, chunk_key(fix.old_hash, n));
    if (!chunk) return err(Errc::corrupt, "migrate-chunk");
    hasher.update(*chunk);
  }
  hasher.update(fix.suffix);
  fix.new_hash = hasher.finish();
  return {};
}

}  // namespace

Result<void> complete_last_lines(WriteTxn& txn) {
  std::vector<Fix> fixes;
  Result<void> bad;
  auto r = for_each(txn, Db::bodies, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_body(v);
    if (!rec || k.size() != 32) {
      bad = err(Errc::corrupt, "migrate-body");
      return false;
    }
    if (rec->size == 0) return true;
    Fix fix;
    std::copy(k.begin(), k.end(), reinterpret_cast<char*>(fix.old_hash.data()));
    fix.old = *rec;
    auto last = txn.get(Db::chunks, chunk_key(fix.old_hash, rec->chunk_count - 1));
    if (!last || last->empty()) {
      bad = err(Errc::corrupt, "migrate-chunk");
      return false;
    }
    const char end = last->back();
    if (end == '\n') return true;
    fix.suffix = end == '\r' ? "\n" : "\r\n";
    fixes.push_back(std::move(fix));
    return true;
  });
  if (!r) return r;
  if (!bad) return bad;
  if (fixes.empty()) return {};

  std::map<Digest, const Fix*> moved;
  for (Fix& fix : fixes) {
    if (auto h = rehash(txn, fix); !h) return h;
    const std::uint64_t new_size = fix.old.size + fix.suffix.size();
    auto existing = txn.get(Db::bodies, as_view(fix.new_hash));
    if (existing) {
      // The same message also arrived complete: one body, both references.
      auto rec = decode_body(*existing);
      if (!rec) return rec.error();
      if (rec->size != new_size) return err(Errc::corrupt, "migrate-size");
      rec->refcount += fix.old.refcount;
      if (auto p = txn.put(Db::bodies, as_view(fix.new_hash), encode(*rec)); !p) return p;
      for (std::uint32_t n = 0; n < fix.old.chunk_count; ++n) {
        if (auto d = txn.del(Db::chunks, chunk_key(fix.old_hash, n)); !d) return d;
      }
    } else if (existing.error().code == Errc::not_found) {
      if (auto m = move_chunks(txn, fix); !m) return m;
      BodyRecord rec{fix.old.refcount, new_size, chunk_count_for(new_size)};
      if (auto p = txn.put(Db::bodies, as_view(fix.new_hash), encode(rec)); !p) return p;
    } else {
      return existing.error();
    }
    if (auto d = txn.del(Db::bodies, as_view(fix.old_hash)); !d) return d;
    moved.emplace(fix.old_hash, &fix);
  }

  // Messages naming a moved body, then their mailboxes' used bytes.
  std::vector<std::pair<std::string, MessageRecord>> messages;
  r = for_each(txn, Db::messages, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_message(v);
    if (!rec || k.size() != 12) {
      bad = err(Errc::corrupt, "migrate-message");
      return false;
    }
    if (moved.count(rec->body)) messages.emplace_back(std::string(k), *rec);
    return true;
  });
  if (!r) return r;
  if (!bad) return bad;
  std::map<std::uint64_t, std::uint64_t> grown;  // mailbox id -> added bytes
  for (auto& [key, rec] : messages) {
    const Fix& fix = *moved.at(rec.body);
    rec.body = fix.new_hash;
    rec.size += fix.suffix.size();
    grown[core::get_be64(key, 0)] += fix.suffix.size();
    if (auto p = txn.put(Db::messages, key, encode(rec)); !p) return p;
  }
  for (const auto& [mailbox_id, bytes] : grown) {
    auto v = txn.get(Db::mailboxes, encode_u64(mailbox_id));
    if (!v) return err(Errc::corrupt, "migrate-mailbox");
    auto rec = decode_mailbox(*v);
    if (!rec) return rec.error();
    rec->used_bytes += bytes;
    if (auto p = txn.put(Db::mailboxes, encode_u64(mailbox_id), encode(*rec)); !p) return p;
  }
  POSTERN_LOG_INFO("store event=last-lines-completed bodies=%zu messages=%zu", fixes.size(),
                   messages.size());
  return {};
}

}  // namespace postern::store
