// A Backend for the API tests: in-memory catalogue and settings, every change
// recorded as a line, completions held until the test releases them.
#pragma once

#include <algorithm>
#include <cctype>
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
  std::deque<std::function<void()>> pending_jobs;
  std::vector<std::string> calls;  // "add_user bob@example.org", ...
  std::string admin_password;      // empty: not set
  std::map<std::string, std::string> saved_settings{{"allow_duplicates", "no"},
                                                    {"smtp_port", "2525"}};
  std::vector<EventView> event_log;
  std::string configured_hostname = "mail.example.org";
  int next_token = 0;
  std::optional<LedgerCounts> ledger;
  std::vector<PendingRestart> restart_pending;  // what pending_restart() reports
  int restarts = 0;
  // Mailboxes: address -> password, and the messages (newest last; listed newest first).
  std::map<std::string, std::string> mailbox_passwords{{"bob@example.org", "bobs password"},
                                                       {"carol@example.org", "carols password"}};
  std::map<std::string, std::vector<MessageView>> mailbox_messages;

  void run_pending() {
    while (!pending_jobs.empty()) {
      auto job = std::move(pending_jobs.front());
      pending_jobs.pop_front();
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
    pending_jobs.push_back(
        [this, password, done] { done(!admin_password.empty() && password == admin_password); });
  }
  void set_admin_password(std::string password, Done done) override {
    calls.push_back("set_admin_password");
    pending_jobs.push_back([this, password, done] {
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
    pending_jobs.push_back([done] { done({}); });
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
  std::vector<PendingRestart> pending_restart() override { return restart_pending; }
  void restart() override {
    calls.push_back("restart");
    ++restarts;
  }
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  void verify_mailbox_password(std::string address, std::string password,
                               std::function<void(std::optional<std::string>)> done) override {
    calls.push_back("verify_mailbox " + address);
    pending_jobs.push_back([this, address = lower(address), password, done] {
      auto it = mailbox_passwords.find(address);
      done(it != mailbox_passwords.end() && it->second == password ? std::optional(address)
                                                                   : std::nullopt);
    });
  }
  core::Result<MailboxPage, Problem> mailbox_page(const std::string& address,
                                                  std::optional<std::uint32_t> before,
                                                  std::size_t limit) override {
    calls.push_back("mailbox_page " + address + " " +
                    (before ? std::to_string(*before) : std::string("-")) + " " +
                    std::to_string(limit));
    if (!mailbox_passwords.count(lower(address))) return Problem("No such mailbox or message.");
    const auto& all = mailbox_messages[lower(address)];
    MailboxPage page;
    page.address = lower(address);
    page.total = static_cast<std::uint32_t>(all.size());
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (before && it->uid >= *before) continue;
      if (page.messages.size() == limit) {
        page.next_before = page.messages.back().uid;
        break;
      }
      page.bytes += it->size;
      page.messages.push_back(*it);
    }
    return page;
  }
  void delete_messages(std::string address, std::vector<std::uint32_t> uids,
                       std::function<void(core::Result<std::uint32_t, Problem>)> done) override {
    std::string line = "delete_messages " + address;
    for (auto uid : uids) line += " " + std::to_string(uid);
    calls.push_back(line);
    pending_jobs.push_back([this, address = lower(address), uids, done] {
      auto& all = mailbox_messages[address];
      std::uint32_t n = 0;
      for (auto uid : uids) {
        auto it =
            std::find_if(all.begin(), all.end(), [uid](const auto& m) { return m.uid == uid; });
        if (it != all.end()) {
          all.erase(it);
          ++n;
        }
      }
      done(n);
    });
  }
  core::Result<MessageDownload, Problem> open_message(const std::string& address,
                                                      std::uint32_t uid) override {
    for (const auto& m : mailbox_messages[lower(address)]) {
      if (m.uid != uid) continue;
      std::string bytes = "Subject: " + m.summary.subject + "\r\n\r\n" + m.summary.preview;
      MessageDownload d{m.uidl, bytes.size(), nullptr};
      d.piece = [bytes](std::size_t i) -> std::optional<std::string> {
        return i == 0 ? bytes : std::string();
      };
      return d;
    }
    return Problem("No such mailbox or message.");
  }
};

}  // namespace postern::http::test
