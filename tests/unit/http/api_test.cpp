// Api over a fake backend: routing, assets, setup, login throttle, sessions,
// CSRF, the Host check and input validation.
#include "http/api.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <optional>

#include "api_harness.h"

using namespace postern;
using http::Request;
using http::Response;
using http::test::error_of;
using http::test::Harness;
using Json = nlohmann::json;

TEST_CASE("The page is served gzip-compressed with an ETag, and revalidation answers 304") {
  Harness h("correct horse");
  Request r = h.request("GET", "/");
  r.headers.emplace_back("accept-encoding", "gzip, deflate, br");
  Response page = h.must(r);
  CHECK(page.status == 200);
  CHECK(*page.header("Content-Encoding") == "gzip");
  CHECK(page.body.substr(0, 2) == "\x1f\x8b");
  CHECK(page.header("Content-Security-Policy") != nullptr);
  const std::string etag = *page.header("ETag");
  CHECK(*page.header("Cache-Control") == "no-cache");

  // The page itself is also kept raw: plain curl (no Accept-Encoding) and wget or
  // urllib ("identity") read HTML, with the same ETag.
  for (const char* coding : {"", "identity"}) {
    CAPTURE(coding);
    Request plain = h.request("GET", "/");
    if (*coding != '\0') plain.headers.emplace_back("accept-encoding", coding);
    Response raw = h.must(plain);
    CHECK(raw.status == 200);
    CHECK(raw.header("Content-Encoding") == nullptr);
    CHECK(raw.body.rfind("<!doctype html>", 0) == 0);
    CHECK(*raw.header("ETag") == etag);
    CHECK(*raw.header("Vary") == "Accept-Encoding");
  }
  // RFC 9110 §12.5.3: no Accept-Encoding accepts any coding: a script comes gzipped.
  Response any = h.must(h.request("GET", "/app.js"));
  CHECK(any.status == 200);
  CHECK(*any.header("Content-Encoding") == "gzip");

  Request again = h.request("GET", "/");
  again.headers.emplace_back("if-none-match", etag);
  Response not_modified = h.must(again);
  CHECK(not_modified.status == 304);
  CHECK(not_modified.body.empty());

  CHECK(h.must(h.request("GET", "/app.js")).status == 200);
  CHECK(h.must(h.request("GET", "/style.css")).status == 200);
  CHECK(h.must(h.request("GET", "/setup")).status == 200);
  CHECK(h.must(h.request("HEAD", "/")).status == 200);
}

TEST_CASE("A client that refuses gzip gets 406 and a hint for a script: it is kept gzipped only") {
  Harness h("correct horse");
  // wget and Python's urllib send "identity"; the others exclude gzip explicitly.
  for (const char* refusing : {"identity", "", "gzip;q=0, identity", "br, deflate", "*;q=0",
                               "x-gzip; q=0.000", "gzip;q=0, *"}) {
    CAPTURE(refusing);
    Request r = h.request("GET", "/app.js");
    r.headers.emplace_back("accept-encoding", refusing);
    Response refused = h.must(r);
    CHECK(refused.status == 406);
    CHECK(refused.header("Content-Encoding") == nullptr);
    CHECK(*refused.header("Content-Type") == "text/plain; charset=utf-8");
    CHECK(*refused.header("Vary") == "Accept-Encoding");
    CHECK(refused.body.find("--compressed") != std::string::npos);
  }
  for (const char* accepting :
       {"gzip", "GZIP;q=0.5", "x-gzip", "*", "br, *;q=0.1", "deflate, gzip;q=1.0"}) {
    CAPTURE(accepting);
    Request r = h.request("GET", "/app.js");
    r.headers.emplace_back("accept-encoding", accepting);
    Response page = h.must(r);
    CHECK(page.status == 200);
    CHECK(*page.header("Content-Encoding") == "gzip");
    CHECK(page.body.substr(0, 2) == "\x1f\x8b");
  }
}

TEST_CASE("The whole page is under 16 KB on the wire") {
  Harness h("correct horse");
  std::size_t total = 0;
  for (const char* path : {"/", "/app.js", "/style.css"}) {
    Request r = h.request("GET", path);
    r.headers.emplace_back("accept-encoding", "gzip");
    total += h.must(r).body.size();
  }
  CHECK(total < 16 * 1024);  // 13.1 KB with the mailbox view; no framework, no CDN
}

