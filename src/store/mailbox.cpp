// Delivery, listing, deletion and chunk reads over messages/bodies/chunks.
#include "store/mailbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>

#include "core/bytes.h"
#include "store/browse.h"
#include "store/catalogue.h"
#include "store/collect_accounts.h"
#include "store/events.h"
#include "store/ledger.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

std::string mailbox_prefix(std::uint64_t mailbox_id) {
  return encode_u64(mailbox_id);
}

// Closes a file descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads up to buf.size() bytes at `offset`, retrying short reads and EINTR.
Result<std::size_t> pread_full(int fd, std::string& buf, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < buf.size()) {
    ssize_t r = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return err(Errc::io, "spool-read", errno);
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Writes chunks [first, first + count) of a new body: from memory, or from
// the spool file one kChunkBytes piece at a time so the txn never holds the
// whole body in a buffer. A chunk already present with the right length was
// staged by an earlier txn (keys are content hashes) and is left alone.
Result<void> put_chunks(WriteTxn& txn, const SpooledBody& body, std::uint32_t first,
                        std::uint32_t count) {
  const std::uint32_t total = chunk_count_for(body.size);
  const std::uint32_t end = std::min(total, first + count);
  std::optional<Fd> fd;
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
      fd.emplace(::open(body.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd->get() < 0) return err(Errc::io, "spool-open", errno);
      buf.resize(kChunkBytes);
    }
    buf.resize(want);
    auto got = pread_full(fd->get(), buf, offset);
    if (!got) return got.error();
    if (*got != want) return err(Errc::io, "spool-short");
    if (auto r = txn.put(Db::chunks, key, buf); !r) return r;
  }
  if (fd && end == total) {
    char extra;
    if (::pread(fd->get(), &extra, 1, static_cast<off_t>(body.size)) != 0) {
      return err(Errc::io, "spool-long");
    }
  }
  return {};
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

Result<MessageInfo> to_info(std::string_view key, std::string_view value) {
  auto rec = decode_message(value);
  if (!rec) return rec.error();
  if (key.size() != 12) return err(Errc::corrupt, "message-key");
  return MessageInfo{core::get_be32(key, 8), rec->body,  rec->size,
                     rec->received_at,       rec->flags, rec->unique_id};
}

}  // namespace

Result<void> stage_chunks(WriteTxn& txn, const SpooledBody& body, std::uint32_t first,
                          std::uint32_t count) {
  auto existing = txn.get(Db::bodies, as_view(body.hash));
  if (existing) return {};  // stored already: delivery only adds a reference
  if (existing.error().code != Errc::not_found) return existing.error();
  return put_chunks(txn, body, first, count);
}

Result<std::uint64_t> drop_staged_chunks(WriteTxn& txn) {
  std::vector<std::string> orphans;
  std::string current;  // hash of the chunk run being looked at
  bool orphan = false;
  auto r = for_each(txn, Db::chunks, {}, [&](std::string_view k, std::string_view) {
    if (k.size() != 36) return true;  // check_consistency reports malformed keys
    if (k.substr(0, 32) != current) {
      current = std::string(k.substr(0, 32));
      orphan = !txn.get(Db::bodies, current).has_value();
    }
    if (orphan) orphans.emplace_back(k);
    return true;
  });
  if (!r) return r.error();
  for (const auto& k : orphans) {
    if (auto d = txn.del(Db::chunks, k); !d) return d.error();
  }
  return static_cast<std::uint64_t>(orphans.size());
}

std::string uidl(std::uint64_t unique_id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(unique_id));
  return buf;
}

Result<MailboxRecord> find_mailbox(Txn& txn, std::uint64_t mailbox_id) {
  auto v = txn.get(Db::mailboxes, encode_u64(mailbox_id));
  if (!v) return err(v.error().code, "mailbox");
  return decode_mailbox(*v);
}

Result<BodyRecord> find_body(Txn& txn, const Digest& body) {
  auto v = txn.get(Db::bodies, as_view(body));
  if (!v) return err(v.error().code, "body");
  return decode_body(*v);
}

