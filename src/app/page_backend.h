// The status page's http::Backend over the real store, Writer, executor and
// Settings. One class, its methods in two files by idea: page_backend.cpp
// (what the page shows: overview, lists, mailboxes) and page_backend_admin.cpp
// (what the owner changes: admin password, catalogue, settings, certificate).
//
// Loop thread only. Borrows `context`, which outlives it (serve() owns it).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/admin.h"
#include "app/http_mailbox.h"
#include "app/http_service.h"
#include "app/services.h"
#include "http/backend.h"
#include "http/server.h"

namespace postern::app {

// The admin layer's sentences as the page shows them: capitalised, with a period.
http::Problem page_sentence(std::string sentence);
http::Problem page_problem(const core::Error& e);  // explain(e) as a page sentence

// The admin layer's way to the store from the loop: hashing on the pool, one
// Writer job per change; a fatal store error also reaches the app, which stops.
class PageRunner final : public AdminRunner {
 public:
  explicit PageRunner(ServiceContext& context) : context_(context) {}
  void write(Job job, std::function<void(core::Result<void>)> done) override;
  void hash(std::string password, unsigned iterations,
            std::function<void(std::string)> done) override;
  std::int64_t now() override;

 private:
  ServiceContext& context_;
};

class PageBackend final : public http::Backend {
 public:
  PageBackend(ServiceContext& context, const Settings& settings, HttpHooks hooks);

  void set_settings(const Settings& settings) { settings_ = settings; }
  void set_server(const http::Server* server) { server_ = server; }

  // --- what the page shows (page_backend.cpp) ---
  http::Overview overview() override;
  core::Result<std::vector<http::DomainView>, http::Problem> domains() override;
  core::Result<std::vector<http::UserView>, http::Problem> users() override;
  core::Result<std::vector<http::EventView>, http::Problem> events(std::size_t limit) override;
  std::vector<http::SettingView> settings() override;
  std::string event_sentence(const http::EventView& event) override;
  std::string hostname() override { return settings_.hostname; }

  void verify_mailbox_password(std::string address, std::string password,
                               std::function<void(std::optional<std::string>)> done) override;
  core::Result<http::MailboxPage, http::Problem> mailbox_page(const std::string& address,
                                                              std::optional<std::uint32_t> before,
                                                              std::size_t limit) override;
  void delete_messages(
      std::string address, std::vector<std::uint32_t> uids,
      std::function<void(core::Result<std::uint32_t, http::Problem>)> done) override;
  core::Result<http::MessageDownload, http::Problem> open_message(const std::string& address,
                                                                  std::uint32_t uid) override;

  // --- what the owner changes (page_backend_admin.cpp) ---
  bool admin_password_set() override;
  std::string random_token() override;
  void verify_admin_password(std::string password, std::function<void(bool)> done) override;
  void set_admin_password(std::string password, http::Done done) override;

  void add_domain(std::string name, std::string rule, http::Done done) override;
  void remove_domain(std::string name, http::Done done) override;
  void set_domain_dedup(std::string name, std::string rule, http::Done done) override;
  void add_user(std::string address, std::string password, http::Done done) override;
  void remove_user(std::string address, http::Done done) override;
  void set_user_password(std::string address, std::string password, http::Done done) override;

  void change_settings(std::vector<std::pair<std::string, std::string>> changes,
                       http::Done done) override;
  void install_certificate(std::string cert, std::string key, http::Done done) override;
  std::vector<http::PendingRestart> pending_restart() override;
  void restart() override;

 private:
  std::string admin_hash();
  void settings_changed();

  ServiceContext& context_;
  Settings settings_;
  const Settings started_settings_;  // what the listeners were bound with
  HttpHooks hooks_;
  std::int64_t started_at_;
  PageRunner runner_;
  Admin admin_;  // borrows runner_ and settings_, declared before it
  const http::Server* server_ = nullptr;
  MailboxBrowser mailboxes_;
  bool certificate_installed_ = false;
};

}  // namespace postern::app
