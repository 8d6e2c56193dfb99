// The status page's backend over the store and Settings, and its listeners.
#include "app/http_service.h"

#include "app/http_diagnostics.h"
#include "app/http_mailbox.h"
#include "dedup/policy.h"

#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "address/address.h"
#include "app/admin.h"
#include "app/config.h"
#include "app/event_text.h"
#include "app/link_service.h"
#include "app/listen.h"
#include "app/loop_lag.h"
#include "core/log.h"
#include "http/api.h"
#include "http/server.h"
#include "http/version.h"
#include "store/catalogue.h"
#include "store/check.h"
#include "store/daily_counts.h"
#include "store/events.h"
#include "store/ledger.h"
#include "store/password.h"
#include "tls/credentials.h"

namespace postern::app {
namespace {

constexpr const char* kAdminHashKey = "admin_password_hash";

std::uint64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// The admin layer's sentences as the page shows them: capitalised, with a period.
http::Problem page_sentence(std::string sentence) {
  if (!sentence.empty() && sentence[0] >= 'a' && sentence[0] <= 'z') sentence[0] -= 'a' - 'A';
  if (!sentence.empty() && sentence.back() != '.') sentence += '.';
  return sentence;
}

http::Problem problem(const core::Error& e) {
  return page_sentence(explain(e));
}

AnswerFn page_done(http::Done done) {
  return [done = std::move(done)](Answer answer) {
    if (answer.ok) return done({});
    done(page_sentence(std::move(answer.sentence)));
  };
}

// The admin layer's way to the store from the loop: hashing on the pool, one
// Writer job per change; a fatal store error also reaches the app, which stops.
class PageRunner final : public AdminRunner {
 public:
  explicit PageRunner(ServiceContext& context) : context_(context) {}
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
  void hash(std::string password, unsigned iterations,
            std::function<void(std::string)> done) override {
    auto hash = std::make_shared<std::string>();
    context_.executor.submit([hash, password = std::move(password),
                              iterations] { *hash = store::hash_password(password, iterations); },
                             [hash, done = std::move(done)] { done(std::move(*hash)); });
  }
  std::int64_t now() override { return core::unix_seconds(context_.clock.now()); }

 private:
  ServiceContext& context_;
};

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

class AppBackend final : public http::Backend {
 public:
  AppBackend(ServiceContext& context, const Settings& settings, HttpHooks hooks)
      : context_(context),
        settings_(settings),
        started_settings_(settings),
        hooks_(std::move(hooks)),
        started_at_(core::unix_seconds(context.clock.now())),
        runner_(context),
        admin_(context.env, runner_, Actor::page, settings_),
        mailboxes_(context) {}

  void set_settings(const Settings& settings) { settings_ = settings; }
  void set_server(const http::Server* server) { server_ = server; }

  http::Overview overview() override {
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
      o.loop_lag_max_ms = static_cast<double>(hooks_.loop_lag->take_interval_max_us()) / 1000.0;
      o.loop_lag_max_total_ms = static_cast<double>(hooks_.loop_lag->max_since_start_us()) / 1000.0;
    }
    return o;
  }

  core::Result<std::vector<http::DomainView>, http::Problem> domains() override {
    auto txn = context_.env.begin_read();
    if (!txn) return problem(txn.error());
    auto list = store::list_domains(*txn);
    if (!list) return problem(list.error());
    std::vector<http::DomainView> out;
    // Shown as U-labels; the page sends that form back and canonical_domain() maps it again.
    for (const auto& d : *list)
      out.push_back({address::display_domain(d.name), dedup::to_string(d.dedup)});
    return out;
  }

  core::Result<std::vector<http::UserView>, http::Problem> users() override {
    auto txn = context_.env.begin_read();
    if (!txn) return problem(txn.error());
    auto list = store::list_users(*txn);
    if (!list) return problem(list.error());
    std::vector<http::UserView> out;
    for (const auto& u : *list)
      out.push_back(
          {address::display_address(u.address), u.message_count, u.used_bytes, u.quota_bytes});
    return out;
  }

  core::Result<std::vector<http::EventView>, http::Problem> events(std::size_t limit) override {
    auto txn = context_.env.begin_read();
    if (!txn) return problem(txn.error());
    auto list = store::query_events(*txn, limit);
    if (!list) return problem(list.error());
    std::vector<http::EventView> out;
    for (auto& e : *list) out.push_back({e.time, std::move(e.kind), std::move(e.text)});
    return out;
  }

