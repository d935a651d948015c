// gauth-testing's public FakeTokenServer, used as an application would: through
// the public API only (CurlDriver and oauth2::Credentials against it).
#include <gauth/curl_driver.hpp>
#include <gauth/oauth2/credentials.hpp>
#include <gauth/testing/fake_token_server.hpp>

#include <catch2/catch.hpp>

using namespace gauth;
using namespace std::chrono_literals;
using testing::FakeTokenServer;
using testing::TokenAnswer;

namespace {

struct Setup {
  explicit Setup(FakeTokenServer::Tls tls = FakeTokenServer::Tls::kOff) {
    server = std::move(FakeTokenServer::start(tls)).value();
    CurlDriverOptions options;
    if (tls == FakeTokenServer::Tls::kOn) options.ca_bundle = server->ca_bundle_path();
    driver = std::move(CurlDriver::create(options)).value();
    creds = oauth2::Credentials::Builder()
                .token_uri(server->token_uri())
                .client_id("client id")
                .client_secret("client/secret")
                .refresh_token("1//refresh token")
                .scopes(std::vector<std::string>{"email", "profile"})
                .build();
  }
  Status refresh() {
    std::optional<Status> result;
    creds->refresh(*driver, [&](Status s) { result = s; });
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!result && std::chrono::steady_clock::now() < deadline) driver->run_once(50ms);
    REQUIRE(result);
    return *result;
  }
  std::unique_ptr<FakeTokenServer> server;
  std::unique_ptr<CurlDriver> driver;
  std::shared_ptr<const oauth2::Credentials> creds;
};

}  // namespace

TEST_CASE("by default the fake endpoint issues a new token each time and logs the requests",
          "[fake-token-server]") {
  Setup s;
  REQUIRE(s.refresh().ok());
  CHECK(s.creds->token() == std::string("ya29.fake-1"));
  REQUIRE(s.refresh().ok());
  CHECK(s.creds->token() == std::string("ya29.fake-2"));
  REQUIRE(s.server->request_count() == 2);
  auto r = s.server->requests()[0];
  CHECK(r.method == "POST");
  CHECK(r.path == "/token");
  CHECK(r.header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(r.form_field("grant_type") == std::string("refresh_token"));
  CHECK(r.form_field("client_id") == std::string("client id"));
  CHECK(r.form_field("client_secret") == std::string("client/secret"));
  CHECK(r.form_field("refresh_token") == std::string("1//refresh token"));
  CHECK(r.form_field("scope") == std::string("email profile"));
  CHECK_FALSE(r.form_field("rapt"));
  CHECK(s.server->wait_for_requests(2, 1s));
  CHECK_FALSE(s.server->wait_for_requests(3, 50ms));
}

TEST_CASE("scripted answers come in order, then the default", "[fake-token-server]") {
  Setup s;
  s.server->enqueue(
      TokenAnswer::token("first", 1200).with_field("refresh_token", "rotated").with_field("id_token", "id"));
  s.server->enqueue(
      TokenAnswer::oauth_error("invalid_grant", std::string("Token has been expired or revoked.")));
  s.server->enqueue(TokenAnswer::reauth_required());
  s.server->enqueue(TokenAnswer::malformed("<html>oops</html>", 502));
  s.server->set_default(TokenAnswer::token("steady"));
  REQUIRE(s.refresh().ok());
  CHECK(s.creds->token() == std::string("first"));
  CHECK(s.creds->refresh_token() == std::string("rotated"));
  CHECK(s.creds->id_token() == std::string("id"));
  CHECK(s.refresh().message() == "invalid_grant: Token has been expired or revoked.");
  CHECK(s.refresh().code() == StatusCode::kReauthRequired);
  CHECK(s.refresh().message() == "<html>oops</html>");
  REQUIRE(s.refresh().ok());
  CHECK(s.creds->token() == std::string("steady"));
}

TEST_CASE("retryable failures with Retry-After, delays and faults", "[fake-token-server]") {
  Setup s;
  s.server->enqueue(TokenAnswer::unavailable(503, 1));
  s.server->enqueue(TokenAnswer::token("after-retry").after(100ms));
  auto start = std::chrono::steady_clock::now();
  REQUIRE(s.refresh().ok());
  CHECK(std::chrono::steady_clock::now() - start >= 1100ms);
  CHECK(s.server->request_count() == 2);
  // (A reset or a close before any byte of the answer, on a reused
  // connection, is one libcurl 7.88 silently retries itself; a truncated
  // answer is not.)
  for (int i = 0; i < 3; ++i) s.server->enqueue(TokenAnswer::with_fault(TokenAnswer::Fault::kTruncate));
  Status failed = s.refresh();
  CHECK(failed.code() == StatusCode::kTransportError);
  CHECK(failed.retryable());
  CHECK(s.server->request_count() == 5);
}

TEST_CASE("a reset or a connection closed without an answer is a retryable transport error",
          "[fake-token-server]") {
  for (auto fault : {TokenAnswer::Fault::kReset, TokenAnswer::Fault::kCloseWithoutAnswer}) {
    Setup s;  // a new connection: nothing for libcurl to retry on its own
    s.server->set_default(TokenAnswer::with_fault(fault));
    Status failed = s.refresh();
    CHECK(failed.code() == StatusCode::kTransportError);
    CHECK(failed.retryable());
    CHECK(s.server->request_count() >= 3);
  }
}

TEST_CASE("the fake endpoint speaks HTTPS with its own CA", "[fake-token-server]") {
  Setup s(FakeTokenServer::Tls::kOn);
  CHECK(s.server->token_uri().rfind("https://localhost:", 0) == 0);
  REQUIRE(s.refresh().ok());
  CHECK(s.creds->token() == std::string("ya29.fake-1"));
}
