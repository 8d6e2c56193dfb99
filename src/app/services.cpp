// The list of services serve() starts.
#include "app/services.h"

namespace postern::app {

core::Result<void, std::string> start_services(ServiceContext& context, const Settings& settings,
                                               std::vector<std::unique_ptr<Service>>& out) {
  (void)context;
  (void)settings;
  (void)out;
  return {};
}

}  // namespace postern::app
