// The status page's backend over the store and Settings, and its listeners.
#include "app/http_service.h"

#include "app/http_diagnostics.h"
#include "dedup/policy.h"

#include <sys/random.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "address/address.h"
#include "app/config.h"
#include "app/link_service.h"
#include "app/listen.h"
#include "app/loop_lag.h"
#include "core/log.h"
#include "http/api.h"
#include "http/server.h"
#include "http/version.h"
#include "store/catalogue.h"
#include "store/check.h"
#include "store/events.h"
#include "store/mailbox.h"
#include "store/password.h"
#include "tls/credentials.h"

namespace postern::app {
namespace {

constexpr const char* kAdminHashKey = "admin_password_hash";

// Saved now, read only at start: listeners are bound with these.
bool needs_restart(std::string_view key) {
  return key.ends_with("_port") || key == "max_connections" || key == "max_connections_per_ip";
}

std::uint64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// Store errors in the page's words (explain() speaks to the command line).
std::string problem(const core::Error& e) {
  std::string where = e.where;
  if (e.code == core::Errc::exists && where == "domain-has-users")
    return "The domain still has users or aliases; remove them first.";
  if (e.code == core::Errc::exists) return "That already exists.";
  if (e.code == core::Errc::not_found && where.find("domain") != std::string::npos)
    return "No such domain; add the domain first.";
  if (e.code == core::Errc::not_found) return "No such user or domain.";
  if (e.code == core::Errc::invalid) {
    if (const char* reason = address::reason_for_where(where)) {
      std::string what = where.rfind("domain", 0) == 0 ? "domain name" : "address";
      return "That is not a valid " + what + ": " + reason + ".";
    }
    return "That is not a valid name or address (e.g. example.org, bob@example.org).";
  }
  return explain(e);
}

// A name from the page that src/address refused, in the page's words: what was typed and
// what is wrong with it.
std::string page_words(const address::Error& e) {
  return address::explain(e) + ".";
}

class AppBackend final : public http::Backend {
 public:
  AppBackend(ServiceContext& context, const Settings& settings, HttpHooks hooks)
      : context_(context),
        settings_(settings),
        hooks_(std::move(hooks)),
        started_at_(core::unix_seconds(context.clock.now())) {}

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
      out.push_back({key, value, is_runtime_key(key), needs_restart(key)});
    return out;
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
    hash_then(std::move(password), [this, done](std::string hash) {
      write([hash](store::WriteTxn& txn) { return store::set_setting(txn, kAdminHashKey, hash); },
            done);
    });
  }

  void add_domain(std::string typed, std::string rule, http::Done done) override {
    auto name = address::canonical_domain(typed);
    if (!name) return done(page_words(name.error()));
    write(
        [name = *name, rule](store::WriteTxn& txn) -> core::Result<void> {
          auto added = store::add_domain(
              txn, name, dedup::parse_rule(rule).value_or(store::DedupRule::content));
          if (!added) return added.error();
          return {};
        },
        std::move(done));
  }
  void remove_domain(std::string typed, http::Done done) override {
    auto name = address::canonical_domain(typed);
    if (!name) return done(page_words(name.error()));
    write([name = *name](store::WriteTxn& txn) { return store::del_domain(txn, name); },
          std::move(done));
  }
  void set_domain_dedup(std::string typed, std::string rule, http::Done done) override {
    auto name = address::canonical_domain(typed);
    if (!name) return done(page_words(name.error()));
    write(
        [name = *name, rule](store::WriteTxn& txn) {
          return store::set_domain_dedup(
              txn, name, dedup::parse_rule(rule).value_or(store::DedupRule::content));
        },
        std::move(done));
  }

