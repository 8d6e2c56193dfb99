// Api over a fake backend: the mailbox view (owner login, pages, delete,
// download), the restart button, Fetch Metadata and BREACH rules.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "api_harness.h"
#include "http/api.h"
#include "http/mail_summary.h"

using namespace postern;
using http::MessageView;
using http::Request;
using http::Response;
using http::test::error_of;
using http::test::Harness;
using Json = nlohmann::json;

namespace {

MessageView message(std::uint32_t uid, std::string subject, bool partial = false) {
  MessageView m;
  m.uid = uid;
  m.uidl = "00000000000000" + std::to_string(10 + uid);
  m.size = 100 * uid;
  m.received_at = 1000 + uid;
  m.partial = partial;
  m.summary.subject = std::move(subject);
  m.summary.from = "alice@example.net";
  m.summary.preview = "line one";
  return m;
}

void fill(Harness& h, std::uint32_t n) {
  auto& all = h.backend.mailbox_messages["bob@example.org"];
  for (std::uint32_t uid = 1; uid <= n; ++uid)
    all.push_back(message(uid, "m" + std::to_string(uid)));
}

Json body_of(const Response& r) {
  return Json::parse(r.body);
}

}  // namespace

TEST_CASE("A mailbox owner logs in with the mailbox's own address and password") {
  Harness h("correct horse");
  Response r = h.must(h.request("POST", "/api/mailbox/login",
                                R"({"address":"Bob@Example.org","password":"bobs password"})"));
  CHECK(r.status == 200);
  CHECK(body_of(r)["mailbox"]["address"] == "bob@example.org");
  const std::string cookie = *r.header("Set-Cookie");
  CHECK(cookie.rfind("postern_mailbox=", 0) == 0);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(r.header("Content-Encoding") == nullptr);  // BREACH: it carries the CSRF token
  CHECK(h.backend.calls.back() == "verify_mailbox Bob@Example.org");

  // The session shows in /api/session, apart from the admin's.
  h.mailbox_cookie = cookie.substr(16, cookie.find(';') - 16);
  Json session = body_of(h.must(h.request("GET", "/api/session")));
  CHECK(session["logged_in"] == false);
  CHECK(session["mailbox"]["address"] == "bob@example.org");
}

TEST_CASE("A mailbox session opens no admin route") {
  Harness h("correct horse");
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  CHECK(h.must(h.request("GET", "/api/status")).status == 401);
  CHECK(h.must(h.request("GET", "/api/mailboxes")).status == 401);
  CHECK(
      h.must(h.request("POST", "/api/users", R"({"action":"remove","address":"x@y.z"})")).status ==
      401);
  CHECK(h.must(h.request("POST", "/api/restart", "{}")).status == 401);
  CHECK(h.backend.restarts == 0);
}

TEST_CASE("A wrong mailbox password is refused and throttled per IP and per user") {
  Harness h("correct horse");
  const std::string wrong = R"({"address":"bob@example.org","password":"nope nope"})";
  Response first = h.must(h.request("POST", "/api/mailbox/login", wrong));
  CHECK(first.status == 401);
  CHECK(error_of(first) == "Wrong address or password.");
  Response second = h.must(h.request("POST", "/api/mailbox/login", wrong));
  CHECK(second.status == 401);
  // The third within the delay is refused before any PBKDF2 check.
  const auto checks = h.backend.calls.size();
  Response third = h.must(h.request("POST", "/api/mailbox/login", wrong));
  CHECK(third.status == 429);
  CHECK(third.header("Retry-After") != nullptr);
  CHECK(h.backend.calls.size() == checks);

  // The user key holds from another address too.
  h.context.peer = "192.168.1.99";
  CHECK(h.must(h.request("POST", "/api/mailbox/login", wrong)).status == 429);
  // After the delay, the right password goes through.
  h.clock.advance(std::chrono::seconds(120));
  h.log_in_to_mailbox("bob@example.org", "bobs password");
}