namespace {

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

}  // namespace

Result<DeliveryOutcome> deliver(WriteTxn& txn, const DeliveryRequest& request) {
  const SpooledBody& body = request.body;
  if (request.recipients.empty()) return err(Errc::invalid, "no-recipients");
  if (body.in_memory() && body.memory.size() != body.size) return err(Errc::invalid, "body-size");

  DeliveryOutcome outcome;
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < request.recipients.size(); ++i) {
    const Recipient& rcpt = request.recipients[i];
    auto user = find_user(txn, rcpt.address);
    if (!user) return user.error();
    const std::uint64_t mailbox_id = user->record.mailbox_id;
    Delivered out{user->address, mailbox_id};
    if (rcpt.supersede_partial) {
      auto r =
          supersede_partial(txn, request, user->address, mailbox_id, *rcpt.supersede_partial, out);
      if (!r) return r.error();
    }
    auto live = live_row(txn, request, mailbox_id, rcpt);
    if (!live) return live.error();
    if (*live) {
      // A retry (or a broken retry) of a copy in the window: answered 250 by
      // the caller, counted, not stored again.
      const auto& [row, rule] = **live;
      out.suppressed = true;
      out.uid = row.uid;
      out.first_seen = row.first_seen;
      if (auto r = add_stat(txn, kStatDuplicatesSuppressed); !r) return r.error();
      std::string text = "mailbox=" + user->address +
                         " message_id=" + (request.message_id.empty() ? "-" : request.message_id) +
                         " rule=" + rule + " first_seen=" + std::to_string(row.first_seen);
      if (request.flags & kFlagPartial) text += " partial=yes";
      if (auto r = append_event(txn, "duplicate-suppressed", text, request.received_at); !r) {
        return r.error();
      }
      outcome.delivered.push_back(std::move(out));
      continue;
    }

    auto mailbox = find_mailbox(txn, mailbox_id);
    if (!mailbox) return err(Errc::corrupt, "user-mailbox");
    const std::uint64_t quota = user->record.quota_bytes;
    if (quota != 0 && mailbox->used_bytes + body.size > quota) return err(Errc::full, "quota");
    if (mailbox->next_uid == UINT32_MAX) return err(Errc::full, "uid-space");

    std::uint64_t unique_id = 0;
    auto next = next_sequence(txn, kMetaNextUniqueId);
    if (!next) return next.error();
    if (i == 0 && request.unique_id >= *next && request.unique_id < kMaxRestoredUniqueId) {
      // Restore: the sequence moves past it, so it can never be handed out again.
      unique_id = request.unique_id;
      if (auto r = txn.put(Db::meta, kMetaNextUniqueId, encode_u64(unique_id + 1)); !r) {
        return r.error();
      }
    } else {
      unique_id = *next;
    }
    const std::uint32_t uid = mailbox->next_uid++;
    mailbox->message_count++;
    mailbox->used_bytes += body.size;
    MessageRecord msg{body.hash, body.size, request.received_at, request.flags, unique_id};
    if (auto r = txn.put(Db::messages, message_key(mailbox_id, uid), encode(msg)); !r) {
      return r.error();
    }
    if (auto r = txn.put(Db::mailboxes, encode_u64(mailbox_id), encode(*mailbox)); !r) {
      return r.error();
    }
    if (auto r = record_rows(txn, request, mailbox_id, rcpt, uid); !r) return r.error();
    if (request.flags & kFlagPartial) {
      if (auto r = add_stat(txn, kStatPartialsKept); !r) return r.error();
      std::string text = "mailbox=" + user->address + " uid=" + std::to_string(uid) +
                         " message_id=" + (request.message_id.empty() ? "-" : request.message_id) +
                         " replaceable=" + (rcpt.partial_key ? "yes" : "no");
      if (auto r = append_event(txn, "partial-kept", text, request.received_at); !r) {
        return r.error();
      }
    }
    out.uid = uid;
    out.unique_id = unique_id;
    outcome.delivered.push_back(std::move(out));
    ++stored;
  }
  if (stored > 0) {
    if (auto r = add_body_refs(txn, body, stored); !r) return r.error();
    if (request.count_on_day != 0) {
      auto r = add_daily_count(txn, kStatReceivedToday, request.count_on_day, stored);
      if (!r) return r.error();
    }
  } else if (auto r = drop_unowned_chunks(txn, body); !r) {
    return r.error();
  }
  if (request.collect_account != 0) {
    const Delivered& first = outcome.delivered.front();
    auto r = record_collected(txn, request.collect_account, request.collect_uidl,
                              CollectedRecord{first.uid, request.received_at});
    if (!r) return r.error();
  }
  return outcome;
}

