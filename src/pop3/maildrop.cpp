// MaildropView: message numbering and the session's deleted/retrieved marks.
#include "pop3/maildrop.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace postern::pop3 {

UniqueId::UniqueId(std::string_view text) {
  assert(text.size() <= kMaxLength);
  std::memcpy(text_.data(), text.data(), std::min(text.size(), kMaxLength));
}

std::string_view UniqueId::view() const {
  const auto end = std::find(text_.begin(), text_.end(), '\0');
  return std::string_view(text_.data(), static_cast<std::size_t>(end - text_.begin()));
}

MaildropView::MaildropView(Maildrop snapshot)
    : messages_(std::move(snapshot.messages)), marks_(messages_.size(), 0) {
  for (const MessageEntry& m : messages_) total_octets_ += m.size;
}

MaildropView::Lookup MaildropView::find(std::uint64_t number) const {
  if (number == 0 || number > messages_.size()) return Lookup::no_such_message;
  return (marks_[number - 1] & kDeleted) != 0 ? Lookup::deleted : Lookup::ok;
}

const MessageEntry& MaildropView::entry(std::uint64_t number) const {
  assert(number >= 1 && number <= messages_.size());
  return messages_[number - 1];
}

bool MaildropView::deleted(std::uint64_t number) const {
  return find(number) == Lookup::deleted;
}

void MaildropView::mark_deleted(std::uint64_t number) {
  assert(find(number) == Lookup::ok);
  marks_[number - 1] |= kDeleted;
  deleted_octets_ += messages_[number - 1].size;
  ++deleted_count_;
}

void MaildropView::mark_retrieved(std::uint64_t number) {
  assert(number >= 1 && number <= messages_.size());
  std::uint8_t& mark = marks_[number - 1];
  if ((mark & kRetrieved) == 0) {
    mark |= kRetrieved;
    ++retrieved_count_;
  }
}

void MaildropView::reset_deleted() {
  if (deleted_count_ == 0) return;
  for (std::uint8_t& mark : marks_) mark &= static_cast<std::uint8_t>(~kDeleted);
  deleted_count_ = 0;
  deleted_octets_ = 0;
}

DropStats MaildropView::stats() const {
  return DropStats{messages_.size() - deleted_count_, total_octets_ - deleted_octets_};
}

std::vector<std::uint64_t> MaildropView::keys_with(std::uint8_t mark) const {
  std::vector<std::uint64_t> keys;
  for (std::size_t i = 0; i < messages_.size(); ++i)
    if ((marks_[i] & mark) != 0) keys.push_back(messages_[i].key);
  return keys;
}

std::vector<std::uint64_t> MaildropView::deleted_keys() const {
  return keys_with(kDeleted);
}

std::vector<std::uint64_t> MaildropView::retrieved_keys() const {
  return keys_with(kRetrieved);
}

}  // namespace postern::pop3