TEST_CASE("An unknown mailbox is answered like a wrong password") {
  Harness h("correct horse");
  Response r = h.must(h.request("POST", "/api/mailbox/login",
                                R"({"address":"nobody@example.org","password":"whatever1"})"));
  CHECK(r.status == 401);
  CHECK(error_of(r) == "Wrong address or password.");
  CHECK(
      h.must(h.request("POST", "/api/mailbox/login", R"({"address":"no-at-sign","password":"x"})"))
          .status == 422);
}

TEST_CASE("The owner lists their own mailbox newest first, 50 at a time with a cursor") {
  Harness h("correct horse");
  fill(h, 120);
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  Json page = body_of(h.must(h.request("GET", "/api/mailbox/messages")));
  CHECK(page["address"] == "bob@example.org");
  CHECK(page["total"] == 120);
  REQUIRE(page["messages"].size() == 50);
  CHECK(page["messages"][0]["uid"] == 120);
  CHECK(page["messages"][49]["uid"] == 71);
  CHECK(page["next_before"] == 71);
  CHECK(page["note"].get<std::string>().find("next login") != std::string::npos);

  Json next = body_of(h.must(h.request("GET", "/api/mailbox/messages?before=71")));
  CHECK(next["messages"][0]["uid"] == 70);
  Json last = body_of(h.must(h.request("GET", "/api/mailbox/messages?before=21")));
  CHECK(last["messages"].size() == 20);
  CHECK(last["next_before"].is_null());
  // A larger limit is capped at the page size.
  CHECK(body_of(h.must(h.request("GET", "/api/mailbox/messages?limit=500")))["messages"].size() ==
        50);
  CHECK(h.must(h.request("GET", "/api/mailbox/messages?before=abc")).status == 400);
}

TEST_CASE("An owner cannot open another mailbox; the admin opens any") {
  Harness h("correct horse");
  fill(h, 3);
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  Response other = h.must(h.request("GET", "/api/mailbox/messages?address=carol%40example.org"));
  CHECK(other.status == 403);
  // Its own address, spelled differently, is fine.
  CHECK(h.must(h.request("GET", "/api/mailbox/messages?address=BOB%40example.org")).status == 200);

  Harness admin("correct horse");
  fill(admin, 3);
  admin.log_in_as_admin();
  Json page =
      body_of(admin.must(admin.request("GET", "/api/mailbox/messages?address=bob%40example.org")));
  CHECK(page["messages"].size() == 3);
  // Without an address and without a mailbox session there is nothing to open.
  CHECK(admin.must(admin.request("GET", "/api/mailbox/messages")).status == 401);
  CHECK(
      admin.must(admin.request("GET", "/api/mailbox/messages?address=zed%40example.org")).status ==
      404);
}

TEST_CASE("Without any session the mailbox routes answer 401") {
  Harness h("correct horse");
  CHECK(h.must(h.request("GET", "/api/mailbox/messages")).status == 401);
  CHECK(h.must(h.request("GET", "/api/mailbox/messages?address=bob%40example.org")).status == 401);
  CHECK(h.must(h.request("POST", "/api/mailbox/delete", R"({"uids":[1]})")).status == 401);
  CHECK(h.must(h.request("GET", "/api/mailbox/message?uid=1")).status == 401);
}

TEST_CASE("Badges, text and the preview are passed as data") {
  Harness h("correct horse");
  MessageView m = message(7, "<img src=x onerror=alert(1)>", true);
  m.retrieved = true;
  m.retrieved_by = "192.168.1.30";
  m.retrieved_at = 5000;
  m.duplicate_of = 3;
  m.suppressed_copies = 2;
  m.last_suppressed_at = 6000;
  h.backend.mailbox_messages["bob@example.org"].push_back(m);
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  Response r = h.must(h.request("GET", "/api/mailbox/messages"));
  CHECK(*r.header("Content-Type") == "application/json");
  Json j = body_of(r)["messages"][0];
  CHECK(j["subject"] == "<img src=x onerror=alert(1)>");
  CHECK(j["partial"] == true);
  CHECK(j["retrieved_by"] == "192.168.1.30");
  CHECK(j["duplicate_of"] == 3);
  CHECK(j["suppressed_copies"] == 2);
  CHECK(j["last_suppressed_at"] == 6000);
  CHECK(j["uidl"] == "0000000000000017");
}

