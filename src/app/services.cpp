// The list of services serve() starts.
#include "app/services.h"

#include "app/smtp_service.h"

namespace postern::app {

core::Result<void, std::string> start_services(ServiceContext& context, const Settings& settings,
                                               std::vector<std::unique_ptr<Service>>& out) {
  auto smtp = start_smtp(context, settings);
  if (!smtp) return smtp.error();
  out.push_back(std::move(*smtp));
  return {};
}

}  // namespace postern::app
