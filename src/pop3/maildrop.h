// The maildrop as one POP3 session sees it: a snapshot taken at login, plus the session's marks.
//
// RFC 1939 §5: message numbers are fixed for the session, 1..N in snapshot order, and a
// message marked deleted keeps its number but may not be accessed. Mail arriving later is
// not in the snapshot; the next session sees it.
//
// Compact on purpose (issue 16 §3): a maildrop of 100 000 messages is one vector of 32-octet
// entries and one octet of marks each, about 3.3 MB, with no heap string per message.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace postern::pop3 {

// RFC 1939 §7 unique-id, held inline: 1..16 octets in 0x21..0x7E (the store's are 16
// lowercase hex digits, store::uidl()). Stable across sessions.
class UniqueId {
 public:
  static constexpr std::size_t kMaxLength = 16;

  UniqueId() = default;
  // REQUIRES: text.size() <= kMaxLength, no NUL octet (RFC 1939 §7 allows none); longer
  // text is cut at kMaxLength.
  explicit UniqueId(std::string_view text);

  std::string_view view() const;
  friend bool operator==(const UniqueId& a, const UniqueId& b) { return a.text_ == b.text_; }

 private:
  std::array<char, kMaxLength> text_{};  // NUL-padded
};

struct MessageEntry {
  std::uint64_t key = 0;   // opaque to the session: the host's handle (the store uid)
  std::uint64_t size = 0;  // stored octets: CRLF lines, before dot-stuffing (RFC 1939 §11)
  UniqueId unique_id;
};

// The snapshot, in message-number order. Filled off the loop thread by the host while it
// holds the maildrop lock (Host::open_maildrop).
struct Maildrop {
  std::vector<MessageEntry> messages;
};

struct DropStats {
  std::size_t count = 0;
  std::uint64_t octets = 0;
};

// The snapshot plus per-message marks. Deleted marks are reset whole by RSET; retrieved
// marks are facts (the client has the bytes) and survive RSET. STAT is O(1): the totals of
// what is not marked deleted are kept as marks change.
class MaildropView {
 public:
  enum class Lookup { ok, no_such_message, deleted };

  MaildropView() = default;
  explicit MaildropView(Maildrop snapshot);

  // `number` as the client typed it (1-based).
  Lookup find(std::uint64_t number) const;
  // REQUIRES: 1 <= number <= size().
  const MessageEntry& entry(std::uint64_t number) const;
  void mark_deleted(std::uint64_t number);  // REQUIRES: find(number) == Lookup::ok
  void mark_retrieved(std::uint64_t number);
  void reset_deleted();

  std::size_t size() const { return messages_.size(); }  // highest message number
  bool deleted(std::uint64_t number) const;
  DropStats stats() const;  // excludes messages marked deleted (RFC 1939 §5 STAT)
  std::size_t deleted_count() const { return deleted_count_; }
  std::size_t retrieved_count() const { return retrieved_count_; }
  std::vector<std::uint64_t> deleted_keys() const;
  std::vector<std::uint64_t> retrieved_keys() const;

 private:
  static constexpr std::uint8_t kDeleted = 1u << 0;
  static constexpr std::uint8_t kRetrieved = 1u << 1;
  std::vector<std::uint64_t> keys_with(std::uint8_t mark) const;

  std::vector<MessageEntry> messages_;
  std::vector<std::uint8_t> marks_;  // kDeleted | kRetrieved, per message
  std::uint64_t total_octets_ = 0;
  std::uint64_t deleted_octets_ = 0;
  std::size_t deleted_count_ = 0;
  std::size_t retrieved_count_ = 0;
};

}  // namespace postern::pop3