TEST_CASE("Deleting needs the session's CSRF token and goes through the backend") {
  Harness h("correct horse");
  fill(h, 5);
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  const std::string token = h.csrf;
  h.csrf = "0123";
  CHECK(h.must(h.request("POST", "/api/mailbox/delete", R"({"uids":[2]})")).status == 403);
  h.csrf = token;
  Response held = *h.send(h.request("POST", "/api/mailbox/delete", R"({"uids":[2,4,99]})"),
                          /*run=*/true);
  CHECK(held.status == 200);
  CHECK(body_of(held)["deleted"] == 2);
  CHECK(body_of(held)["asked"] == 3);
  CHECK(h.backend.calls.back() == "delete_messages bob@example.org 2 4 99");
  CHECK(h.backend.mailbox_messages["bob@example.org"].size() == 3);

  for (const char* bad : {R"({"uids":[]})", R"({"uids":["1"]})", R"({"uids":[0]})",
                          R"({"uids":[-1]})", R"({"uids":[4294967296]})", R"({})"}) {
    CHECK(h.must(h.request("POST", "/api/mailbox/delete", bad)).status == 422);
  }
  // Another mailbox is out of reach, even with a valid token.
  CHECK(h.must(h.request("POST", "/api/mailbox/delete",
                         R"({"address":"carol@example.org","uids":[1]})"))
            .status == 403);
}

TEST_CASE("The admin deletes in any mailbox with the admin's CSRF token") {
  Harness h("correct horse");
  fill(h, 2);
  h.log_in_as_admin();
  CHECK(h.must(h.request("POST", "/api/mailbox/delete",
                         R"({"address":"bob@example.org","uids":[1]})"))
            .status == 200);
  CHECK(h.backend.mailbox_messages["bob@example.org"].size() == 1);
  h.csrf = "wrong";
  CHECK(h.must(h.request("POST", "/api/mailbox/delete",
                         R"({"address":"bob@example.org","uids":[2]})"))
            .status == 403);
}

TEST_CASE("A message downloads as an .eml attachment, streamed, never compressed") {
  Harness h("correct horse");
  fill(h, 2);
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  Request r = h.request("GET", "/api/mailbox/message?uid=2");
  r.headers.emplace_back("accept-encoding", "gzip");
  Response eml = h.must(r);
  CHECK(eml.status == 200);
  CHECK(*eml.header("Content-Type") == "message/rfc822");
  CHECK(*eml.header("Content-Disposition") ==
        "attachment; filename=\"000000000000001"
        "2.eml\"");
  CHECK(eml.header("Content-Encoding") == nullptr);
  REQUIRE(eml.stream != nullptr);
  CHECK(eml.stream->next(0)->rfind("Subject: m2\r\n", 0) == 0);
  CHECK(eml.stream->next(1)->empty());
  const std::string wire = http::serialize(eml, 0, true, false);
  CHECK(wire.find("Content-Length: " + std::to_string(eml.stream->length) + "\r\n") !=
        std::string::npos);
  CHECK(wire.substr(wire.size() - 4) == "\r\n\r\n");  // the pieces follow, not the body
  CHECK(h.must(h.request("GET", "/api/mailbox/message?uid=9")).status == 404);
  CHECK(h.must(h.request("GET", "/api/mailbox/message")).status == 400);
}

TEST_CASE("Owner logout ends only the mailbox session") {
  Harness h("correct horse");
  h.log_in_as_admin();
  const std::string admin_csrf = h.csrf;
  h.log_in_to_mailbox("bob@example.org", "bobs password");
  Response out = h.must(h.request("POST", "/api/mailbox/logout", "{}"));
  CHECK(out.status == 200);
  CHECK(out.header("Set-Cookie")->find("postern_mailbox=;") == 0);
  CHECK(h.must(h.request("GET", "/api/mailbox/messages")).status == 401);
  h.csrf = admin_csrf;
  CHECK(h.must(h.request("GET", "/api/status")).status == 200);
}

