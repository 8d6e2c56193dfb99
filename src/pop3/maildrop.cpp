// MaildropView: message numbering and the session's deleted/retrieved marks.
#include "pop3/maildrop.h"

#include <cassert>
#include <utility>

namespace postern::pop3 {

MaildropView::MaildropView(Maildrop snapshot) {
  messages_.reserve(snapshot.messages.size());
  for (auto& m : snapshot.messages) messages_.push_back(Slot{std::move(m), false, false});
}

MaildropView::Lookup MaildropView::find(std::uint64_t number) const {
  if (number == 0 || number > messages_.size()) return Lookup::no_such_message;
  return messages_[number - 1].deleted ? Lookup::deleted : Lookup::ok;
}

const MessageEntry& MaildropView::entry(std::uint64_t number) const {
  assert(number >= 1 && number <= messages_.size());
  return messages_[number - 1].entry;
}

bool MaildropView::deleted(std::uint64_t number) const {
  return find(number) == Lookup::deleted;
}

void MaildropView::mark_deleted(std::uint64_t number) {
  assert(find(number) == Lookup::ok);
  messages_[number - 1].deleted = true;
  ++deleted_count_;
}

void MaildropView::mark_retrieved(std::uint64_t number) {
  assert(number >= 1 && number <= messages_.size());
  Slot& slot = messages_[number - 1];
  if (!slot.retrieved) {
    slot.retrieved = true;
    ++retrieved_count_;
  }
}

void MaildropView::reset_deleted() {
  for (auto& slot : messages_) slot.deleted = false;
  deleted_count_ = 0;
}

DropStats MaildropView::stats() const {
  DropStats stats;
  for (const auto& slot : messages_) {
    if (slot.deleted) continue;
    ++stats.count;
    stats.octets += slot.entry.size;
  }
  return stats;
}

std::vector<std::uint64_t> MaildropView::deleted_keys() const {
  std::vector<std::uint64_t> keys;
  for (const auto& slot : messages_)
    if (slot.deleted) keys.push_back(slot.entry.key);
  return keys;
}

std::vector<std::uint64_t> MaildropView::retrieved_keys() const {
  std::vector<std::uint64_t> keys;
  for (const auto& slot : messages_)
    if (slot.retrieved) keys.push_back(slot.entry.key);
  return keys;
}

}  // namespace postern::pop3