TEST_CASE("Unknown paths are 404 and a wrong method on a known path is 405") {
  Harness h("correct horse");
  CHECK(h.must(h.request("GET", "/nope")).status == 404);
  CHECK(h.must(h.request("GET", "/api/nope")).status == 404);
  CHECK(h.must(h.request("DELETE", "/api/users")).status == 405);
  CHECK(h.must(h.request("GET", "/api/login")).status == 405);
}

TEST_CASE("A rebinding Host is refused with 421 before anything else") {
  Harness h("correct horse");
  for (std::string host : {"evil.example.net:8080", "mail.example.org:9999"}) {
    Request r = h.request("GET", "/");
    r.headers[0].second = host;
    CHECK(h.must(r).status == 421);
  }
  Request ours = h.request("GET", "/");
  ours.headers[0].second = "mail.example.org:8080";
  CHECK(h.must(ours).status == 200);
}

TEST_CASE("The API needs a session: 401 without one") {
  Harness h("correct horse");
  for (const char* path : {"/api/status", "/api/mailboxes", "/api/settings"})
    CHECK(h.must(h.request("GET", path)).status == 401);
  h.csrf = "x";
  CHECK(h.must(h.request("POST", "/api/users", R"({"action":"remove","address":"a@b"})")).status ==
        401);
  CHECK(h.backend.calls.empty());
  h.cookie = "00000000000000000000000000000001";  // a guess, never issued
  CHECK(h.must(h.request("GET", "/api/status")).status == 401);
}

TEST_CASE("First start: the setup token sets the admin password once and logs in") {
  Harness h;
  REQUIRE(h.api->setup_token().has_value());
  const std::string token = *h.api->setup_token();
  Json session = Json::parse(h.must(h.request("GET", "/api/session")).body);
  CHECK(session["setup_required"] == true);
  CHECK(h.must(h.request("POST", "/api/login", R"({"password":"whatever12"})")).status == 409);

  Response wrong =
      h.must(h.request("POST", "/api/setup", R"({"token":"0123","password":"long enough pw"})"));
  CHECK(wrong.status == 403);
  Response short_pw =
      h.must(h.request("POST", "/api/setup", Json{{"token", token}, {"password", "short"}}.dump()));
  CHECK(short_pw.status == 422);
  CHECK(error_of(short_pw) == "Choose a password of at least 10 characters.");

  Response ok = h.must(h.request("POST", "/api/setup",
                                 Json{{"token", token}, {"password", "correct horse"}}.dump()));
  CHECK(ok.status == 200);
  CHECK(ok.header("Set-Cookie")->find("HttpOnly; SameSite=Strict") != std::string::npos);
  CHECK(ok.header("Set-Cookie")->find("Secure") == std::string::npos);  // plain HTTP here
  CHECK(h.backend.admin_password == "correct horse");
  CHECK_FALSE(h.api->setup_token().has_value());

  Response again = h.must(h.request(
      "POST", "/api/setup", Json{{"token", token}, {"password", "another password"}}.dump()));
  CHECK(again.status == 409);
  CHECK(h.backend.admin_password == "correct horse");
}

TEST_CASE("A second setup request while the first is saving is refused") {
  Harness h;
  const std::string body =
      Json{{"token", *h.api->setup_token()}, {"password", "0123456789"}}.dump();
  auto first = h.send(h.request("POST", "/api/setup", body), /*run=*/false);
  CHECK_FALSE(first.has_value());
  auto second = h.send(h.request("POST", "/api/setup", body), /*run=*/false);
  REQUIRE(second.has_value());
  CHECK(second->status == 409);
  h.backend.run_pending();
  CHECK(h.responses == 2);
}

TEST_CASE("Over HTTPS the session cookie is Secure") {
  Harness h("correct horse");
  h.context.secure = true;
  Response r = h.must(h.request("POST", "/api/login", R"({"password":"correct horse"})"));
  REQUIRE(r.status == 200);
  CHECK(r.header("Set-Cookie")->find("; Secure") != std::string::npos);
}