TEST_CASE("Restart: the status lists what waits, and the button needs admin and CSRF") {
  Harness h("correct horse");
  h.backend.restart_pending = {{"pop3_port", "1110", "11111"}};
  h.log_in_as_admin();
  Json status = body_of(h.must(h.request("GET", "/api/status")));
  REQUIRE(status["restart"]["pending"].size() == 1);
  CHECK(status["restart"]["pending"][0]["key"] == "pop3_port");
  CHECK(status["restart"]["pending"][0]["saved"] == "11111");

  const std::string token = h.csrf;
  h.csrf = "nope";
  CHECK(h.must(h.request("POST", "/api/restart", "{}")).status == 403);
  CHECK(h.backend.restarts == 0);
  h.csrf = token;
  Response r = h.must(h.request("POST", "/api/restart", "{}"));
  CHECK(r.status == 202);
  CHECK(h.backend.restarts == 1);
}

TEST_CASE("A POST marked cross-site by Fetch Metadata is refused whatever its Origin") {
  Harness h("correct horse");
  h.log_in_as_admin();
  for (const char* origin : {"http://192.168.1.1:8080", "https://evil.example", ""}) {
    Request r = h.request("POST", "/api/restart", "{}");
    r.headers.emplace_back("sec-fetch-site", "cross-site");
    if (*origin) r.headers.emplace_back("origin", origin);
    CHECK(h.must(r).status == 403);
  }
  Request login = h.request("POST", "/api/mailbox/login",
                            R"({"address":"bob@example.org","password":"bobs password"})");
  login.headers.emplace_back("sec-fetch-site", "Cross-Site");
  CHECK(h.must(login).status == 403);
  // A foreign Origin without the header is refused as before; same-origin passes.
  Request foreign = h.request("POST", "/api/restart", "{}");
  foreign.headers.emplace_back("origin", "http://evil.example");
  CHECK(h.must(foreign).status == 403);
  CHECK(h.backend.restarts == 0);
  Request ours = h.request("POST", "/api/restart", "{}");
  ours.headers.emplace_back("sec-fetch-site", "same-origin");
  ours.headers.emplace_back("origin", "http://192.168.1.1:8080");
  CHECK(h.must(ours).status == 202);
  // A GET is not a change: a cross-site navigation to the page still loads it.
  Request page = h.request("GET", "/");
  page.headers.emplace_back("sec-fetch-site", "cross-site");
  CHECK(h.must(page).status == 200);
}

TEST_CASE("No response carrying a secret is compressed; the assets carry none") {
  Harness h("correct horse");
  auto gz = [&](Request r) {
    r.headers.emplace_back("accept-encoding", "gzip, br");
    return h.must(r);
  };
  // The page is static: byte for byte the same bytes before and after logging in.
  const std::string anonymous_page = gz(h.request("GET", "/")).body;
  Response login = gz(h.request("POST", "/api/login", R"({"password":"correct horse"})"));
  CHECK(login.status == 200);
  CHECK(login.header("Content-Encoding") == nullptr);
  const std::string set = *login.header("Set-Cookie");
  h.cookie = set.substr(16, set.find(';') - 16);
  h.csrf = Json::parse(login.body)["csrf"];
  Response session = gz(h.request("GET", "/api/session"));
  CHECK(session.body.find(h.csrf) != std::string::npos);
  CHECK(session.header("Content-Encoding") == nullptr);
  Response page = gz(h.request("GET", "/"));
  CHECK(*page.header("Content-Encoding") == "gzip");
  CHECK(page.body == anonymous_page);
  for (const char* path : {"/app.js", "/collect.js", "/style.css"}) {
    CAPTURE(path);
    Response asset = gz(h.request("GET", path));
    CHECK(asset.status == 200);
    h.cookie.clear();
    CHECK(gz(h.request("GET", path)).body == asset.body);
    h.cookie = set.substr(16, set.find(';') - 16);
  }
}