Result<std::vector<MessageInfo>> list_messages(Txn& txn, std::uint64_t mailbox_id) {
  std::vector<MessageInfo> out;
  Result<void> bad;
  auto r = for_each(txn, Db::messages, mailbox_prefix(mailbox_id),
                    [&](std::string_view k, std::string_view v) {
                      auto info = to_info(k, v);
                      if (!info) {
                        bad = info.error();
                        return false;
                      }
                      out.push_back(*info);
                      return true;
                    });
  if (!r) return r.error();
  if (!bad) return bad.error();
  return out;
}

Result<std::vector<MessageInfo>> list_messages(const Env& env, std::uint64_t mailbox_id) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  return list_messages(*txn, mailbox_id);
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

Result<void> delete_messages(WriteTxn& txn, std::uint64_t mailbox_id,
                             std::span<const std::uint32_t> uids) {
  auto mailbox = find_mailbox(txn, mailbox_id);
  if (!mailbox) return mailbox.error();
  for (std::uint32_t uid : uids) {
    const std::string key = message_key(mailbox_id, uid);
    auto v = txn.get(Db::messages, key);
    if (!v) return err(v.error().code, "message");
    auto rec = decode_message(*v);
    if (!rec) return rec.error();
    if (auto r = txn.del(Db::messages, key); !r) return r;
    if (auto r = forget_retrieval(txn, mailbox_id, uid); !r) return r;
    if (auto r = drop_body_ref(txn, rec->body); !r) return r;
    if (mailbox->message_count == 0 || mailbox->used_bytes < rec->size) {
      return err(Errc::corrupt, "mailbox-counters");
    }
    mailbox->message_count--;
    mailbox->used_bytes -= rec->size;
  }
  return txn.put(Db::mailboxes, encode_u64(mailbox_id), encode(*mailbox));
}

Result<void> mark_retrieved(WriteTxn& txn, std::uint64_t mailbox_id,
                            std::span<const std::uint32_t> uids) {
  for (std::uint32_t uid : uids) {
    const std::string key = message_key(mailbox_id, uid);
    auto v = txn.get(Db::messages, key);
    if (!v) return err(v.error().code, "message");
    auto rec = decode_message(*v);
    if (!rec) return rec.error();
    if (rec->flags & kFlagRetrieved) continue;
    rec->flags |= kFlagRetrieved;
    if (auto r = txn.put(Db::messages, key, encode(*rec)); !r) return r;
  }
  return {};
}

Result<void> drop_mailbox(WriteTxn& txn, std::uint64_t mailbox_id) {
  auto messages = list_messages(txn, mailbox_id);
  if (!messages) return messages.error();
  std::vector<std::uint32_t> uids;
  for (const auto& m : *messages) uids.push_back(m.uid);
  if (auto r = delete_messages(txn, mailbox_id, uids); !r) return r;
  std::vector<std::string> dedup_keys;
  auto r = for_each(txn, Db::dedup, mailbox_prefix(mailbox_id),
                    [&](std::string_view k, std::string_view) {
                      dedup_keys.emplace_back(k);
                      return true;
                    });
  if (!r) return r;
  for (const auto& k : dedup_keys) {
    if (auto d = txn.del(Db::dedup, k); !d) return d;
  }
  return txn.del(Db::mailboxes, encode_u64(mailbox_id));
}

}  // namespace postern::store
