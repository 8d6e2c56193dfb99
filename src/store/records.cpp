// Encoders and strict decoders for the values described in FORMAT.md.
#include "store/records.h"

#include <cstring>

#include "core/bytes.h"

namespace postern::store {
namespace {
using core::get_be32;
using core::get_be64;
using core::put_be32;
using core::put_be64;

core::Error bad(const char* where) {
  return core::make_error(core::Errc::corrupt, where);
}

// Times are stored as the two's-complement bits of an int64.
std::int64_t as_time(std::uint64_t bits) {
  return static_cast<std::int64_t>(bits);
}
}  // namespace

std::string encode_u32(std::uint32_t v) {
  std::string out;
  put_be32(out, v);
  return out;
}

std::string encode_u64(std::uint64_t v) {
  std::string out;
  put_be64(out, v);
  return out;
}

std::string encode(const DomainRecord& r) {
  std::string out;
  put_be64(out, r.id);
  out.push_back(static_cast<char>(r.dedup));
  return out;
}

core::Result<DomainRecord> decode_domain(std::string_view v) {
  if (v.size() != 9 || static_cast<std::uint8_t>(v[8]) > 2) return bad("domain-record");
  return DomainRecord{get_be64(v), static_cast<DedupRule>(v[8])};
}

std::string encode(const UserRecord& r) {
  std::string out;
  put_be64(out, r.quota_bytes);
  put_be64(out, r.mailbox_id);
  out += r.password_hash;
  return out;
}

core::Result<UserRecord> decode_user(std::string_view v) {
  if (v.size() < 16) return bad("user-record");
  return UserRecord{get_be64(v, 0), get_be64(v, 8), std::string(v.substr(16))};
}

std::string encode(const MailboxRecord& r) {
  std::string out;
  put_be32(out, r.next_uid);
  put_be32(out, r.message_count);
  put_be64(out, r.used_bytes);
  return out;
}

core::Result<MailboxRecord> decode_mailbox(std::string_view v) {
  if (v.size() != 16) return bad("mailbox-record");
  return MailboxRecord{get_be32(v, 0), get_be32(v, 4), get_be64(v, 8)};
}

std::string message_key(std::uint64_t mailbox_id, std::uint32_t uid) {
  std::string out;
  put_be64(out, mailbox_id);
  put_be32(out, uid);
  return out;
}

std::string encode(const MessageRecord& r) {
  std::string out(as_view(r.body));
  put_be64(out, r.size);
  put_be64(out, static_cast<std::uint64_t>(r.received_at));
  out.push_back(static_cast<char>(r.flags));
  put_be64(out, r.unique_id);
  return out;
}

core::Result<MessageRecord> decode_message(std::string_view v) {
  if (v.size() != 57) return bad("message-record");
  MessageRecord r;
  std::memcpy(r.body.data(), v.data(), 32);
  r.size = get_be64(v, 32);
  r.received_at = as_time(get_be64(v, 40));
  r.flags = static_cast<std::uint8_t>(v[48]);
  r.unique_id = get_be64(v, 49);
  return r;
}

std::string encode(const BodyRecord& r) {
  std::string out;
  put_be64(out, r.refcount);
  put_be64(out, r.size);
  put_be32(out, r.chunk_count);
  return out;
}

core::Result<BodyRecord> decode_body(std::string_view v) {
  if (v.size() != 20) return bad("body-record");
  return BodyRecord{get_be64(v, 0), get_be64(v, 8), get_be32(v, 16)};
}

std::string chunk_key(const Digest& body, std::uint32_t n) {
  std::string out(as_view(body));
  put_be32(out, n);
  return out;
}

std::string dedup_key(std::uint64_t mailbox_id, const Fingerprint& fp) {
  std::string out;
  put_be64(out, mailbox_id);
  out.append(reinterpret_cast<const char*>(fp.data()), fp.size());
  return out;
}

std::string encode(const DedupRecord& r) {
  std::string out;
  put_be64(out, static_cast<std::uint64_t>(r.first_seen));
  put_be32(out, r.uid);
  return out;
}

core::Result<DedupRecord> decode_dedup(std::string_view v) {
  if (v.size() != 12) return bad("dedup-record");
  return DedupRecord{as_time(get_be64(v, 0)), get_be32(v, 8)};
}

}  // namespace postern::store
