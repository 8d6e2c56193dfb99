// The mailbox view over the store: login check, summaries, delete, download.
#include "app/http_mailbox.h"

#include <algorithm>
#include <memory>
#include <string_view>

#include "core/log.h"
#include "dedup/fingerprint_builder.h"
#include "store/browse.h"
#include "store/catalogue.h"
#include "store/events.h"
#include "store/ledger.h"
#include "store/mailbox.h"
#include "store/password.h"

namespace postern::app {
namespace {

// The value of `key` in an event's "k=v k=v" text, or "".
std::string_view event_field(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(pos, end - pos);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=')
      return pair.substr(key.size() + 1);
    pos = end + 1;
  }
  return {};
}

http::Problem store_problem(const core::Error& e) {
  if (e.code == core::Errc::not_found) return "No such mailbox or message.";
  if (e.code == core::Errc::invalid) return "That is not a mailbox address (e.g. bob@example.org).";
  return "The store could not be read (" + std::string(core::to_string(e.code)) + ").";
}

// The user's mailbox id in a read txn, after normalising the address.
core::Result<std::pair<std::string, std::uint64_t>> mailbox_of(store::Txn& txn,
                                                               const std::string& address) {
  auto normalized = store::normalize_address(address);
  if (!normalized) return normalized.error();
  auto user = store::find_user(txn, *normalized);
  if (!user) return user.error();
  return std::make_pair(user->address, user->record.mailbox_id);
}

}  // namespace

MailboxBrowser::MailboxBrowser(ServiceContext& context)
    : context_(context),
      // As the POP3 server's: a fixed salt and an all-zero key, so verifying
      // costs one derivation and never matches.
      dummy_hash_("pbkdf2-sha256$" +
                  std::to_string(std::max(1u, context.env.options().pbkdf2_iterations)) +
                  "$cG9zdGVybi1uby11c2VyIQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") {}

void MailboxBrowser::verify_password(std::string address, std::string password,
                                     std::function<void(std::optional<std::string>)> done) {
  std::string hash = dummy_hash_;
  std::optional<std::string> who;
  if (auto txn = context_.env.begin_read()) {
    if (auto normalized = store::normalize_address(address)) {
      if (auto user = store::find_user(*txn, *normalized);
          user && user->record.password_hash != store::kUnusablePassword) {
        hash = user->record.password_hash;
        who = user->address;
      }
    }
  }
  auto ok = std::make_shared<bool>(false);
  context_.executor.submit(
      [ok, hash = std::move(hash), password = std::move(password)] {
        *ok = store::verify_password(password, hash);
      },
      [ok, who = std::move(who), done = std::move(done)] {
        done(*ok && who ? who : std::nullopt);
      });
}

core::Result<http::MailboxPage, http::Problem> MailboxBrowser::page(
    const std::string& address, std::optional<std::uint32_t> before, std::size_t limit) {
  auto txn = context_.env.begin_read();
  if (!txn) return store_problem(txn.error());
  auto owner = mailbox_of(*txn, address);
  if (!owner) return store_problem(owner.error());
  const auto& [name, mailbox_id] = *owner;
  auto record = store::find_mailbox(*txn, mailbox_id);
  if (!record) return store_problem(record.error());
  auto listed = store::list_page(*txn, mailbox_id, before, limit);
  if (!listed) return store_problem(listed.error());

  http::MailboxPage page;
  page.address = name;
  page.total = record->message_count;
  page.bytes = record->used_bytes;
  page.next_before = listed->next_before;
  std::int64_t oldest = INT64_MAX;
  for (const store::MessageInfo& info : listed->messages) {
    http::MessageView m;
    m.uid = info.uid;
    m.uidl = store::uidl(info.unique_id);
    m.size = info.size;
    m.received_at = info.received_at;
    m.partial = (info.flags & store::kFlagPartial) != 0;
    m.retrieved = (info.flags & store::kFlagRetrieved) != 0;
    auto head = store::body_head(*txn, info.body, kHeadBytes);
    if (!head) return store_problem(head.error());
    m.summary = http::summarize_message(*head);
    if (auto r = store::find_retrieval(*txn, mailbox_id, info.uid); r && *r) {
      m.retrieved_by = (*r)->client;
      m.retrieved_at = (*r)->time;
    }
    // A later copy stored anyway (duplicates allowed, or outside the window):
    // the ledger's Message-ID row names the first stored copy.
    if (!m.summary.message_id.empty()) {
      std::string id = dedup::normalize_message_id(m.summary.message_id);
      if (!id.empty()) {
        auto row = store::find_dedup(*txn, mailbox_id, dedup::message_id_fingerprint(id));
        if (row && row->uid < info.uid) m.duplicate_of = row->uid;
      }
    }
    oldest = std::min(oldest, info.received_at);
    page.messages.push_back(std::move(m));
  }
  // Retries answered 250 and not stored: "duplicate-suppressed" events name the
  // mailbox and the original's first-seen time. Only events since this page's
  // oldest message can concern it, and the scan is bounded.
  if (!page.messages.empty()) {
    auto events = store::query_events(*txn, kEventScan, oldest);
    if (events) {
      for (const store::Event& e : *events) {
        if (e.kind != "duplicate-suppressed" || event_field(e.text, "mailbox") != name) continue;
        const std::string_view first_seen = event_field(e.text, "first_seen");
        const std::string_view mid = event_field(e.text, "message_id");
        for (http::MessageView& m : page.messages) {
          if (std::to_string(m.received_at) != first_seen) continue;
          if (!mid.empty() && mid != "-" && !m.summary.message_id.empty() &&
              dedup::normalize_message_id(m.summary.message_id) != mid)
            continue;
          ++m.suppressed_copies;
          m.last_suppressed_at = std::max(m.last_suppressed_at, e.time);
          break;
        }
      }
    }
  }
  return page;
}

