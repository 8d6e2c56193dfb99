// app::ServerService<Server>: a session protocol's server (smtp::Server, pop3::Server) as
// serve() sees it: its ports on the ready line, its connection count, SIGHUP's new
// settings, stop. What differs per protocol is what start_smtp()/start_pop3() pass in:
// the ready line's field names and what a reconfigure changes.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/service.h"
#include "app/settings.h"

namespace postern::app {

// Server: sessions() (a net::SessionServer) and stop(). Loop thread only.
template <class Server>
class ServerService final : public Service {
 public:
  // New limits (and whatever else the protocol takes live) for the sessions to come.
  using Reconfigure = std::function<void(Server& server, const Settings& settings)>;

  // `port_fields`: the ready line's name for each of the server's listeners, in the order
  // it opened them (" pop3=1110 pop3s=1995"); a listener it did not open shows port 0.
  ServerService(std::string name, std::vector<std::string> port_fields,
                std::unique_ptr<Server> server, Reconfigure reconfigure)
      : name_(std::move(name)),
        port_fields_(std::move(port_fields)),
        server_(std::move(server)),
        reconfigure_(std::move(reconfigure)) {}

  std::string ready_fields() const override {
    std::string fields;
    for (std::size_t i = 0; i < port_fields_.size(); ++i) {
      fields += " " + port_fields_[i] + "=" + std::to_string(server_->sessions().port(i));
    }
    return fields;
  }
  std::string name() const override { return name_; }
  std::size_t connections() const override { return server_->sessions().connections(); }
  void reconfigure(const Settings& settings) override { reconfigure_(*server_, settings); }
  void stop() override { server_->stop(); }

 private:
  std::string name_;
  std::vector<std::string> port_fields_;
  std::unique_ptr<Server> server_;
  Reconfigure reconfigure_;
};

}  // namespace postern::app
