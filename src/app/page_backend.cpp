// What the status page shows: the overview, the catalogue and event lists, the
// settings, and the owner's view of a mailbox (http::Backend's reads).
#include "app/page_backend.h"

#include <sys/statvfs.h>

#include <cstdlib>
#include <fstream>

#include "address/address.h"
#include "app/config.h"
#include "app/event_text.h"
#include "app/loop_lag.h"
#include "dedup/policy.h"
#include "http/version.h"
#include "store/catalogue.h"
#include "store/check.h"
#include "store/daily_counts.h"
#include "store/events.h"
#include "store/ledger.h"

namespace postern::app {
namespace {

std::uint64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// Why new mail is refused for lack of space, in the owner's words; empty when it is not.
// The Writer's last full error says which limit was hit; a disk with less than 1 MiB free
// is full whatever the last delivery met (the spool fills first).
std::string storage_problem(const core::Error* full, bool disk_known, std::uint64_t disk_free) {
  if (full != nullptr && full->sys == MDB_MAP_FULL) {
    return "Store full: the mail store has reached its size limit (map_size_mb), so new mail "
           "is refused for now (senders retry later). Delete mail (a POP3 client that removes "
           "what it downloads), or raise map_size_mb and restart; mail is accepted again as "
           "soon as there is room.";
  }
  if (full != nullptr || (disk_known && disk_free < (1u << 20))) {
    return "Disk full: the data folder's disk has no space left, so new mail is refused for "
           "now (senders retry later). Free some space on it; mail is accepted again at once, "
           "with no restart.";
  }
  return {};
}

}  // namespace

http::Problem page_sentence(std::string sentence) {
  if (!sentence.empty() && sentence[0] >= 'a' && sentence[0] <= 'z') sentence[0] -= 'a' - 'A';
  if (!sentence.empty() && sentence.back() != '.') sentence += '.';
  return sentence;
}

http::Problem page_problem(const core::Error& e) {
  return page_sentence(explain(e));
}

PageBackend::PageBackend(ServiceContext& context, const Settings& settings, HttpHooks hooks)
    : context_(context),
      settings_(settings),
      started_settings_(settings),
      hooks_(std::move(hooks)),
      started_at_(core::unix_seconds(context.clock.now())),
      runner_(context),
      admin_(context.env, runner_, Actor::page, settings_),
      mailboxes_(context) {}

http::Overview PageBackend::overview() {
  http::Overview o;
  o.version = http::build_version();
  o.board = settings_.board;
  o.hostname = settings_.hostname;
  o.started_at = started_at_;
  o.now = core::unix_seconds(context_.clock.now());
  o.memory_rss_bytes = resident_bytes();
  struct statvfs fs {};
  if (::statvfs(settings_.data_dir.c_str(), &fs) == 0) {
    o.disk_free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    o.disk_total_bytes = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  o.storage_problem =
      storage_problem(context_.writer.full(), o.disk_total_bytes != 0, o.disk_free_bytes);
  if (auto counts = store::table_counts(context_.env)) {  // O(1): runs on the loop
    o.map_used_bytes = counts->map_used_bytes;
    o.map_bytes = counts->map_bytes;
    o.messages = counts->messages;
    o.users = counts->users;
    o.domains = counts->domains;
  }
  if (auto txn = context_.env.begin_read()) {
    const std::int64_t today = core::local_midnight(o.now);
    if (auto n = store::daily_count(*txn, store::kStatReceivedToday, today)) {
      o.received_today = *n;
    }
    if (auto n = store::daily_count(*txn, store::kStatRetrievedToday, today)) {
      o.retrieved_today = *n;
    }
    if (auto s = store::stats(*txn)) {
      o.ledger = http::LedgerCounts{s->duplicates_suppressed, s->partials_discarded,
                                    s->partials_kept, s->partials_superseded};
    }
  }
  if (hooks_.connections) {
    o.connections = hooks_.connections();
  } else if (server_ != nullptr) {
    o.connections = {{"http", server_->connections()}};
  }
  if (server_ != nullptr) o.ports = {{"http", server_->port()}, {"https", server_->tls_port()}};
  if (hooks_.loop_lag != nullptr) {
    const auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
    const LoopLoad interval = hooks_.loop_lag->take_interval();
    const LoopLoad& total = hooks_.loop_lag->since_start();
    o.loop_load = http::LoopLoadView{ms(interval.lag_us), ms(total.lag_us),    ms(interval.busy_us),
                                     ms(total.busy_us),   ms(interval.cpu_us), ms(total.cpu_us)};
  }
  return o;
}

core::Result<std::vector<http::DomainView>, http::Problem> PageBackend::domains() {
  auto txn = context_.env.begin_read();
  if (!txn) return page_problem(txn.error());
  auto list = store::list_domains(*txn);
  if (!list) return page_problem(list.error());
  std::vector<http::DomainView> out;
  // Shown as U-labels; the page sends that form back and canonical_domain() maps it again.
  for (const auto& d : *list)
    out.push_back({address::display_domain(d.name), dedup::to_string(d.dedup)});
  return out;
}

core::Result<std::vector<http::UserView>, http::Problem> PageBackend::users() {
  auto txn = context_.env.begin_read();
  if (!txn) return page_problem(txn.error());
  auto list = store::list_users(*txn);
  if (!list) return page_problem(list.error());
  std::vector<http::UserView> out;
  for (const auto& u : *list)
    out.push_back(
        {address::display_address(u.address), u.message_count, u.used_bytes, u.quota_bytes});
  return out;
}

core::Result<std::vector<http::EventView>, http::Problem> PageBackend::events(std::size_t limit) {
  auto txn = context_.env.begin_read();
  if (!txn) return page_problem(txn.error());
  auto list = store::query_events(*txn, limit);
  if (!list) return page_problem(list.error());
  std::vector<http::EventView> out;
  for (auto& e : *list) out.push_back({e.time, std::move(e.kind), std::move(e.text)});
  return out;
}

std::vector<http::SettingView> PageBackend::settings() {
  std::vector<http::SettingView> out;
  for (auto& [key, value] : describe(settings_))
    out.push_back({key, value, is_runtime_key(key), is_runtime_key(key) && !applies_live(key)});
  return out;
}

std::string PageBackend::event_sentence(const http::EventView& event) {
  return app::event_sentence(event.kind, event.text);
}

void PageBackend::verify_mailbox_password(std::string address, std::string password,
                                          std::function<void(std::optional<std::string>)> done) {
  mailboxes_.verify_password(std::move(address), std::move(password), std::move(done));
}

core::Result<http::MailboxPage, http::Problem> PageBackend::mailbox_page(
    const std::string& address, std::optional<std::uint32_t> before, std::size_t limit) {
  return mailboxes_.page(address, before, limit);
}

void PageBackend::delete_messages(
    std::string address, std::vector<std::uint32_t> uids,
    std::function<void(core::Result<std::uint32_t, http::Problem>)> done) {
  mailboxes_.delete_messages(std::move(address), std::move(uids), std::move(done));
}

core::Result<http::MessageDownload, http::Problem> PageBackend::open_message(
    const std::string& address, std::uint32_t uid) {
  return mailboxes_.open_message(address, uid);
}

}  // namespace postern::app
