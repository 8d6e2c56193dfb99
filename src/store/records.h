// The byte layout of every key and value (FORMAT.md in code): encoders and
// strict decoders, so a short or oversized value is Errc::corrupt, not UB.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/sha256.h"

namespace postern::store {

inline constexpr const char* kMetaSchemaVersion = "schema_version";
inline constexpr const char* kMetaNextUniqueId = "next_unique_id";
inline constexpr const char* kMetaNextDomainId = "next_domain_id";
inline constexpr const char* kMetaNextMailboxId = "next_mailbox_id";
inline constexpr const char* kMetaNextEventSeq = "next_event_seq";
inline constexpr std::string_view kSettingPrefix = "setting:";

inline constexpr std::size_t kChunkBytes = 64 * 1024;

std::string encode_u32(std::uint32_t v);
std::string encode_u64(std::uint64_t v);

enum class DedupRule : std::uint8_t { content = 0, content_or_message_id = 1, off = 2 };

struct DomainRecord {
  std::uint64_t id = 0;
  DedupRule dedup = DedupRule::content;
};
std::string encode(const DomainRecord& r);
core::Result<DomainRecord> decode_domain(std::string_view v);

struct UserRecord {
  std::uint64_t quota_bytes = 0;  // 0 = unlimited
  std::uint64_t mailbox_id = 0;
  std::string password_hash;  // "pbkdf2-sha256$..." or "!" (unusable)
};
std::string encode(const UserRecord& r);
core::Result<UserRecord> decode_user(std::string_view v);

struct MailboxRecord {
  std::uint32_t next_uid = 1;
  std::uint32_t message_count = 0;
  std::uint64_t used_bytes = 0;
};
std::string encode(const MailboxRecord& r);
core::Result<MailboxRecord> decode_mailbox(std::string_view v);

inline constexpr std::uint8_t kFlagPartial = 1u << 0;
inline constexpr std::uint8_t kFlagRetrieved = 1u << 1;

struct MessageRecord {
  Digest body{};
  std::uint64_t size = 0;
  std::int64_t received_at = 0;  // unix seconds
  std::uint8_t flags = 0;
  std::uint64_t unique_id = 0;
};
std::string message_key(std::uint64_t mailbox_id, std::uint32_t uid);
std::string encode(const MessageRecord& r);
core::Result<MessageRecord> decode_message(std::string_view v);

struct BodyRecord {
  std::uint64_t refcount = 0;
  std::uint64_t size = 0;
  std::uint32_t chunk_count = 0;
};
std::string encode(const BodyRecord& r);
core::Result<BodyRecord> decode_body(std::string_view v);
std::string chunk_key(const Digest& body, std::uint32_t n);
inline std::uint32_t chunk_count_for(std::uint64_t size) {
  return static_cast<std::uint32_t>((size + kChunkBytes - 1) / kChunkBytes);
}

using Fingerprint = std::array<std::uint8_t, 32>;
struct DedupRecord {
  std::int64_t first_seen = 0;
  std::uint32_t uid = 0;
};
std::string dedup_key(std::uint64_t mailbox_id, const Fingerprint& fp);
std::string encode(const DedupRecord& r);
core::Result<DedupRecord> decode_dedup(std::string_view v);

inline std::string_view as_view(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace postern::store
