// Host, Origin, Cookie and constant-time comparison.
#include "http/guard.h"

#include <doctest/doctest.h>

using namespace postern::http;

TEST_CASE("The Host check admits our names and IP literals on the arrival port only") {
  CHECK(host_allowed("mail.example.org", "mail.example.org", 80));
  CHECK(host_allowed("MAIL.Example.org:8080", "mail.example.org", 8080));
  CHECK(host_allowed("mail.example.org.", "mail.example.org", 8080));
  CHECK(host_allowed("localhost:8080", "mail.example.org", 8080));
  CHECK(host_allowed("192.168.1.1", "mail.example.org", 443));
  CHECK(host_allowed("192.168.1.1:8443", "mail.example.org", 8443));
  CHECK(host_allowed("[::1]:8080", "mail.example.org", 8080));
  CHECK(host_allowed("[fe80::1]", "mail.example.org", 8080));
}

TEST_CASE("The Host check refuses rebinding names, other ports and junk") {
  CHECK_FALSE(host_allowed("evil.example.net", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("evil.example.net:8080", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("mail.example.org:9999", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("192.168.1.256", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("1.2.3", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("192.168.1.1.nip.io", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("localhost:abc", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("[::1", "mail.example.org", 8080));
  CHECK_FALSE(host_allowed("", "mail.example.org", 8080));
}

TEST_CASE("Origin must match the Host and the connection's scheme") {
  CHECK(origin_matches("http://192.168.1.1:8080", "192.168.1.1:8080", false));
  CHECK(origin_matches("https://mail.example.org", "mail.example.org", true));
  CHECK_FALSE(origin_matches("http://mail.example.org", "mail.example.org", true));
  CHECK_FALSE(origin_matches("http://evil.example.net", "192.168.1.1:8080", false));
  CHECK_FALSE(origin_matches("null", "192.168.1.1:8080", false));
}

TEST_CASE("A cookie is found among others, by exact name") {
  CHECK(cookie_value("a=1; postern_session=abc; b=2", "postern_session") == "abc");
  CHECK(cookie_value("postern_session=abc", "postern_session") == "abc");
  CHECK_FALSE(cookie_value("xpostern_session=abc", "postern_session").has_value());
  CHECK_FALSE(cookie_value("a=1; b", "postern_session").has_value());
}

TEST_CASE("Constant-time comparison agrees with equality") {
  CHECK(equal_constant_time("abc", "abc"));
  CHECK_FALSE(equal_constant_time("abc", "abd"));
  CHECK_FALSE(equal_constant_time("abc", "ab"));
  CHECK(equal_constant_time("", ""));
}

TEST_CASE("Fetch Metadata: a cross-site request is refused whatever its Origin") {
  using postern::http::same_site_request;
  const std::string host = "192.168.1.1:8080";
  const std::string cross = "cross-site", cross_upper = "Cross-Site", same = "same-origin",
                    none = "none", site = "same-site";
  const std::string ours = "http://192.168.1.1:8080", evil = "https://evil.example";
  CHECK_FALSE(same_site_request(&cross, &ours, host, false));
  CHECK_FALSE(same_site_request(&cross_upper, nullptr, host, false));
  CHECK_FALSE(same_site_request(&cross, &evil, host, false));
  CHECK(same_site_request(&same, &ours, host, false));
  CHECK(same_site_request(&none, nullptr, host, false));
  CHECK(same_site_request(nullptr, nullptr, host, false));  // curl, older browsers
  CHECK(same_site_request(nullptr, &ours, host, false));
  // Without the header (or with same-site) the Origin still decides.
  CHECK_FALSE(same_site_request(nullptr, &evil, host, false));
  CHECK_FALSE(same_site_request(&site, &evil, host, false));
  CHECK_FALSE(same_site_request(&same, &ours, host, true));  // https page, http origin
}
