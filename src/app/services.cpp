// The list of services serve() starts.
#include "app/services.h"

#include "app/collect_service.h"
#include "app/http_service.h"
#include "app/pop3_service.h"
#include "app/smtp_service.h"

namespace postern::app {

core::Result<void, std::string> start_services(ServiceContext& context, const Settings& settings,
                                               std::vector<std::unique_ptr<Service>>& out) {
  auto smtp = start_smtp(context, settings);
  if (!smtp) return smtp.error();
  out.push_back(std::move(*smtp));
  auto pop3 = start_pop3(context, settings);
  if (!pop3) return pop3.error();
  out.push_back(std::move(*pop3));
  // The page's Overview counts every service's connections; `out` outlives them.
  HttpHooks hooks;
  hooks.on_settings_changed = context.reload;
  hooks.links = context.links;
  hooks.loop_lag = context.loop_lag;
  hooks.connections = [&out] {
    std::vector<std::pair<std::string, std::uint64_t>> counts;
    for (const auto& service : out) counts.emplace_back(service->name(), service->connections());
    return counts;
  };
  auto collect = start_collect(context, settings, &hooks.collect);
  if (!collect) return collect.error();
  out.push_back(std::move(*collect));
  auto http = start_http(context, settings, std::move(hooks));
  if (!http) return http.error();
  out.push_back(std::move(*http));
  return {};
}

}  // namespace postern::app