  void add_user(std::string typed, std::string password, http::Done done) override {
    auto mailbox = address::parse_mailbox(typed);
    if (!mailbox) return done(page_words(mailbox.error()));
    hash_then(std::move(password), [this, address = mailbox->key(), done](std::string hash) {
      write(
          [address, hash](store::WriteTxn& txn) -> core::Result<void> {
            auto added = store::add_user(txn, address, hash);
            if (!added) return added.error();
            return {};
          },
          done);
    });
  }
  void remove_user(std::string typed, http::Done done) override {
    auto mailbox = address::parse_mailbox(typed);
    if (!mailbox) return done(page_words(mailbox.error()));
    write(
        [address = mailbox->key()](store::WriteTxn& txn) { return store::del_user(txn, address); },
        std::move(done));
  }
  void set_user_password(std::string typed, std::string password, http::Done done) override {
    auto mailbox = address::parse_mailbox(typed);
    if (!mailbox) return done(page_words(mailbox.error()));
    hash_then(std::move(password), [this, address = mailbox->key(), done](std::string hash) {
      write([address,
             hash](store::WriteTxn& txn) { return store::set_password_hash(txn, address, hash); },
            done);
    });
  }

  void change_settings(std::vector<std::pair<std::string, std::string>> changes,
                       http::Done done) override {
    Settings next = settings_;
    for (const auto& [key, value] : changes) {
      if (!is_runtime_key(key))
        return done(key + " comes from the board profile and cannot be changed here.");
      if (auto applied = apply(next, key, value); !applied) return done(applied.error());
    }
    write(
        [changes](store::WriteTxn& txn) -> core::Result<void> {
          for (const auto& [key, value] : changes) {
            if (auto saved = store::set_setting(txn, key, value); !saved) return saved;
          }
          return {};
        },
        [this, next, done](core::Result<void, http::Problem> saved) {
          if (saved) {
            settings_ = next;
            settings_changed();
          }
          done(std::move(saved));
        });
  }

  void install_certificate(std::string cert, std::string key, http::Done done) override {
    auto outcome = std::make_shared<std::optional<core::Result<void>>>();
    context_.executor.submit(
        [outcome, dir = settings_.data_dir, cert = std::move(cert), key = std::move(key)] {
          outcome->emplace(tls::Credentials::install(dir, cert, key));
        },
        [outcome, done = std::move(done)] {
          if (**outcome) return done({});
          if ((*outcome)->error().code == core::Errc::invalid)
            return done(
                http::Problem("The certificate and key do not parse or do not belong together."));
          done("The certificate could not be saved: " + explain((*outcome)->error()));
        });
  }

 private:
  std::string admin_hash() {
    auto txn = context_.env.begin_read();
    if (!txn) return {};
    auto hash = store::get_setting(*txn, kAdminHashKey);
    return hash ? *hash : std::string();
  }

  // PBKDF2 on the pool, never on the loop (DESIGN.md).
  void hash_then(std::string password, std::function<void(std::string)> next) {
    auto hash = std::make_shared<std::string>();
    context_.executor.submit(
        [hash, password = std::move(password), iterations = settings_.pbkdf2_iterations] {
          *hash = store::hash_password(password, iterations);
        },
        [hash, next = std::move(next)] { next(std::move(*hash)); });
  }

  // One Writer job; a fatal store error also goes to the app, which stops.
  void write(std::function<core::Result<void>(store::WriteTxn&)> apply, http::Done done) {
    context_.writer.submit<bool>(
        [apply = std::move(apply)](store::WriteTxn& txn) -> core::Result<bool> {
          if (auto r = apply(txn); !r) return r.error();
          return true;
        },
        [this, done = std::move(done)](core::Result<bool> r) {
          if (r) return done({});
          if (r.error().code == core::Errc::fatal && context_.on_fatal)
            context_.on_fatal(r.error());
          done(problem(r.error()));
        });
  }

  void settings_changed() {
    if (hooks_.on_settings_changed) return hooks_.on_settings_changed();
    // serve()'s SIGHUP handler re-reads the saved settings and reconfigures
    // every service; a signal to ourselves reaches it through the loop.
    ::kill(::getpid(), SIGHUP);
  }

  ServiceContext& context_;
  Settings settings_;
  HttpHooks hooks_;
  std::int64_t started_at_;
  const http::Server* server_ = nullptr;
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
