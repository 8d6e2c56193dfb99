// Wiring the collector into serve(): a Service with no port.
#include "app/collect_service.h"

#include <cstdlib>

#include "app/collect_page.h"
#include "app/config.h"
#include "collect/clock_override.h"
#include "collect/collector.h"
#include "store/sealed.h"

namespace postern::app {
namespace {

// Every few seconds: cheap (one short read txn) and quick to notice a new account.
constexpr std::chrono::seconds kTick{2};

class CollectService final : public Service {
 public:
  CollectService(ServiceContext& context, const Settings& settings, store::SealKey key)
      : clock_(context.clock),
        run_context_(context.loop, context.env, context.writer, context.executor, clock_) {
    run_context_.dedup_settings = [this] { return dedup_; };
    fill_run_context(run_context_, settings);
    reconfigure(settings);
    collector_ = std::make_unique<collect::Collector>(run_context_, key);
    page_ = std::make_unique<CollectPage>(context, *collector_);
    run_context_.progress = [this](const store::CollectAccount& a, const collect::Progress& p) {
      page_->on_progress(a, p);
    };
    collector_->start(kTick);
  }
  http::CollectBackend* page() { return page_.get(); }
  std::string ready_fields() const override { return ""; }
  std::string name() const override { return "collect"; }
  std::size_t connections() const override { return collector_ ? collector_->active() : 0; }
  void reconfigure(const Settings& s) override {
    fill_run_context(run_context_, s);
    dedup_.allow_duplicates = s.allow_duplicates;
    dedup_.window = s.dedup_window;
  }
  void stop() override {
    if (collector_) collector_->stop();
  }

 private:
  collect::CollectClock clock_;  // the system clock unless a test moves it
  collect::RunContext run_context_;
  dedup::Settings dedup_;
  std::unique_ptr<collect::Collector> collector_;
  std::unique_ptr<CollectPage> page_;  // borrows collector_
};

}  // namespace

std::string collect_ca_file() {
  const char* env = std::getenv("SSL_CERT_FILE");
  return env != nullptr && *env != '\0' ? env : "/etc/ssl/certs/ca-certificates.crt";
}

void fill_run_context(collect::RunContext& context, const Settings& settings) {
  context.max_message_bytes = settings.max_message_bytes;
  context.local_name = settings.hostname;
  context.ca_file = collect_ca_file();
}

core::Result<std::unique_ptr<Service>, std::string> start_collect(ServiceContext& context,
                                                                  const Settings& settings,
                                                                  http::CollectBackend** page) {
  auto key = store::load_or_create_seal_key(context.env.options().data_dir);
  if (!key) return "collect: cannot use the key file collect.key: " + explain(key.error());
  auto service = std::make_unique<CollectService>(context, settings, *key);
  if (page != nullptr) *page = service->page();
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace postern::app
