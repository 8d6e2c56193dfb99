// A Backend for the API tests: in-memory catalogue and settings, every change
// recorded as a line, completions held until the test releases them.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http/backend.h"

namespace postern::http::test {

class FakeBackend final : public Backend {
 public:
  // Completions (hashing, store writes) wait here until run_pending().
  std::deque<std::function<void()>> pending;
  std::vector<std::string> calls;  // "add_user bob@example.org", ...
  std::string admin_password;      // empty: not set
  std::map<std::string, std::string> saved_settings{{"allow_duplicates", "no"},
                                                    {"smtp_port", "2525"}};
  std::vector<EventView> event_log;
  std::string configured_hostname = "mail.example.org";
  int next_token = 0;
  std::optional<LedgerCounts> ledger;

  void run_pending() {
    while (!pending.empty()) {
      auto job = std::move(pending.front());
      pending.pop_front();
      job();
    }
  }

  Overview overview() override {
    Overview o;
    o.version = "0.1.0";
    o.board = "host";
    o.started_at = 1000;
    o.now = 1060;
    o.connections = {{"smtp", 2}, {"http", 1}};
    o.received_today = 3;
    o.ledger = ledger;
    return o;
  }
  core::Result<std::vector<DomainView>, Problem> domains() override {
    return std::vector<DomainView>{{"example.org", "content"}};
  }
  core::Result<std::vector<UserView>, Problem> users() override {
    return std::vector<UserView>{{"bob@example.org", 2, 300, 0}};
  }
  core::Result<std::vector<EventView>, Problem> events(std::size_t) override { return event_log; }
  std::vector<SettingView> settings() override {
    std::vector<SettingView> out;
    for (const auto& [k, v] : saved_settings) out.push_back({k, v, true, k == "smtp_port"});
    return out;
  }
  std::string hostname() override { return configured_hostname; }
  bool admin_password_set() override { return !admin_password.empty(); }
  std::string random_token() override {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%032x", ++next_token);
    return buf;
  }
  void verify_admin_password(std::string password, std::function<void(bool)> done) override {
    calls.push_back("verify");
    pending.push_back(
        [this, password, done] { done(!admin_password.empty() && password == admin_password); });
  }
  void set_admin_password(std::string password, Done done) override {
    calls.push_back("set_admin_password");
    pending.push_back([this, password, done] {
      admin_password = password;
      done({});
    });
  }
  void add_domain(std::string name, std::string rule, Done done) override {
    calls.push_back("add_domain " + name + " " + rule);
    done({});
  }
  void remove_domain(std::string name, Done done) override {
    calls.push_back("remove_domain " + name);
    done(Problem("the domain still has users or aliases: remove them first"));
  }
  void set_domain_dedup(std::string name, std::string rule, Done done) override {
    calls.push_back("set_domain_dedup " + name + " " + rule);
    done({});
  }
  void add_user(std::string address, std::string, Done done) override {
    calls.push_back("add_user " + address);
    pending.push_back([done] { done({}); });
  }
  void remove_user(std::string address, Done done) override {
    calls.push_back("remove_user " + address);
    done({});
  }
  void set_user_password(std::string address, std::string, Done done) override {
    calls.push_back("set_user_password " + address);
    done({});
  }
  void change_settings(std::vector<std::pair<std::string, std::string>> changes,
                       Done done) override {
    std::string line = "change_settings";
    for (const auto& [k, v] : changes) {
      line += " " + k + "=" + v;
      if (!saved_settings.count(k)) {
        calls.push_back(line);
        done(Problem("unknown setting '" + k + "'"));
        return;
      }
    }
    for (const auto& [k, v] : changes) saved_settings[k] = v;
    calls.push_back(line);
    done({});
  }
  void install_certificate(std::string, std::string, Done done) override {
    calls.push_back("install_certificate");
    done({});
  }
};

}  // namespace postern::http::test