TEST_CASE("Failed logins are throttled per IP with a growing delay") {
  Harness h("correct horse");
  auto attempt = [&](const char* password) {
    return h.must(h.request("POST", "/api/login", Json{{"password", password}}.dump()));
  };
  CHECK(attempt("wrong one").status == 401);  // the first failure is free
  CHECK(attempt("wrong two").status == 401);  // now a 1 s wait
  Response throttled = attempt("correct horse");
  CHECK(throttled.status == 429);
  CHECK(*throttled.header("Retry-After") == "1");
  std::size_t verifies = 0;
  for (const auto& c : h.backend.calls) verifies += c == "verify";
  CHECK(verifies == 2);  // the refused attempt never reached PBKDF2

  h.clock.advance(std::chrono::seconds(1));
  CHECK(attempt("wrong three").status == 401);  // the delay doubles
  Response longer = attempt("correct horse");
  CHECK(longer.status == 429);
  CHECK(*longer.header("Retry-After") == "2");

  h.context.peer = "192.168.1.99";  // another address is not held up
  CHECK(attempt("correct horse").status == 200);
  h.context.peer = "192.168.1.20";
  h.clock.advance(std::chrono::seconds(2));
  CHECK(attempt("correct horse").status == 200);
}

TEST_CASE("Only one password check per IP is in flight at a time") {
  Harness h("correct horse");
  auto first = h.send(h.request("POST", "/api/login", R"({"password":"guess one"})"), false);
  CHECK_FALSE(first.has_value());
  auto second = h.send(h.request("POST", "/api/login", R"({"password":"guess two"})"), false);
  REQUIRE(second.has_value());
  CHECK(second->status == 429);
  h.backend.run_pending();
  CHECK(h.responses == 2);
}

TEST_CASE("A change without the right CSRF token is refused with 403") {
  Harness h("correct horse");
  h.log_in_as_admin();
  const std::string good = h.csrf;
  const std::string body = R"({"action":"add","name":"example.net"})";
  h.csrf = "";
  CHECK(h.must(h.request("POST", "/api/domains", body)).status == 403);
  h.csrf = good.substr(0, good.size() - 1) + (good.back() == '0' ? "1" : "0");
  CHECK(h.must(h.request("POST", "/api/domains", body)).status == 403);
  CHECK(h.backend.calls.size() == 1);  // only the login's verify
  h.csrf = good;
  CHECK(h.must(h.request("POST", "/api/domains", body)).status == 200);
  // No rule given: the backend (app's admin layer) uses the dedup_rule setting.
  CHECK(h.backend.calls.back() == "add_domain example.net ");
}

TEST_CASE("A change must be JSON from our own origin") {
  Harness h("correct horse");
  h.log_in_as_admin();
  Request form = h.request("POST", "/api/domains", "action=add&name=x.org");
  form.headers[1].second = "application/x-www-form-urlencoded";
  CHECK(h.must(form).status == 415);
  Request foreign = h.request("POST", "/api/domains", R"({"action":"add","name":"x.org"})");
  foreign.headers.emplace_back("origin", "http://evil.example.net");
  CHECK(h.must(foreign).status == 403);
  Request ours = h.request("POST", "/api/domains", R"({"action":"add","name":"x.org"})");
  ours.headers.emplace_back("origin", "http://192.168.1.1:8080");
  CHECK(h.must(ours).status == 200);
}

TEST_CASE("Sessions end after 30 idle minutes and at logout") {
  Harness h("correct horse");
  h.log_in_as_admin();
  CHECK(h.must(h.request("GET", "/api/status")).status == 200);
  h.clock.advance(std::chrono::minutes(31));
  CHECK(h.must(h.request("GET", "/api/status")).status == 401);

  h.log_in_as_admin();
  Response out = h.must(h.request("POST", "/api/logout"));
  CHECK(out.status == 200);
  CHECK(out.header("Set-Cookie")->find("Max-Age=0") != std::string::npos);
  CHECK(h.must(h.request("GET", "/api/status")).status == 401);
}

