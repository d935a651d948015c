// The pure parts of the gcloud token source: its arguments and how its output is read.
#include "oauth2/gcloud_token_source.hpp"

#include <catch2/catch.hpp>

using namespace gauth;
using gauth::oauth2::detail::gcloud_arguments;
using gauth::oauth2::detail::token_from_gcloud_output;

// Mirrors test__cloud_sdk.py::test_get_auth_access_token_with_account (10.5 #147); the
// Windows variant (#146, "gcloud.cmd") does not apply.
TEST_CASE("gcloud's arguments are Python's", "[gcloud]") {
  CHECK(gcloud_arguments(std::nullopt) == std::vector<std::string>{"auth", "print-access-token"});
  CHECK(gcloud_arguments(std::string("")) == std::vector<std::string>{"auth", "print-access-token"});
  CHECK(gcloud_arguments(std::string("account")) ==
        std::vector<std::string>{"auth", "print-access-token", "--account=account"});
}

// Mirrors test__cloud_sdk.py::test_get_auth_access_token (b"access_token\n" -> "access_token").
TEST_CASE("the token is stdout without its surrounding white space", "[gcloud]") {
  CHECK(*token_from_gcloud_output("access_token\n") == "access_token");
  CHECK(*token_from_gcloud_output("  \t ya29.a0-b_c.d~e \r\n\n") == "ya29.a0-b_c.d~e");
}

TEST_CASE("output that is empty or not one word is refused without being quoted", "[gcloud]") {
  auto empty = token_from_gcloud_output(" \n ");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == StatusCode::kUserAccessTokenError);
  CHECK(empty.status().message() == "Failed to obtain access token: gcloud printed no access token");
  auto two_lines = token_from_gcloud_output("ya29.secret-looking\nWARNING: something\n");
  REQUIRE_FALSE(two_lines.ok());
  CHECK(two_lines.status().message() ==
        "Failed to obtain access token: gcloud printed something that is not an access token (2 lines)");
  CHECK_FALSE(token_from_gcloud_output("two words").ok());
  CHECK_FALSE(token_from_gcloud_output(std::string("nul\0byte", 8)).ok());
  CHECK_FALSE(token_from_gcloud_output("caf\xc3\xa9").ok());
}
