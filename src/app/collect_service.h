// The collector as a service of `postern serve` (src/collect/collector.h), and
// the RunContext both it and `postern collect now` build from the Settings.
#pragma once

#include <memory>

#include "app/service.h"
#include "app/services.h"
#include "collect/run.h"

namespace postern::http {
struct CollectBackend;
}

namespace postern::app {

// The CA bundle: $SSL_CERT_FILE (the OpenSSL convention) or Debian's bundle.
std::string collect_ca_file();
// Fills the settings-derived fields of a RunContext.
void fill_run_context(collect::RunContext& context, const Settings& settings);

// Null with a reason when the key file cannot be read or made. `page` (may be
// null) receives the status page's backend, owned by the service.
core::Result<std::unique_ptr<Service>, std::string> start_collect(
    ServiceContext& context, const Settings& settings, http::CollectBackend** page = nullptr);

}  // namespace postern::app
