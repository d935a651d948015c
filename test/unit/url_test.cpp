#include "url.hpp"

#include <catch2/catch.hpp>

using gauth::StatusCode;
using gauth::detail::check_request_url;
using gauth::detail::is_loopback_host;

TEST_CASE("loopback hosts are localhost, 127/8 and ::1", "[url]") {
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("LocalHost"));
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.255.3.4"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("[::1]"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("localhost.example.com"));
  CHECK_FALSE(is_loopback_host("::2"));
  CHECK_FALSE(is_loopback_host(""));
  CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
}

TEST_CASE("https URLs are accepted anywhere", "[url]") {
  auto u = check_request_url("https://oauth2.googleapis.com/token");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "oauth2.googleapis.com");
  CHECK_FALSE(u->loopback);
  CHECK(u->printable == "https://oauth2.googleapis.com/token");
}

TEST_CASE("http is accepted only to loopback", "[url]") {
  CHECK(check_request_url("http://127.0.0.1:8080/token").ok());
  CHECK(check_request_url("http://localhost/token").ok());
  CHECK(check_request_url("http://[::1]:9/token").ok());
  auto refused = check_request_url("http://oauth2.googleapis.com/token");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(refused.status().message(), Catch::Contains("only https is allowed"));
}

TEST_CASE("other schemes and malformed URLs are refused", "[url]") {
  auto file = check_request_url("file:///etc/passwd");
  REQUIRE_FALSE(file.ok());
  CHECK_THAT(file.status().message(), Catch::Contains("unsupported URL scheme \"file\""));
  CHECK_FALSE(check_request_url("not a url").ok());
  CHECK_FALSE(check_request_url("").ok());
}

TEST_CASE("printable URLs drop user info and query", "[url]") {
  auto u = check_request_url("https://user:pw@example.com:8443/a/b?token=secret#frag");
  REQUIRE(u.ok());
  CHECK(u->printable == "https://example.com:8443/a/b");
}

TEST_CASE("a URL that does not parse is never quoted", "[url]") {
  auto bad = check_request_url("https://www.googleapis.com/x?access_token=ya29.SECRET&q=a b");
  if (!bad.ok()) CHECK_THAT(bad.status().message(), !Catch::Contains("SECRET"));
  auto broken = check_request_url("not a url ya29.SECRET");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().message() == "invalid URL: expected an absolute https:// URL");
}

TEST_CASE("printable_url keeps scheme, host, port and path only", "[url]") {
  using gauth::detail::printable_url;
  CHECK(printable_url("https://user:s3cret@host:8443/token?key=abc#x") == "https://host:8443/token");
  CHECK(printable_url("::not a url::") == "<an invalid URL>");
}