  std::vector<http::SettingView> settings() override {
    std::vector<http::SettingView> out;
    for (auto& [key, value] : describe(settings_))
      out.push_back({key, value, is_runtime_key(key), is_runtime_key(key) && !applies_live(key)});
    return out;
  }

  std::string event_sentence(const http::EventView& event) override {
    return app::event_sentence(event.kind, event.text);
  }

  std::string hostname() override { return settings_.hostname; }

  bool admin_password_set() override { return !admin_hash().empty(); }

  std::string random_token() override {
    unsigned char bytes[16];
    std::size_t got = 0;
    while (got < sizeof bytes) {
      ssize_t r = ::getrandom(bytes + got, sizeof bytes - got, 0);
      if (r > 0) got += static_cast<std::size_t>(r);
    }
    char hex[33];
    for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
    return hex;
  }

  void verify_admin_password(std::string password, std::function<void(bool)> done) override {
    auto ok = std::make_shared<bool>(false);
    context_.executor.submit(
        [ok, password = std::move(password), hash = admin_hash()] {
          *ok = !hash.empty() && store::verify_password(password, hash);
        },
        [ok, done = std::move(done)] { done(*ok); });
  }

  void set_admin_password(std::string password, http::Done done) override {
    runner_.hash(std::move(password), settings_.pbkdf2_iterations, [this, done](std::string hash) {
      runner_.write(
          [hash](store::WriteTxn& txn) { return store::set_setting(txn, kAdminHashKey, hash); },
          [done](core::Result<void> r) {
            if (r) return done({});
            done(problem(r.error()));
          });
    });
  }

  // The catalogue and the settings go through the admin layer, as on the command line.
  void add_domain(std::string name, std::string rule, http::Done done) override {
    admin_.add_domain(name, rule, page_done(std::move(done)));
  }
  void remove_domain(std::string name, http::Done done) override {
    admin_.del_domain(name, page_done(std::move(done)));
  }
  void set_domain_dedup(std::string name, std::string rule, http::Done done) override {
    admin_.set_domain_rule(name, rule, page_done(std::move(done)));
  }
  void add_user(std::string address, std::string password, http::Done done) override {
    admin_.add_user(address, std::move(password), 0, page_done(std::move(done)));
  }
  void remove_user(std::string address, http::Done done) override {
    admin_.del_user(address, page_done(std::move(done)));
  }
  void set_user_password(std::string address, std::string password, http::Done done) override {
    admin_.set_password(address, std::move(password), page_done(std::move(done)));
  }

  void change_settings(std::vector<std::pair<std::string, std::string>> changes,
                       http::Done done) override {
    admin_.change_settings(std::move(changes), [this, done](SettingsAnswer answer) {
      if (!answer.ok) return done(page_sentence(std::move(answer.sentence)));
      settings_ = std::move(answer.next);
      settings_changed();
      done({});
    });
  }

  void install_certificate(std::string cert, std::string key, http::Done done) override {
    auto outcome = std::make_shared<std::optional<core::Result<void>>>();
    context_.executor.submit(
        [outcome, dir = settings_.data_dir, cert = std::move(cert), key = std::move(key)] {
          outcome->emplace(tls::Credentials::install(dir, cert, key));
        },
        [this, outcome, done = std::move(done)] {
          if (**outcome) {
            certificate_installed_ = true;  // served from the next start
            return done({});
          }
          if ((*outcome)->error().code == core::Errc::invalid)
            return done(
                http::Problem("The certificate and key do not parse or do not belong together."));
          done("The certificate could not be saved: " + explain((*outcome)->error()));
        });
  }

  // Restart-only keys whose saved value differs from the one bound at start.
  std::vector<http::PendingRestart> pending_restart() override {
    std::vector<http::PendingRestart> out;
    for (auto& pending : settings_waiting_for_restart(started_settings_, settings_))
      out.push_back({std::move(pending.key), std::move(pending.running), std::move(pending.saved)});
    if (certificate_installed_)
      out.push_back({"certificate", "the one loaded at start", "installed from the page"});
    return out;
  }
  void restart() override {
    if (context_.restart) context_.restart();
  }

  void verify_mailbox_password(std::string address, std::string password,
                               std::function<void(std::optional<std::string>)> done) override {
    mailboxes_.verify_password(std::move(address), std::move(password), std::move(done));
  }
  core::Result<http::MailboxPage, http::Problem> mailbox_page(const std::string& address,
                                                              std::optional<std::uint32_t> before,
                                                              std::size_t limit) override {
    return mailboxes_.page(address, before, limit);
  }
  void delete_messages(
      std::string address, std::vector<std::uint32_t> uids,
      std::function<void(core::Result<std::uint32_t, http::Problem>)> done) override {
    mailboxes_.delete_messages(std::move(address), std::move(uids), std::move(done));
  }
  core::Result<http::MessageDownload, http::Problem> open_message(const std::string& address,
                                                                  std::uint32_t uid) override {
    return mailboxes_.open_message(address, uid);
  }

