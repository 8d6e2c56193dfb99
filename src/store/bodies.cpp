// Body rows and chunks: staging, references, reads.
#include "store/bodies.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/fd.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

// Writes chunks [first, first + count) of a new body: from memory, or from
// the spool file one kChunkBytes piece at a time so the txn never holds the
// whole body in a buffer. A chunk already present with the right length was
// staged by an earlier txn (keys are content hashes) and is left alone.
Result<void> put_chunks(WriteTxn& txn, const SpooledBody& body, std::uint32_t first,
                        std::uint32_t count) {
  const std::uint32_t total = chunk_count_for(body.size);
  const std::uint32_t end = std::min(total, first + count);
  core::Fd fd;
  std::string buf;
  for (std::uint32_t n = first; n < end; ++n) {
    const std::uint64_t offset = std::uint64_t{n} * kChunkBytes;
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, body.size - offset));
    const std::string key = chunk_key(body.hash, n);
    if (auto staged = txn.get(Db::chunks, key); staged && staged->size() == want) continue;
    if (body.in_memory()) {
      if (auto r = txn.put(Db::chunks, key, std::string_view(body.memory).substr(offset, want));
          !r) {
        return r;
      }
      continue;
    }
    if (!fd) {
      fd.reset(::open(body.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd) return err(Errc::io, "spool-open", errno);
      buf.resize(kChunkBytes);
    }
    buf.resize(want);
    auto got = core::pread_full(fd.get(), buf.data(), want, offset, "spool-read");
    if (!got) return got.error();
    if (*got != want) return err(Errc::io, "spool-short");
    if (auto r = txn.put(Db::chunks, key, buf); !r) return r;
  }
  if (fd && end == total) {
    char extra;
    if (::pread(fd.get(), &extra, 1, static_cast<off_t>(body.size)) != 0) {
      return err(Errc::io, "spool-long");
    }
  }
  return {};
}

}  // namespace

Result<void> stage_chunks(WriteTxn& txn, const SpooledBody& body, std::uint32_t first,
                          std::uint32_t count) {
  auto existing = txn.get(Db::bodies, as_view(body.hash));
  if (existing) return {};  // stored already: delivery only adds a reference
  if (existing.error().code != Errc::not_found) return existing.error();
  return put_chunks(txn, body, first, count);
}

Result<void> add_body_refs(WriteTxn& txn, const SpooledBody& body, std::uint64_t refs) {
  auto existing = txn.get(Db::bodies, as_view(body.hash));
  if (existing) {
    auto rec = decode_body(*existing);
    if (!rec) return rec.error();
    if (rec->size != body.size) return err(Errc::corrupt, "body-size");
    rec->refcount += refs;
    return txn.put(Db::bodies, as_view(body.hash), encode(*rec));
  }
  if (existing.error().code != Errc::not_found) return existing.error();
  if (auto r = put_chunks(txn, body, 0, chunk_count_for(body.size)); !r) return r;
  return txn.put(Db::bodies, as_view(body.hash),
                 encode(BodyRecord{refs, body.size, chunk_count_for(body.size)}));
}

Result<void> drop_body_ref(WriteTxn& txn, const Digest& hash) {
  auto v = txn.get(Db::bodies, as_view(hash));
  if (!v)
    return err(v.error().code == Errc::not_found ? Errc::corrupt : v.error().code, "body-ref");
  auto rec = decode_body(*v);
  if (!rec) return rec.error();
  if (rec->refcount > 1) {
    --rec->refcount;
    return txn.put(Db::bodies, as_view(hash), encode(*rec));
  }
  for (std::uint32_t n = 0; n < rec->chunk_count; ++n) {
    if (auto r = txn.del(Db::chunks, chunk_key(hash, n)); !r) return r;
  }
  return txn.del(Db::bodies, as_view(hash));
}

// Every recipient suppressed and the body new: chunks staged ahead of the
// delivery (Writer) have no body row to own them, so they go now.
Result<void> drop_unowned_chunks(WriteTxn& txn, const SpooledBody& body) {
  if (txn.get(Db::bodies, as_view(body.hash))) return {};
  for (std::uint32_t n = 0; n < chunk_count_for(body.size); ++n) {
    if (auto d = txn.del(Db::chunks, chunk_key(body.hash, n)); !d) {
      if (d.error().code != Errc::not_found) return d;
    }
  }
  return {};
}

Result<BodyRecord> find_body(Txn& txn, const Digest& body) {
  auto v = txn.get(Db::bodies, as_view(body));
  if (!v) return err(v.error().code, "body");
  return decode_body(*v);
}

Result<std::string> read_chunk(Txn& txn, const Digest& body, std::uint32_t n) {
  auto v = txn.get(Db::chunks, chunk_key(body, n));
  if (!v) return err(v.error().code, "chunk");
  return std::string(*v);
}

Result<std::string> read_chunk(const Env& env, const Digest& body, std::uint32_t n) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  return read_chunk(*txn, body, n);
}

}  // namespace postern::store
