// The list of services serve() starts.
#include "app/services.h"

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
  return {};
}

}  // namespace postern::app