void MailboxBrowser::delete_messages(
    std::string address, std::vector<std::uint32_t> uids,
    std::function<void(core::Result<std::uint32_t, http::Problem>)> done) {
  std::pair<std::string, std::uint64_t> owner;
  {
    auto txn = context_.env.begin_read();
    if (!txn) return done(store_problem(txn.error()));
    auto found = mailbox_of(*txn, address);
    if (!found) return done(store_problem(found.error()));
    owner = *found;
  }
  const std::int64_t now = core::unix_seconds(context_.clock.now());
  // An ordinary write transaction through the Writer, like POP3's UPDATE: a
  // POP3 session holding this mailbox keeps its snapshot (RFC 1939) and its own
  // UPDATE skips nothing it did not mark; the next login sees the deletion.
  context_.writer.submit<std::uint32_t>(
      [owner, uids = std::move(uids), now](store::WriteTxn& txn) -> core::Result<std::uint32_t> {
        auto deleted = store::delete_from_page(txn, owner.second, uids);
        if (!deleted) return deleted.error();
        if (*deleted > 0) {
          std::string text =
              "mailbox=" + owner.first + " count=" + std::to_string(*deleted) + " uids=";
          for (std::size_t i = 0; i < uids.size() && i < 20; ++i)
            text += (i ? "," : "") + std::to_string(uids[i]);
          if (uids.size() > 20) text += ",...";
          if (auto r = store::append_event(txn, "deleted-from-page", text, now); !r)
            return r.error();
        }
        return *deleted;
      },
      [this, done = std::move(done)](core::Result<std::uint32_t> r) {
        if (r) return done(*r);
        if (r.error().code == core::Errc::fatal && context_.on_fatal) context_.on_fatal(r.error());
        done(store_problem(r.error()));
      });
}

core::Result<http::MessageDownload, http::Problem> MailboxBrowser::open_message(
    const std::string& address, std::uint32_t uid) {
  auto txn = context_.env.begin_read();
  if (!txn) return store_problem(txn.error());
  auto owner = mailbox_of(*txn, address);
  if (!owner) return store_problem(owner.error());
  auto info = store::find_message(*txn, owner->second, uid);
  if (!info) return store_problem(info.error());
  http::MessageDownload download;
  download.uidl = store::uidl(info->unique_id);
  download.size = info->size;
  const std::uint32_t chunks = store::chunk_count_for(info->size);
  // One short read txn per 64 KiB piece (copied), as POP3's RETR: nothing pins pages
  // while a slow client downloads. A message deleted meanwhile ends the download short.
  download.piece = [env = &context_.env, body = info->body,
                    chunks](std::size_t index) -> std::optional<std::string> {
    if (index >= chunks) return std::string();
    auto piece = store::read_chunk(*env, body, static_cast<std::uint32_t>(index));
    if (!piece || piece->empty()) return std::nullopt;
    return std::move(*piece);
  };
  return download;
}

}  // namespace postern::app
