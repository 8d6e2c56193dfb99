// SessionLink::start_tls: the one out-of-line part of the shared conversation glue.
#include "net/session_link.h"

namespace postern::net {

void SessionLink::start_tls(const tls::ServerConfig* config) {
  if (conn_ == nullptr || config == nullptr) return;
  if (auto started = conn_->start_tls(*config); !started) conn_->abort();
}

}  // namespace postern::net
