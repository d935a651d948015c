// gauth/fmt.hpp: fmt formatters for gauth's types.
#include <gauth/fmt.hpp>

#include <catch2/catch.hpp>

using namespace gauth;

TEST_CASE("Status, codes and token states format as their to_string", "[fmt]") {
  Status s(StatusCode::kRefreshError, "invalid_grant: Bad Request");
  CHECK(fmt::format("{}", s) == "REFRESH_ERROR: invalid_grant: Bad Request");
  CHECK(fmt::format("{}", StatusCode::kTimeout) == "TIMEOUT");
  CHECK(fmt::format("{}", TokenState::kStale) == "STALE");
  CHECK(fmt::format("[{:>7}]", StatusCode::kTimeout) == "[TIMEOUT]");
  CHECK(fmt::format("[{:>9}]", TokenState::kFresh) == "[    FRESH]");
}

TEST_CASE("credentials format without a secret", "[fmt]") {
  auto creds = oauth2::Credentials::Builder()
                   .client_id("123.apps.googleusercontent.com")
                   .client_secret("client-secret-QX7Z9")
                   .refresh_token("refresh-token-K3J8W")
                   .token("access-token-A1B2C3")
                   .rapt_token("rapt-token-P0M2N")
                   .id_token("id-token-J9H8G7")
                   .scopes(std::vector<std::string>{"email"})
                   .quota_project_id("billing")
                   .build();
  std::string text = fmt::format("{}", *creds);
  CHECK(text == oauth2::to_string(*creds));
  CHECK_THAT(text, Catch::Contains("client_id=123.apps.googleusercontent.com"));
  CHECK_THAT(text, Catch::Contains("scopes=[email]"));
  CHECK_THAT(text, Catch::Contains("quota_project_id=billing"));
  CHECK_THAT(text, Catch::Contains("token=set"));
  CHECK_THAT(text, Catch::Contains("client_secret=set"));
  for (const char* secret : {"client-secret-QX7Z9", "refresh-token-K3J8W", "access-token-A1B2C3",
                             "rapt-token-P0M2N", "id-token-J9H8G7"}) {
    CHECK_THAT(text, !Catch::Contains(secret));
  }
}
