// The collected mailboxes' routes over a fake CollectBackend: access rules (session,
// CSRF), the account JSON (status in words, fingerprint, progress, never a password),
// the add form passed through as typed, and the actions' answers.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "api_harness.h"
#include "http/api_collect.h"

using namespace postern;
using http::Response;
using http::test::error_of;
using http::test::Harness;
using Json = nlohmann::json;

namespace {

struct FakeCollect final : http::CollectBackend {
  std::vector<http::CollectAccountView> accounts;
  http::CollectAddForm added;
  std::vector<std::string> calls;
  bool ok = true;

  core::Result<std::vector<http::CollectAccountView>, std::string> collect_accounts() override {
    return accounts;
  }
  void add_collect_account(http::CollectAddForm form, http::CollectAnswer done) override {
    added = std::move(form);
    calls.push_back("add");
    done(ok, ok ? "added collect account 1" : "give the POP3 server's host name or IP address");
  }
  void remove_collect_account(std::uint64_t id, http::CollectAnswer done) override {
    calls.push_back("remove " + std::to_string(id));
    done(ok, "removed");
  }
  void pin_collect_account(std::uint64_t id, std::string fp, http::CollectAnswer done) override {
    calls.push_back("pin " + std::to_string(id) + " " + fp);
    done(ok, "pinned");
  }
  void collect_now(std::uint64_t id, http::CollectAnswer done) override {
    calls.push_back("now " + std::to_string(id));
    done(ok, ok ? "collecting now" : "a run is already under way");
  }
};

struct CollectHarness {
  FakeCollect fake;
  Harness h{"correct horse"};
  CollectHarness() {
    h.api->set_collect(&fake);
    h.log_in_as_admin();
  }
  Response post(const Json& body) { return h.must(h.request("POST", "/api/collect", body.dump())); }
};

}  // namespace

TEST_CASE("collect routes: a session for reading, the CSRF token for changing") {
  CollectHarness c;
  const std::string csrf = c.h.csrf;
  c.h.csrf.clear();
  CHECK(c.post(Json{{"action", "now"}, {"id", 1}}).status == 403);
  CHECK(c.fake.calls.empty());
  c.h.cookie.clear();
  CHECK(c.h.must(c.h.request("GET", "/api/collect")).status == 401);
  c.h.csrf = csrf;
}

TEST_CASE("collect routes: without a collector the page is told it is unavailable") {
  Harness h{"correct horse"};
  h.log_in_as_admin();
  Response r = h.must(h.request("GET", "/api/collect"));
  CHECK(r.status == 200);
  CHECK(Json::parse(r.body)["available"] == false);
  CHECK(h.must(h.request("POST", "/api/collect", R"({"action":"now","id":1})")).status == 503);
}

TEST_CASE("collect routes: accounts with their status in words, never a password") {
  CollectHarness c;
  http::CollectAccountView a;
  a.id = 3;
  a.mailbox = "bob@example.org";
  a.host = "pop.example.net";
  a.port = 995;
  a.tls = "pop3s";
  a.user = "bob";
  a.keep = "7d";
  a.error = "certificate not trusted: fingerprint ab12";
  a.fingerprint = std::string(64, 'a');
  a.mails = 12;
  a.running = true;
  a.run_fetched = 5;
  a.run_to_fetch = 9;
  a.run_bytes = 6100000;
  c.fake.accounts.push_back(a);
  Response r = c.h.must(c.h.request("GET", "/api/collect"));
  REQUIRE(r.status == 200);
  CHECK(r.body.find("password") == std::string::npos);
  Json j = Json::parse(r.body);
  REQUIRE(j["accounts"].size() == 1);
  const Json& got = j["accounts"][0];
  CHECK(got["id"] == 3);
  CHECK(got["error"] == a.error);
  CHECK(got["fingerprint"] == a.fingerprint);
  CHECK(got["keep"] == "7d");
  CHECK(got["pinned"] == false);
  CHECK(got["progress"]["fetched"] == 5);
  CHECK(got["progress"]["to_fetch"] == 9);
  CHECK(got["progress"]["bytes"] == 6100000);
}

TEST_CASE("collect routes: the add form goes through as typed, numbers as text") {
  CollectHarness c;
  Response r = c.post(Json{{"action", "add"},
                           {"mailbox", "bob@example.org"},
                           {"host", "pop.example.net"},
                           {"port", 995},
                           {"tls", "plain"},
                           {"allow_plain", true},
                           {"user", "bob"},
                           {"password", "s3cret"},
                           {"interval", "600"},
                           {"keep", "3d"},
                           {"pin", ""}});
  CHECK(r.status == 200);
  CHECK(Json::parse(r.body)["message"] == "added collect account 1");
  CHECK(r.body.find("s3cret") == std::string::npos);
  CHECK(c.fake.added.port == "995");
  CHECK(c.fake.added.tls == "plain");
  CHECK(c.fake.added.allow_plain);
  CHECK(c.fake.added.password == "s3cret");
  CHECK(c.fake.added.keep == "3d");
  CHECK(c.fake.added.interval == "600");
  c.fake.ok = false;
  r = c.post(Json{{"action", "add"}, {"host", ""}});
  CHECK(r.status == 422);
  CHECK(error_of(r) == "give the POP3 server's host name or IP address");
  CHECK_FALSE(c.fake.added.allow_plain);  // absent: not allowed
}

TEST_CASE("collect routes: now, remove and pin name the account by id") {
  CollectHarness c;
  CHECK(c.post(Json{{"action", "now"}, {"id", 4}}).status == 200);
  CHECK(c.post(Json{{"action", "remove"}, {"id", 5}}).status == 200);
  CHECK(c.post(Json{{"action", "pin"}, {"id", 6}, {"fingerprint", "ab:cd"}}).status == 200);
  CHECK(c.fake.calls == std::vector<std::string>{"now 4", "remove 5", "pin 6 ab:cd"});
  CHECK(c.post(Json{{"action", "now"}}).status == 400);
  CHECK(c.post(Json{{"action", "now"}, {"id", "4"}}).status == 400);
  CHECK(c.post(Json{{"action", "explode"}, {"id", 4}}).status == 400);
  c.fake.ok = false;
  Response r = c.post(Json{{"action", "now"}, {"id", 4}});
  CHECK(r.status == 422);
  CHECK(error_of(r) == "a run is already under way");
}
