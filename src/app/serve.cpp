// The appliance: one loop owning the store writer, TLS and the services.
#include "app/serve.h"

#include <uv.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "app/config.h"
#include "app/disk_check.h"
#include "app/housekeeping.h"
#include "app/link_service.h"
#include "app/loop_lag.h"
#include "app/privileges.h"
#include "app/service.h"
#include "app/services.h"
#include "app/signals.h"
#include "app/syslog_sink.h"
#include "app/tls_renewal.h"
#include "core/log.h"
#include "net/read_budget.h"
#include "net/uv_executor.h"
#include "store/credential_cache.h"
#include "store/writer.h"
#include "tls/credentials.h"
#include "tls/server_config.h"

namespace postern::app {
namespace {

store::CredentialCacheLimits credential_cache_limits(const Settings& s) {
  return {s.auth_cache_entries, s.auth_cache_ttl};
}

// Members in dependency order: later ones point into earlier ones, and are
// destroyed first.
class Appliance {
 public:
  explicit Appliance(Settings settings) : settings_(std::move(settings)) { uv_loop_init(&loop_); }

  ~Appliance() {
    services_.clear();
    tls_renewal_.reset();
    loop_lag_.reset();
    read_budget_.reset();
    links_.reset();
    signals_.reset();
    housekeeping_.reset();
    // Let the writer's last batch and every close callback finish; the writer
    // may only be destroyed idle. Then the loop must be empty.
    uv_run(&loop_, UV_RUN_DEFAULT);
    writer_.reset();
    if (uv_loop_close(&loop_) != 0) POSTERN_LOG_ERROR("app event=loop-not-empty-at-exit");
  }

  int run() {
    // Work inside the data folder with relative paths: after the privilege drop
    // its parents (e.g. /root) need not be searchable by run_as_user.
    const std::string data_dir = settings_.data_dir;
    std::error_code made;
    std::filesystem::create_directories(data_dir, made);
    if (::chdir(data_dir.c_str()) != 0) {
      std::fprintf(stderr, "postern: cannot enter the data folder %s: %s\n", data_dir.c_str(),
                   std::strerror(errno));
      return 1;
    }
    settings_.data_dir.assign(1, '.');  // assign(): GCC 12 -Wrestrict false positive on = "."
    auto env = open_store(settings_, /*recover=*/true);
    if (!env) {
      std::fprintf(stderr, "postern: %s\n", env.error().c_str());
      return 1;
    }
    env_ = std::move(*env);
    started_ = settings_;  // what the listeners are bound with, until a restart
    executor_ = std::make_unique<net::UvExecutor>(&loop_);
    writer_ = std::make_unique<store::Writer>(*env_, *executor_);

    auto random = tls::Random::create("postern-credentials");
    if (!random) return fatal("cannot seed the random generator", random.error());
    const tls::Identity identity = tls_identity(settings_);
    auto credentials =
        tls::Credentials::load_or_create(settings_.data_dir, identity, clock_, **random);
    if (!credentials)
      return fatal("cannot load or create the TLS key and certificate", credentials.error());
    if ((*credentials)->renewed() != tls::Renewal::none) {
      POSTERN_LOG_INFO("app event=tls-certificate-renewed reason=%s",
                       tls::to_string((*credentials)->renewed()));
    }
    tls::ServerOptions tls_options;
    tls_options.ticket_lifetime = settings_.tls_ticket_lifetime;
    auto tls_config = tls::ServerConfig::create(*credentials, tls_options);
    if (!tls_config) return fatal("cannot set up TLS", tls_config.error());
    tls_config_ = std::move(*tls_config);
    POSTERN_LOG_INFO("app event=tls-ready self_signed=%d prefer=%s tickets=%d",
                     (*credentials)->self_made() ? 1 : 0,
                     tls_config_->prefers_chacha() ? "chacha20-poly1305" : "aes-gcm",
                     tls_config_->tickets() ? 1 : 0);
    tls_renewal_ = std::make_unique<TlsRenewal>(&loop_, *executor_, clock_, *tls_config_,
                                                settings_.data_dir, identity);
    auto credential_cache = store::CredentialCache::create(credential_cache_limits(settings_));
    if (!credential_cache) return fatal("cannot set up the login cache", credential_cache.error());
    credential_cache_ = std::move(*credential_cache);

    auto links = LinkService::start(
        {&loop_, *env_, *writer_, clock_, [this](const core::Error& e) { on_fatal(e); }},
        settings_);
    if (!links) {
      std::fprintf(stderr, "postern: %s\n", links.error().c_str());
      return 1;
    }
    links_ = std::move(*links);
    loop_lag_ = std::make_unique<LoopLag>(&loop_);
    read_budget_ = std::make_unique<net::ReadBudget>(&loop_);

    ServiceContext context{&loop_,
                           *env_,
                           *writer_,
                           *executor_,
                           *tls_config_,
                           clock_,
                           [this](const core::Error& e) { on_fatal(e); },
                           [this] { reload(); },
                           links_.get(),
                           [this](std::string peer) {
                             if (links_) links_->on_broken_session(peer);
                           },
                           credential_cache_.get(),
                           [this] { restart(); },
                           loop_lag_.get()};
    auto started = start_services(context, settings_, services_);
    if (!started) {
      std::fprintf(stderr, "postern: %s\n", started.error().c_str());
      return 1;
    }
    if (auto dropped = drop_privileges(settings_.run_as_user); !dropped) {
      std::fprintf(stderr, "postern: %s\n", dropped.error().c_str());
      return 1;
    }
    housekeeping_ = std::make_unique<Housekeeping>(&loop_, *writer_, clock_, settings_);
    housekeeping_->run_now();
    tls_renewal_->check_now();
    report_disk_check(*writer_, clock_);
    signals_ = std::make_unique<Signals>(&loop_, [this](int signum) { on_signal(signum); });

    std::string ready = "postern ready board=" + settings_.board + " data=" + data_dir;
    for (const auto& service : services_) ready += service->ready_fields();
    // One "ready" line on stdout: tests and supervisors read the bound ports from it.
    std::printf("%s\n", ready.c_str());
    std::fflush(stdout);
    POSTERN_LOG_INFO("app event=ready board=%s", settings_.board.c_str());

    uv_run(&loop_, UV_RUN_DEFAULT);
    return exit_code_;
  }

