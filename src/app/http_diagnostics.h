// The status page's link diagnostics over the serve loop's LinkService:
// diag's result types turned into the page's views (http never includes diag).
#pragma once

#include "app/link_service.h"
#include "http/diagnostics.h"

namespace postern::app {

// Borrows `links`, which outlives it. Loop thread only.
class AppDiagnostics final : public http::Diagnostics {
 public:
  explicit AppDiagnostics(LinkService& links) : links_(links) {}

  core::Result<std::unique_ptr<http::TraceRun>, http::TraceRefusal> start_trace(
      std::string host, http::TraceCallbacks callbacks) override;
  core::Result<http::LinkReport, http::Problem> links(std::int64_t since_ms, std::size_t max_points,
                                                      std::size_t max_series) override;

 private:
  LinkService& links_;
};

}  // namespace postern::app
