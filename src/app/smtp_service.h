// The SMTP service as app sees it: Settings -> smtp::Limits, and the listener.
#pragma once

#include <memory>

#include "app/service.h"
#include "app/services.h"

namespace postern::app {

core::Result<std::unique_ptr<Service>, std::string> start_smtp(ServiceContext& context,
                                                               const Settings& settings);

}  // namespace postern::app
