// The collected mailboxes for the status page: accounts with their status in
// words, and the verbs through app/admin_collect.h with the page as actor.
#include "app/collect_page.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "address/address.h"
#include "app/config.h"

namespace postern::app {
namespace {

const char* tls_name(store::CollectTls t) {
  return t == store::CollectTls::pop3s ? "pop3s" : t == store::CollectTls::stls ? "stls" : "plain";
}

std::string keep_name(const store::CollectAccount& a) {
  if (a.keep == store::CollectKeep::keep) return "leave";
  if (a.keep == store::CollectKeep::delete_once_collected) return "delete";
  return std::to_string(a.delete_after_days) + "d";
}

// collect::describe(cert_untrusted) starts so; the page offers to pin what follows.
constexpr std::string_view kUntrusted = "certificate not trusted: fingerprint ";

}  // namespace

// The verbs' store writes through the Writer (the loop never blocks on LMDB).
class CollectPage::Runner final : public AdminRunner {
 public:
  explicit Runner(ServiceContext& context) : context_(context) {}
  void write(Job job, std::function<void(core::Result<void>)> done) override {
    context_.writer.submit<bool>(
        [job = std::move(job)](store::WriteTxn& txn) -> core::Result<bool> {
          if (auto r = job(txn); !r) return r.error();
          return true;
        },
        [on_fatal = context_.on_fatal, done = std::move(done)](core::Result<bool> r) {
          if (r) return done({});
          if (r.error().code == core::Errc::fatal && on_fatal) on_fatal(r.error());
          done(r.error());
        });
  }
  void hash(std::string, unsigned, std::function<void(std::string)> done) override {
    done({});  // the collect verbs seal, they never hash
  }
  std::int64_t now() override { return core::unix_seconds(context_.clock.now()); }

 private:
  ServiceContext& context_;
};

CollectPage::CollectPage(ServiceContext& context, collect::Collector& collector)
    : context_(context),
      collector_(collector),
      runner_(std::make_unique<Runner>(context)),
      admin_(context.env, *runner_, Actor::page) {}

CollectPage::~CollectPage() = default;

bool CollectPage::locked_elsewhere(std::uint64_t id) const {
  // `postern collect now` in another process holds the same flock as a run here.
  const std::string path =
      context_.env.options().data_dir + "/collect-" + std::to_string(id) + ".lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

core::Result<std::vector<http::CollectAccountView>, std::string> CollectPage::collect_accounts() {
  auto txn = context_.env.begin_read();
  if (!txn) return explain(txn.error());
  auto accounts = store::list_collect_accounts(*txn);
  if (!accounts) return explain(accounts.error());
  std::vector<http::CollectAccountView> out;
  for (const auto& a : *accounts) {
    auto s = store::collect_status(*txn, a.id).value_or(store::CollectStatus{});
    http::CollectAccountView v;
    v.id = a.id;
    v.mailbox = address::display_address(a.mailbox);
    v.host = a.host;
    v.port = a.port;
    v.tls = tls_name(a.tls);
    v.user = a.user;
    v.interval_seconds = a.interval_seconds;
    v.keep = keep_name(a);
    v.pin = a.pin;
    v.last_run = s.last_run;
    v.last_success = s.last_success;
    v.next_run = s.last_run == 0 ? 0 : s.last_run + collect::next_delay_seconds(a, s);
    v.mails = s.mails;
    v.bytes = s.bytes;
    v.error = s.error;
    if (s.error.rfind(kUntrusted, 0) == 0) v.fingerprint = s.error.substr(kUntrusted.size(), 64);
    v.no_uidl = s.uid_from_headers;
    if (collector_.running(a.id)) {
      v.running = true;
      if (auto it = progress_.find(a.id); it != progress_.end()) {
        v.run_fetched = it->second.fetched;
        v.run_to_fetch = it->second.to_fetch;
        v.run_bytes = it->second.bytes;
      }
    } else {
      progress_.erase(a.id);
      v.running = locked_elsewhere(a.id);
    }
    out.push_back(std::move(v));
  }
  return out;
}

void CollectPage::add_collect_account(http::CollectAddForm form, http::CollectAnswer done) {
  CollectForm f;
  f.mailbox = std::move(form.mailbox);
  f.host = std::move(form.host);
  f.port = std::move(form.port);
  f.tls = form.tls.empty() ? "pop3s" : std::move(form.tls);
  f.allow_plain = form.allow_plain;
  f.user = std::move(form.user);
  f.password = std::move(form.password);
  f.interval = std::move(form.interval);
  f.keep = std::move(form.keep);
  f.pin = std::move(form.pin);
  admin_.add_account(
      f, [done = std::move(done)](Answer a, std::uint64_t) { done(a.ok, std::move(a.sentence)); });
}

void CollectPage::remove_collect_account(std::uint64_t id, http::CollectAnswer done) {
  admin_.del_account(id, [this, id, done = std::move(done)](Answer a) {
    if (a.ok) collector_.cancel(id);  // a run under way stops: its account is gone
    done(a.ok, std::move(a.sentence));
  });
}

void CollectPage::pin_collect_account(std::uint64_t id, std::string fingerprint,
                                      http::CollectAnswer done) {
  admin_.pin_account(id, fingerprint,
                     [done = std::move(done)](Answer a) { done(a.ok, std::move(a.sentence)); });
}

void CollectPage::collect_now(std::uint64_t id, http::CollectAnswer done) {
  std::optional<store::CollectAccount> account;
  {
    auto txn = context_.env.begin_read();
    if (!txn) return done(false, explain(txn.error()));
    auto a = store::find_collect_account(*txn, id);
    if (!a) {
      return done(false, a.error().code == core::Errc::not_found
                             ? "there is no collect account " + std::to_string(id)
                             : explain(a.error()));
    }
    account = std::move(*a);
  }
  if (collector_.running(id) || !collector_.run_now(*account)) {
    return done(false, "a run of " + account->user + "@" + account->host +
                           " is already under way; its status shows when it ends");
  }
  done(true, "collecting " + account->user + "@" + account->host + " now");
}

}  // namespace postern::app