 private:
  std::string admin_hash() {
    auto txn = context_.env.begin_read();
    if (!txn) return {};
    auto hash = store::get_setting(*txn, kAdminHashKey);
    return hash ? *hash : std::string();
  }

  void settings_changed() {
    if (hooks_.on_settings_changed) return hooks_.on_settings_changed();
    // serve()'s SIGHUP handler re-reads the saved settings and reconfigures
    // every service; a signal to ourselves reaches it through the loop.
    ::kill(::getpid(), SIGHUP);
  }

  ServiceContext& context_;
  Settings settings_;
  const Settings started_settings_;  // what the listeners were bound with
  HttpHooks hooks_;
  std::int64_t started_at_;
  PageRunner runner_;
  Admin admin_;  // borrows runner_ and settings_, declared before it
  const http::Server* server_ = nullptr;
  MailboxBrowser mailboxes_;
  bool certificate_installed_ = false;
};

class HttpService final : public Service {
 public:
  HttpService(std::unique_ptr<AppBackend> backend, std::unique_ptr<AppDiagnostics> diagnostics,
              std::unique_ptr<http::Api> api)
      : backend_(std::move(backend)), diagnostics_(std::move(diagnostics)), api_(std::move(api)) {}
  void set_server(std::unique_ptr<http::Server> server) {
    server_ = std::move(server);
    backend_->set_server(server_.get());
  }
  http::Api& api() { return *api_; }
  const http::Server& server() const { return *server_; }

  std::string ready_fields() const override {
    return " http=" + std::to_string(server_->port()) +
           " https=" + std::to_string(server_->tls_port());
  }
  void reconfigure(const Settings& settings) override { backend_->set_settings(settings); }
  void stop() override { server_->stop(); }
  std::string name() const override { return "http"; }
  std::size_t connections() const override { return server_->connections(); }

 private:
  // Dependency order: the server calls the Api, which calls the backend.
  std::unique_ptr<AppBackend> backend_;
  std::unique_ptr<AppDiagnostics> diagnostics_;  // null without a LinkService
  std::unique_ptr<http::Api> api_;
  std::unique_ptr<http::Server> server_;
};

std::string url_host(const Settings& settings) {
  const std::string& bind = settings.bind_address;
  if (bind == "0.0.0.0" || bind == "::") return settings.hostname;
  return bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
}

}  // namespace

core::Result<std::unique_ptr<Service>, std::string> start_http(ServiceContext& context,
                                                               const Settings& settings,
                                                               HttpHooks hooks) {
  auto diagnostics = hooks.links ? std::make_unique<AppDiagnostics>(*hooks.links) : nullptr;
  auto backend = std::make_unique<AppBackend>(context, settings, std::move(hooks));
  auto api =
      std::make_unique<http::Api>(*backend, context.clock, http::ApiOptions{}, diagnostics.get());
  auto service =
      std::make_unique<HttpService>(std::move(backend), std::move(diagnostics), std::move(api));

  http::ServerOptions options;
  options.listen = listener_options("http", settings, settings.http_port);
  options.listen_tls = listener_options("https", settings, settings.https_port);
  options.buffers.max_input_bytes = 16 * 1024;  // the parser consumes as it goes
  options.buffers.high_water_bytes = 256 * 1024;
  options.buffers.low_water_bytes = 32 * 1024;
  auto server = http::Server::start(context.loop, std::move(options), service->api(), context.clock,
                                    &context.tls);
  if (!server) {
    return describe_bind_error("HTTP", settings, settings.http_port, server.error()) +
           " (HTTPS uses " + std::to_string(settings.https_port) + ")";
  }
  service->set_server(std::move(*server));
  if (auto token = service->api().setup_token()) {
    // The token is a one-time secret: stderr only (the owner's console), not syslog.
    std::fprintf(stderr, "setup: open http://%s:%u/setup#%s\n", url_host(settings).c_str(),
                 static_cast<unsigned>(service->server().port()), token->c_str());
    std::fflush(stderr);
    POSTERN_LOG_WARN("http event=setup-pending note=no-admin-password-yet");
  }
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace postern::app
