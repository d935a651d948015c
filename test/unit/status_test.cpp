#include <gauth/status.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using gauth::Status;
using gauth::StatusCode;
using gauth::StatusOr;

TEST_CASE("a default Status is OK and carries nothing", "[status]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == StatusCode::kOk);
  CHECK(s.message().empty());
  CHECK_FALSE(s.retryable());
  CHECK(s.http_status() == 0);
  CHECK(gauth::to_string(s) == "OK");
}

TEST_CASE("a Status built with kOk is OK whatever the message", "[status]") {
  CHECK(Status(StatusCode::kOk, "ignored").ok());
}

TEST_CASE("an error Status keeps its code, message and details", "[status]") {
  Status s = Status(StatusCode::kRefreshError, "invalid_grant: Bad Request")
                 .with_retryable(true)
                 .with_http_status(400)
                 .with_oauth_error("invalid_grant", "Bad Request");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK(s.message() == "invalid_grant: Bad Request");
  CHECK(s.retryable());
  CHECK(s.http_status() == 400);
  CHECK(s.oauth_error() == "invalid_grant");
  CHECK(s.oauth_error_description() == "Bad Request");
  CHECK(gauth::to_string(s) == "REFRESH_ERROR: invalid_grant: Bad Request");
  std::ostringstream os;
  os << s;
  CHECK(os.str() == gauth::to_string(s));
}

TEST_CASE("with_* copies leave the original untouched and OK stays OK", "[status]") {
  Status original(StatusCode::kTimeout, "slow");
  Status changed = original.with_retryable(true).with_context("refresh");
  CHECK_FALSE(original.retryable());
  CHECK(original.message() == "slow");
  CHECK(changed.message() == "refresh: slow");
  CHECK(changed.retryable());
  CHECK(Status().with_retryable(true).ok());
  CHECK(Status().with_context("x").ok());
}

TEST_CASE("Status equality compares every field", "[status]") {
  Status a(StatusCode::kTimeout, "slow");
  CHECK(a == Status(StatusCode::kTimeout, "slow"));
  CHECK(a != Status(StatusCode::kTimeout, "slower"));
  CHECK(a != a.with_retryable(true));
  CHECK(Status() == Status());
  CHECK(Status() != a);
}

TEST_CASE("every code has a name", "[status]") {
  CHECK(std::string(gauth::to_string(StatusCode::kReauthRequired)) == "REAUTH_REQUIRED");
  CHECK(std::string(gauth::to_string(StatusCode::kUserAccessTokenError)) == "USER_ACCESS_TOKEN_ERROR");
  CHECK(std::string(gauth::to_string(StatusCode::kNotFound)) == "NOT_FOUND");
  CHECK(std::string(gauth::to_string(StatusCode::kCancelled)) == "CANCELLED");
}

TEST_CASE("StatusOr holds a value or an error", "[status]") {
  StatusOr<int> value(42);
  REQUIRE(value.ok());
  CHECK(*value == 42);
  CHECK(value.status().ok());

  StatusOr<int> error(Status(StatusCode::kNotFound, "nothing"));
  CHECK_FALSE(error.ok());
  CHECK(error.status().code() == StatusCode::kNotFound);
}

TEST_CASE("a StatusOr built from an OK status is an error, not an empty value", "[status]") {
  StatusOr<std::string> s{Status()};
  CHECK_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("StatusOr moves its value out", "[status]") {
  StatusOr<std::unique_ptr<int>> p(std::make_unique<int>(7));
  std::unique_ptr<int> out = std::move(p).value();
  REQUIRE(out);
  CHECK(*out == 7);
}
