// The status page's collected mailboxes (http::CollectBackend) over the
// serve loop's Collector and the collect verbs (app/admin_collect.h).
#pragma once

#include <map>

#include "app/admin_collect.h"
#include "app/services.h"
#include "collect/collector.h"
#include "http/api_collect.h"

namespace postern::app {

// Loop thread only. Borrows the context and the collector, which outlive it.
class CollectPage final : public http::CollectBackend {
 public:
  CollectPage(ServiceContext& context, collect::Collector& collector);
  ~CollectPage() override;

  // The run context's progress hook: the page shows runs under way.
  void on_progress(const store::CollectAccount& account, const collect::Progress& progress) {
    progress_[account.id] = progress;
  }

  core::Result<std::vector<http::CollectAccountView>, std::string> collect_accounts() override;
  void add_collect_account(http::CollectAddForm form, http::CollectAnswer done) override;
  void remove_collect_account(std::uint64_t id, http::CollectAnswer done) override;
  void pin_collect_account(std::uint64_t id, std::string fingerprint,
                           http::CollectAnswer done) override;
  void collect_now(std::uint64_t id, http::CollectAnswer done) override;

 private:
  class Runner;
  bool locked_elsewhere(std::uint64_t id) const;

  ServiceContext& context_;
  collect::Collector& collector_;
  std::unique_ptr<Runner> runner_;
  CollectAdmin admin_;
  std::map<std::uint64_t, collect::Progress> progress_;
};

}  // namespace postern::app