 private:
  int fatal(const char* what, const core::Error& error) {
    std::fprintf(stderr, "postern: %s: %s\n", what, explain(error).c_str());
    return 1;
  }

  void on_signal(int signum) {
    if (signum == SIGHUP) {
      reload();
      return;
    }
    POSTERN_LOG_INFO("app event=stopping signal=%d", signum);
    stop();
  }

  // SIGHUP or a change from the page. The log line says what the services now
  // use and which saved values wait for a restart (ports, connection limits).
  void reload() {
    const Settings before = settings_;
    auto reloaded = apply_saved_settings(*env_, settings_);
    if (!reloaded) POSTERN_LOG_WARN("app event=reload-warning %s", reloaded.error().c_str());
    for (const auto& service : services_) service->reconfigure(settings_);
    if (links_) links_->reconfigure(settings_);
    credential_cache_->set_limits(credential_cache_limits(settings_));
    std::string applied;
    for (const std::string& key : changed_keys(before, settings_)) {
      if (applies_live(key)) applied += (applied.empty() ? "" : ",") + key;
    }
    std::string waiting;
    for (const std::string& key : waiting_for_restart(started_, settings_))
      waiting += (waiting.empty() ? "" : ",") + key;
    POSTERN_LOG_INFO("app event=reloaded applied=%s waiting-for-restart=%s",
                     applied.empty() ? "none" : applied.c_str(),
                     waiting.empty() ? "none" : waiting.c_str());
  }

  // DESIGN.md "When things fail": a commit whose outcome is unknown latches the
  // writer; we stop and exit non-zero so the supervisor restarts us on a clean env.
  void on_fatal(const core::Error& error) {
    if (exit_code_ != 0) return;
    POSTERN_LOG_ERROR("app event=store-fatal reason=%s", explain(error).c_str());
    exit_code_ = 3;
    stop();
  }

  // The page's "restart now": the SIGTERM path with a status the supervisor restarts on.
  void restart() {
    if (exit_code_ != 0) return;
    POSTERN_LOG_WARN("app event=restarting reason=page-request exit=%d", kExitRestart);
    exit_code_ = kExitRestart;
    stop();
  }

  void stop() {
    for (const auto& service : services_) service->stop();
    if (links_) links_->stop();
    signals_.reset();
    housekeeping_.reset();
    tls_renewal_.reset();
    // The loop ends when the writer's last batch and every connection have closed.
  }

  Settings settings_;
  Settings started_;  // settings_ when the listeners were bound
  core::SystemClock clock_;
  uv_loop_t loop_{};
  std::unique_ptr<store::Env> env_;
  std::unique_ptr<net::UvExecutor> executor_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<tls::ServerConfig> tls_config_;
  std::unique_ptr<TlsRenewal> tls_renewal_;
  std::unique_ptr<store::CredentialCache> credential_cache_;  // before services_: they borrow it
  std::unique_ptr<LinkService> links_;                        // before services_: they borrow it
  std::unique_ptr<LoopLag> loop_lag_;                         // before services_: the page reads it
  std::unique_ptr<net::ReadBudget> read_budget_;  // every connection of the loop honours it
  std::vector<std::unique_ptr<Service>> services_;
  std::unique_ptr<Housekeeping> housekeeping_;
  std::unique_ptr<Signals> signals_;
  int exit_code_ = 0;
};

}  // namespace

int serve(Settings settings) {
  // A write to a peer that reset its connection must be an error code, not a kill.
  std::signal(SIGPIPE, SIG_IGN);
  enable_syslog();
  Appliance appliance(std::move(settings));
  return appliance.run();
}

}  // namespace postern::app