TEST_CASE("Status shows the overview, health, events and an honest diagnostics placeholder") {
  Harness h("correct horse");
  h.backend.event_log = {{500, "pop3-abnormal-end",
                          "user=bob@example.org client=10.0.0.5 reason=disconnect retrieved=4 "
                          "marked_deleted=4"},
                         {400, "duplicate-suppressed", "mailbox=bob@example.org"}};
  h.log_in_as_admin();
  Json status = Json::parse(h.must(h.request("GET", "/api/status")).body);
  CHECK(status["overview"]["uptime_s"] == 60);
  CHECK(status["overview"]["connections"]["smtp"] == 2);
  CHECK(status["overview"]["received_today"] == 3);
  CHECK(status["overview"]["retrieved_today"].is_null());
  CHECK(status["health"]["duplicates_suppressed"] == 1);
  CHECK(status["health"]["abnormal_ends"][0]["retrieved_not_removed"] == 4);
  CHECK(status["events"].size() == 2);
  CHECK(status["diagnostics"]["available"] == false);

  h.backend.ledger = http::LedgerCounts{7, 1, 2, 3};  // the store's exact counters win
  Json counted = Json::parse(h.must(h.request("GET", "/api/status")).body)["health"];
  CHECK(counted["duplicates_suppressed"] == 7);
  CHECK(counted["partials_superseded"] == 3);
  CHECK(counted["abnormal_ends"].size() == 1);

  Json boxes = Json::parse(h.must(h.request("GET", "/api/mailboxes")).body);
  CHECK(boxes["users"][0]["address"] == "bob@example.org");
  Json settings = Json::parse(h.must(h.request("GET", "/api/settings")).body);
  CHECK(settings["settings"].size() == 2);
}

TEST_CASE("Inputs are validated with a clear message before the backend sees them") {
  Harness h("correct horse");
  h.log_in_as_admin();
  h.backend.calls.clear();
  struct Case {
    const char* path;
    const char* body;
    int status;
    const char* message;
  } cases[] = {
      {"/api/domains", "not json", 400, "The request body is not a JSON object."},
      {"/api/domains", R"({"action":"add"})", 422, "Enter a domain name, e.g. example.org."},
      {"/api/domains", R"({"action":"add","name":"a b"})", 422,
       "Enter a domain name, e.g. example.org."},
      {"/api/domains", R"({"action":"explode","name":"example.org"})", 422,
       "Unknown action; use add, remove or dedup."},
      {"/api/users", R"({"action":"add","address":"bob"})", 422,
       "Enter an address like bob@example.org."},
      {"/api/users", R"({"action":"add","address":"bob@example.org","password":"short"})", 422,
       "The password must have at least 8 characters."},
      {"/api/users", R"({"action":"add","address":"bob@example.org","password":12345678})", 422,
       "The password must have at least 8 characters."},
      {"/api/settings", R"({"changes":{}})", 422, "Nothing to change."},
      {"/api/settings", R"({"changes":{"allow_duplicates":[1]}})", 422,
       "allow_duplicates: give a text, number or yes/no value."},
      {"/api/certificate", R"({"cert":"hello","key":"x"})", 422,
       "Paste the certificate in PEM form (BEGIN CERTIFICATE)."},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    Response r = h.must(h.request("POST", c.path, c.body));
    CHECK(r.status == c.status);
    CHECK(error_of(r) == c.message);
  }
  CHECK(h.backend.calls.empty());
}

TEST_CASE("Backend answers reach the page: success, and its sentence on failure") {
  Harness h("correct horse");
  h.log_in_as_admin();
  Response removed =
      h.must(h.request("POST", "/api/domains", R"({"action":"remove","name":"example.org"})"));
  CHECK(removed.status == 422);
  CHECK(error_of(removed) == "the domain still has users or aliases: remove them first");

  auto added =
      h.send(h.request("POST", "/api/users",
                       R"({"action":"add","address":"bob@example.org","password":"12345678"})"),
             /*run=*/false);
  CHECK_FALSE(added.has_value());  // waits for hashing and the commit
  h.backend.run_pending();
  CHECK(h.responses == 3);

  Response changed = h.must(h.request("POST", "/api/settings",
                                      R"({"changes":{"allow_duplicates":true,"smtp_port":2526}})"));
  CHECK(changed.status == 200);
  CHECK(h.backend.saved_settings["allow_duplicates"] == "yes");
  CHECK(h.backend.saved_settings["smtp_port"] == "2526");
  Response unknown = h.must(h.request("POST", "/api/settings", R"({"changes":{"colour":"red"}})"));
  CHECK(unknown.status == 422);
  CHECK(error_of(unknown) == "unknown setting 'colour'");
}

TEST_CASE("Invalid UTF-8 in input cannot make a JSON answer throw") {
  Harness h("correct horse");
  h.log_in_as_admin();
  Response r = h.must(h.request("POST", "/api/settings", "{\"changes\":{\"k\xff\":\"v\"}}"));
  CHECK(r.status == 400);  // the parser refuses invalid UTF-8 outright
  h.backend.saved_settings["weird"] = "\xff\xfe";
  CHECK(h.must(h.request("GET", "/api/settings")).status == 200);
}
