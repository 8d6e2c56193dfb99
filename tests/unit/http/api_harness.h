// The API test harness: an Api over a FakeBackend (and optionally FakeDiagnostics) on a
// ManualClock, requests built as the page sends them, and a logged-in admin session.
#pragma once

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "fake_backend.h"
#include "http/api.h"

namespace postern::http::test {

class Harness {
 public:
  explicit Harness(std::string admin_password = "", Diagnostics* diagnostics = nullptr,
                   ApiOptions options = {}) {
    backend.admin_password = std::move(admin_password);
    api.emplace(backend, clock, options, diagnostics);
  }

  Request request(std::string method, std::string path, std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.target = path;
    if (auto q = path.find('?'); q != std::string::npos) {
      r.query = path.substr(q + 1);
      path.resize(q);
    }
    r.path = path;
    r.headers = {{"host", "192.168.1.1:8080"}};
    if (!body.empty() || r.method == "POST") {
      r.headers.emplace_back("content-type", "application/json");
      r.body = std::move(body);
    }
    std::string cookies;
    if (!cookie.empty()) cookies = "postern_session=" + cookie;
    if (!mailbox_cookie.empty())
      cookies += (cookies.empty() ? "" : "; ") + std::string("postern_mailbox=") + mailbox_cookie;
    if (!cookies.empty()) r.headers.emplace_back("cookie", cookies);
    if (!csrf.empty()) r.headers.emplace_back("x-csrf-token", csrf);
    return r;
  }

  // Handles one request; completions stay held unless `run` is true.
  std::optional<Response> send(const Request& r, bool run = true) {
    std::optional<Response> out;
    api->handle(r, context, [&out, this](Response response) {
      CHECK_FALSE(out.has_value());  // exactly once
      out = std::move(response);
      ++responses;
    });
    if (run) backend.run_pending();
    return out;
  }

  Response must(const Request& r) {
    auto out = send(r);
    REQUIRE(out.has_value());
    return *out;
  }

  void log_in_as_admin() {
    Response r = must(request("POST", "/api/login", R"({"password":"correct horse"})"));
    REQUIRE(r.status == 200);
    const std::string* set_cookie = r.header("Set-Cookie");
    REQUIRE(set_cookie != nullptr);
    cookie = set_cookie->substr(16, set_cookie->find(';') - 16);
    csrf = nlohmann::json::parse(r.body)["csrf"];
  }

  // Logs in to a mailbox (the owner's view); the CSRF token becomes the one sent.
  void log_in_to_mailbox(const std::string& address, const std::string& password) {
    Response r = must(request("POST", "/api/mailbox/login",
                              nlohmann::json{{"address", address}, {"password", password}}.dump()));
    REQUIRE(r.status == 200);
    const std::string* set_cookie = r.header("Set-Cookie");
    REQUIRE(set_cookie != nullptr);
    REQUIRE(set_cookie->rfind("postern_mailbox=", 0) == 0);
    mailbox_cookie = set_cookie->substr(16, set_cookie->find(';') - 16);
    csrf = nlohmann::json::parse(r.body)["mailbox"]["csrf"];
  }

  core::ManualClock clock;
  FakeBackend backend;
  std::optional<Api> api;
  RequestContext context{"192.168.1.20", false, 8080};
  std::string cookie, csrf, mailbox_cookie;
  int responses = 0;
};

inline std::string error_of(const Response& r) {
  return nlohmann::json::parse(r.body)["error"].get<std::string>();
}

}  // namespace postern::http::test
