// The maildrop as one POP3 session sees it: a snapshot taken at login, plus the session's marks.
//
// RFC 1939 §5: message numbers are fixed for the session, 1..N in snapshot order, and a
// message marked deleted keeps its number but may not be accessed. Mail arriving later is
// not in the snapshot; the next session sees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace postern::pop3 {

struct MessageEntry {
  std::uint64_t size = 0;  // stored octets: CRLF lines, before dot-stuffing (RFC 1939 §11)
  std::string unique_id;   // RFC 1939 §7: 1..70 octets in 0x21..0x7E, stable across sessions
  std::uint64_t key = 0;   // opaque to the session: the host's handle (e.g. the store uid)
};

// Filled by Host::open_maildrop() while it holds the maildrop lock.
struct Maildrop {
  std::vector<MessageEntry> messages;
};

struct DropStats {
  std::size_t count = 0;
  std::uint64_t octets = 0;
};

// The snapshot plus per-message marks. Deleted marks are reset whole by RSET; retrieved
// marks are facts (the client has the bytes) and survive RSET.
class MaildropView {
 public:
  enum class Lookup { ok, no_such_message, deleted };

  MaildropView() = default;
  explicit MaildropView(Maildrop snapshot);

  // `number` as the client typed it (1-based).
  Lookup find(std::uint64_t number) const;
  // REQUIRES: find(number) == Lookup::ok.
  const MessageEntry& entry(std::uint64_t number) const;
  void mark_deleted(std::uint64_t number);
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
  struct Slot {
    MessageEntry entry;
    bool deleted = false;
    bool retrieved = false;
  };
  std::vector<Slot> messages_;
  std::size_t deleted_count_ = 0;
  std::size_t retrieved_count_ = 0;
};

}  // namespace postern::pop3
