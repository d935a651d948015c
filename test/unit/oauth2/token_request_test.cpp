// The refresh-token grant on the wire (lib/oauth2/token_request.cpp): the
// request bytes and how each answer is read. Ports of Python google-auth's
// tests/oauth2/test__client.py (reference notes §10.3), their async twins in
// tests_async/oauth2/test__client_async.py (§10.4), and the error handling of
// tests/oauth2/test_reauth.py (§10.6 R1-R3, R5-R6). Python's tests mock the
// transport and check call arguments; these check the HttpRequest and read
// HttpResponses directly. The retry loop itself is in refresh_grant_test.cpp.
#include "oauth2/token_request.hpp"

#include "json.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace gauth;
using namespace gauth::oauth2::detail;
using namespace std::chrono_literals;
using Kind = TokenAnswer::Kind;

namespace {

// §10.0 client-test constants.
const std::vector<std::string> kScopesAsList = {"https://www.googleapis.com/auth/pubsub",
                                                "https://www.googleapis.com/auth/logging.write"};
constexpr char kScopesAsString[] =
    "https://www.googleapis.com/auth/pubsub https://www.googleapis.com/auth/logging.write";

// 2026-01-01T00:00:00Z, a Thursday.
const Clock::WallTime kNow = Clock::WallTime(std::chrono::seconds(1'767'225'600));

RefreshGrantRequest grant_request() {
  RefreshGrantRequest r;
  r.token_uri = "https://example.com/oauth2/token";
  r.client_id = "client_id";
  r.client_secret = "client_secret";
  r.refresh_token = "refresh_token";
  return r;
}

HttpResponse answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.set("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

TokenAnswer read(int status, std::string body, const RefreshGrantRequest& request = grant_request()) {
  return read_token_answer(answer(status, std::move(body)), request, kNow);
}

rapidjson::Document json(const char* text) {
  auto parsed = gauth::detail::parse_json(text, "test JSON");
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

}  // namespace

// ---- the request ---------------------------------------------------------------------

// Mirrors test__client.py::test_refresh_grant and ::test_refresh_grant_with_scopes
// (10.3 #89, #90; async 10.4 #122, #123) and the encoding example of notes §2.4.
TEST_CASE("the grant body lists Python's fields in Python's order, quote_plus-encoded", "[token_request]") {
  RefreshGrantRequest r;
  r.token_uri = "https://oauth2.googleapis.com/token";
  r.client_id = "123.apps.googleusercontent.com";
  r.client_secret = "s3cr/et+x";
  r.refresh_token = "1//0gAbC-d_e";
  r.scopes = kScopesAsList;
  r.rapt_token = "r~a.p_t";
  CHECK(refresh_grant_body(r) ==
        "grant_type=refresh_token&client_id=123.apps.googleusercontent.com&client_secret=s3cr%2Fet%2Bx"
        "&refresh_token=1%2F%2F0gAbC-d_e"
        "&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub+https%3A%2F%2Fwww.googleapis.com%2Fauth%"
        "2Flogging.write"
        "&rapt=r~a.p_t");
}

// Mirrors test__client.py::test_refresh_grant (10.3 #89: no scope without scopes)
// and test_reauth.py::test_refresh_grant_failed (10.6 R1: scope "foo bar", rapt "rapt_token").
TEST_CASE("scope is sent only when scopes are requested, rapt only when a rapt token is set",
          "[token_request]") {
  RefreshGrantRequest r = grant_request();
  CHECK(
      refresh_grant_body(r) ==
      "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token");
  r.rapt_token = "";
  CHECK(refresh_grant_body(r).find("rapt") == std::string::npos);  // Python: only if truthy
  r.scopes = {"foo", "bar"};
  r.rapt_token = "rapt_token";
  CHECK(refresh_grant_body(r) ==
        "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token"
        "&scope=foo+bar&rapt=rapt_token");
}

// Mirrors test__client.py::test__token_endpoint_request (10.3 #76) and
// test__client_async.py::test__token_endpoint_request (10.4 #111): POST to the
// URL, headers exactly {Content-Type: application/x-www-form-urlencoded} (as
// Python's async client: no x-goog-api-client, no Authorization, no Accept).
TEST_CASE("the token request is a form POST to token_uri with only a content-type header",
          "[token_request]") {
  HttpRequest http = refresh_grant_http_request(grant_request());
  CHECK(http.method == "POST");
  CHECK(http.url == "https://example.com/oauth2/token");
  REQUIRE(http.headers.size() == 1);
  REQUIRE(http.headers.find("Content-Type") != nullptr);
  CHECK(*http.headers.find("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(http.body == refresh_grant_body(grant_request()));
}

// ---- answers: grants -------------------------------------------------------------------

// Mirrors test__client.py::test_refresh_grant (10.3 #89; async 10.4 #122).
TEST_CASE("a grant answer yields the token, the rotated refresh token and the lifetime", "[token_request]") {
  RefreshGrantRequest r = grant_request();
  r.rapt_token = "rapt_token";
  TokenAnswer a = read(200,
                       R"({"access_token": "token", "refresh_token": "new_refresh_token", "expires_in": 500,)"
                       R"( "extra": "data"})",
                       r);
  REQUIRE(a.kind == Kind::kGrant);
  CHECK(a.grant.access_token == "token");
  CHECK(a.grant.refresh_token == std::string("new_refresh_token"));
  REQUIRE(a.grant.lifetime);
  CHECK(*a.grant.lifetime == 500s);
  CHECK(a.grant.rapt_token == std::string("rapt_token"));  // the one sent is kept
  CHECK_FALSE(a.grant.id_token);
  CHECK(a.grant.replace_id_token);  // Python: id_token = grant_response.get("id_token")
}

// Mirrors test__client.py::test__parse_expiry[500|"500"] (10.3 #73-74).
TEST_CASE("expires_in may be a number or a string of digits", "[token_request]") {
  for (const char* expires_in : {"500", "\"500\""}) {
    INFO(expires_in);
    TokenAnswer a = read(200, std::string(R"({"access_token": "t", "expires_in": )") + expires_in + "}");
    REQUIRE(a.kind == Kind::kGrant);
    REQUIRE(a.grant.lifetime);
    CHECK(*a.grant.lifetime == 500s);
  }
}

// Python: "3599.5" raises a raw ValueError out of refresh (notes §2.5); gauth
// turns it into a RefreshError, since no exception may cross its API.
TEST_CASE("an expires_in string that is not a whole number is a final refresh error", "[token_request]") {
  TokenAnswer a = read(200, R"({"access_token": "t", "expires_in": "3599.5"})");
  CHECK(a.kind == Kind::kFinal);
  CHECK(a.error.code() == StatusCode::kRefreshError);
  CHECK_FALSE(a.error.retryable());
  CHECK_THAT(a.error.message(), Catch::Contains("expires_in"));
}

// Mirrors test__client.py::test__parse_expiry_none (10.3 #75).
TEST_CASE("without expires_in the token never expires", "[token_request]") {
  for (const char* body : {R"({"access_token": "t"})", R"({"access_token": "t", "expires_in": null})"}) {
    INFO(body);
    TokenAnswer a = read(200, body);
    REQUIRE(a.kind == Kind::kGrant);
    CHECK_FALSE(a.grant.lifetime);
    CHECK_FALSE(a.grant.expiry);
  }
}

// Mirrors test__client.py::test_refresh_grant_no_access_token (10.3 #91; async 10.4 #124).
TEST_CASE("a grant answer without an access token is a final error", "[token_request]") {
  TokenAnswer a = read(200, R"({"refresh_token": "new_refresh_token", "expires_in": 500})");
  CHECK(a.kind == Kind::kFinal);
  CHECK(a.error.code() == StatusCode::kRefreshError);
  CHECK(a.error.message() == "No access token in response.");
  CHECK_FALSE(a.error.retryable());
  CHECK(a.error.http_status() == 200);
}

// Python: refresh_token = data.get("refresh_token", old), so JSON null clears
// it. gauth differs (DESIGN.md): absent or null keeps the old one.
TEST_CASE("a null refresh_token in a grant answer is no rotation", "[token_request]") {
  TokenAnswer a = read(200, R"({"access_token": "t", "refresh_token": null})");
  REQUIRE(a.kind == Kind::kGrant);
  CHECK_FALSE(a.grant.refresh_token);
}

// Mirrors test__client_async.py::test__token_endpoint_request_text (10.4 #112).
// Python returns the text "response" as the data and fails later, in its own
// way per path; gauth refuses a non-JSON 200 at once, and never quotes a 200
// body (it may hold tokens).
TEST_CASE("a 200 answer that is not JSON is a final error that does not quote the body", "[token_request]") {
  TokenAnswer a = read(200, "response");
  CHECK(a.kind == Kind::kFinal);
  CHECK(a.error.code() == StatusCode::kRefreshError);
  CHECK(a.error.http_status() == 200);
  CHECK_THAT(a.error.message(), !Catch::Contains("response\""));
}

// ---- answers: errors --------------------------------------------------------------------

// Mirrors test__client.py::test__handle_error_response[True|False] (10.3 #63-64).
// Python passes retryable in; gauth derives it from the answer (_can_retry).
TEST_CASE("an error answer reads '<error>: <error_description>'", "[token_request]") {
  const char* body = R"({"error": "help", "error_description": "I'm alive"})";
  TokenAnswer final_answer = read(400, body);
  CHECK(final_answer.kind == Kind::kFinal);
  CHECK(final_answer.error.code() == StatusCode::kRefreshError);
  CHECK(final_answer.error.message() == "help: I'm alive");
  CHECK_FALSE(final_answer.error.retryable());
  CHECK(final_answer.error.http_status() == 400);
  CHECK(final_answer.error.oauth_error() == "help");
  CHECK(final_answer.error.oauth_error_description() == "I'm alive");

  TokenAnswer retryable = read(500, body);
  CHECK(retryable.kind == Kind::kRetryable);
  CHECK(retryable.error.message() == "help: I'm alive");
  CHECK(retryable.error.retryable());
  CHECK(retryable.error.http_status() == 500);
}

// Python prints a missing description as None ("unauthorized_client: None";
// test_reauth.py::test_refresh_grant_failed, 10.6 R1, matches "Bad request").
// gauth differs (DESIGN.md): just the error code.
TEST_CASE("an error answer without a description reads just the error code", "[token_request]") {
  TokenAnswer a = read(400, R"({"error": "Bad request"})");
  CHECK(a.kind == Kind::kFinal);
  CHECK(a.error.message() == "Bad request");
  CHECK_FALSE(a.error.retryable());
  TokenAnswer b = read(401, R"({"error": "unauthorized_client"})");
  CHECK(b.error.message() == "unauthorized_client");
}

// Mirrors test__client.py::test__handle_error_response_no_error (10.3 #65) and
// ::test__token_endpoint_request_error (10.3 #78; async 10.4 #114).
TEST_CASE("an error answer without 'error' quotes the JSON as Python's json.dumps writes it",
          "[token_request]") {
  TokenAnswer a = read(400, R"({"foo":"bar"})");
  CHECK(a.kind == Kind::kFinal);
  CHECK(a.error.code() == StatusCode::kRefreshError);
  CHECK(a.error.message() == R"({"foo": "bar"})");
  CHECK_FALSE(a.error.retryable());

  TokenAnswer empty = read(400, "{}");
  CHECK(empty.kind == Kind::kFinal);
  CHECK(empty.error.code() == StatusCode::kRefreshError);
  CHECK(empty.error.message() == "{}");
  CHECK_FALSE(empty.error.retryable());
}

// Mirrors test__client.py::test__handle_error_response_not_json (10.3 #66),
// ::test__token_endpoint_request_string_error (10.3 #82) and
// test_reauth.py::test_refresh_grant_failed_with_string_type_response (10.6 R2).
// (Python's async path crashes with AttributeError here, notes §2.5; gauth
// follows the sync path.)
TEST_CASE("a non-JSON error answer gives its text as the message", "[token_request]") {
  TokenAnswer a = read(400, "this is an error message");
  CHECK(a.kind == Kind::kFinal);
  CHECK(a.error.code() == StatusCode::kRefreshError);
  CHECK(a.error.message() == "this is an error message");
  CHECK_FALSE(a.error.retryable());
  TokenAnswer b = read(400, "string type error");
  CHECK(b.error.message() == "string type error");
}

// Mirrors test_reauth.py::test_refresh_grant_reauth_refresh_disabled (10.6 R3;
// async R6). gauth has no interactive reauthentication: it reports kReauthRequired.
TEST_CASE("rapt_required and invalid_rapt ask for reauthentication and are never retried",
          "[token_request][reauth]") {
  for (const char* subtype : {"rapt_required", "invalid_rapt"}) {
    INFO(subtype);
    TokenAnswer a =
        read(400, std::string(R"({"error": "invalid_grant", "error_subtype": ")") + subtype + "\"}");
    CHECK(a.kind == Kind::kFinal);
    CHECK(a.error.code() == StatusCode::kReauthRequired);
    CHECK(
        a.error.message() ==
        "Reauthentication is needed. Please run `gcloud auth application-default login` to reauthenticate.");
    CHECK_FALSE(a.error.retryable());
    CHECK(a.error.oauth_error() == "invalid_grant");
  }
  // Another subtype is an ordinary invalid_grant.
  TokenAnswer other = read(400, R"({"error": "invalid_grant", "error_subtype": "something_else"})");
  CHECK(other.error.code() == StatusCode::kRefreshError);
  CHECK(other.error.message() == "invalid_grant");
}

// Python google-auth has no such test: 502 is not in the retryable list (notes §2.5).
TEST_CASE("a 502 with an HTML page is a final error quoting the page", "[token_request]") {
  TokenAnswer a = read(502, "<html><body>Bad Gateway</body></html>");
  CHECK(a.kind == Kind::kFinal);
  CHECK_FALSE(a.error.retryable());
  CHECK(a.error.http_status() == 502);
  CHECK(a.error.message() == "<html><body>Bad Gateway</body></html>");
}

// ---- can_retry ------------------------------------------------------------------------------

// Mirrors test__client.py::test__can_retry_retryable (10.3 #67).
TEST_CASE("only 500, 503, 504, 408 and 429 are retryable statuses", "[token_request][retry]") {
  auto body = json(R"({"error": "invalid_scope"})");
  for (int status = 100; status < 600; ++status) {
    const bool expected = status == 500 || status == 503 || status == 504 || status == 408 || status == 429;
    INFO(status);
    CHECK(can_retry(status, &body) == expected);
  }
}

// Mirrors test__client.py::test__can_retry_message (10.3 #68-69).
TEST_CASE("internal_failure, server_error and temporarily_unavailable are retryable at any status",
          "[token_request][retry]") {
  for (const char* text : {R"({"error": "internal_failure"})", R"({"error": "server_error"})",
                           R"({"error": "temporarily_unavailable"})",
                           R"({"error": "x", "error_description": "internal_failure"})",
                           R"({"error": "server_error", "error_description": null})"}) {
    INFO(text);
    auto body = json(text);
    CHECK(can_retry(200, &body));
    CHECK(can_retry(400, &body));
  }
}

// Mirrors test__client.py::test__can_retry_no_retry_message (10.3 #70-72).
TEST_CASE("other errors, non-string errors and non-object bodies are not retryable",
          "[token_request][retry]") {
  for (const char* text :
       {R"({"error": "invalid_scope"})", R"({"error": {"foo": "bar"}})",
        R"({"error_description": ["foo", "bar"]})",
        R"({"error": "server_error", "error_description": {"foo": "bar"}})",
        R"({"error": "an internal_failure occurred"})", R"(["server_error"])", R"("server_error")"}) {
    INFO(text);
    auto body = json(text);
    CHECK_FALSE(can_retry(200, &body));
  }
  CHECK_FALSE(can_retry(400, nullptr));
  CHECK(can_retry(503, nullptr));
}

// Mirrors test__client.py::test__token_endpoint_request_internal_failure_error
// (10.3 #79) for one answer: the retry loop sees kRetryable.
TEST_CASE("a 400 whose error or description is internal_failure is a retryable answer",
          "[token_request][retry]") {
  for (const char* body :
       {R"({"error_description": "internal_failure"})", R"({"error": "internal_failure"})"}) {
    INFO(body);
    TokenAnswer a = read(400, body);
    CHECK(a.kind == Kind::kRetryable);
    CHECK(a.error.retryable());
    CHECK(a.error.code() == StatusCode::kRefreshError);
  }
}

// ---- Retry-After ------------------------------------------------------------------------------

// Python google-auth ignores Retry-After; gauth honours it (DESIGN.md).
TEST_CASE("Retry-After is read as delta-seconds or an HTTP-date", "[token_request][retry-after]") {
  CHECK(parse_retry_after("120", kNow) == std::optional<std::chrono::seconds>(120s));
  CHECK(parse_retry_after(" 5 ", kNow) == std::optional<std::chrono::seconds>(5s));
  CHECK(parse_retry_after("0", kNow) == std::optional<std::chrono::seconds>(0s));
  CHECK(parse_retry_after("Thu, 01 Jan 2026 00:00:07 GMT", kNow) == std::optional<std::chrono::seconds>(7s));
  CHECK(parse_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", kNow) == std::optional<std::chrono::seconds>(0s));
  CHECK_FALSE(parse_retry_after("", kNow));
  CHECK_FALSE(parse_retry_after("soon", kNow));
  CHECK_FALSE(parse_retry_after("-5", kNow));
  auto huge = parse_retry_after("99999999999999999999", kNow);
  REQUIRE(huge);
  CHECK(*huge > 24h);
}

TEST_CASE("a retryable error answer carries the server's Retry-After", "[token_request][retry-after]") {
  HttpResponse r = answer(503, R"({"error": "unavailable"})");
  r.headers.set("Retry-After", "7");
  TokenAnswer a = read_token_answer(r, grant_request(), kNow);
  CHECK(a.kind == Kind::kRetryable);
  CHECK(a.retry_after == std::optional<std::chrono::seconds>(7s));
  CHECK_FALSE(read(503, R"({"error": "unavailable"})").retry_after);
}

// ---- secrets ------------------------------------------------------------------------------------

// Python google-auth has no such test: gauth's rule is that no Status carries a secret.
TEST_CASE("redact_secrets removes the client secret, refresh token and rapt token, raw and form-encoded",
          "[token_request][secrets]") {
  RefreshGrantRequest r = grant_request();
  r.client_secret = "GOCSPX-cl1ent/Secret+Value";
  r.refresh_token = "1//0gRefresh-Token_For/Tests";
  r.rapt_token = "rapt-Secret-Token-42";
  std::string text = "a " + r.client_secret + " b " + r.refresh_token + " c " + *r.rapt_token + " d " +
                     refresh_grant_body(r) + " e";
  std::string out = redact_secrets(text, r);
  CHECK_THAT(out, !Catch::Contains("cl1ent"));
  CHECK_THAT(out, !Catch::Contains("Refresh-Token"));
  CHECK_THAT(out, !Catch::Contains("rapt-Secret"));
  CHECK_THAT(out, Catch::StartsWith("a <redacted> b <redacted> c <redacted> d grant_type=refresh_token"));
  CHECK_THAT(out, Catch::EndsWith(" e"));
}

TEST_CASE("an error answer that echoes the request keeps no secret in the Status",
          "[token_request][secrets]") {
  RefreshGrantRequest r = grant_request();
  r.client_secret = "GOCSPX-cl1ent/Secret+Value";
  r.refresh_token = "1//0gRefresh-Token_For/Tests";
  r.rapt_token = "rapt-Secret-Token-42";
  const std::string echoed = refresh_grant_body(r) + " raw: " + r.client_secret + " " + r.refresh_token;
  std::string quoted;
  gauth::detail::append_json_string(quoted, echoed);
  for (int status : {400, 500}) {
    for (const std::string& body : {R"({"error": "invalid_request", "error_description": )" + quoted + "}",
                                    R"({"error": )" + quoted + "}", R"({"echo": )" + quoted + "}", echoed}) {
      INFO(status << " " << body);
      TokenAnswer a = read(status, body, r);
      REQUIRE(a.kind != Kind::kGrant);
      for (const std::string& text : {a.error.message(), a.error.oauth_error(),
                                      a.error.oauth_error_description(), to_string(a.error)}) {
        CHECK_THAT(text, !Catch::Contains("cl1ent"));
        CHECK_THAT(text, !Catch::Contains("Refresh-Token"));
        CHECK_THAT(text, !Catch::Contains("rapt-Secret"));
      }
    }
  }
}

// Found while porting: secrets echoed back in forms Python never sees, and a
// _can_retry corner.
namespace {
RefreshGrantRequest request_with_secrets() {
  RefreshGrantRequest r;
  r.token_uri = "https://oauth2.googleapis.com/token";
  r.client_id = "client_id";
  r.client_secret = "GOCSPX-cl1ent/Secret+Value";
  r.refresh_token = "1//0gRefresh-Token_For/Tests";
  r.rapt_token = "rapt/Secret+Token-42";
  return r;
}
HttpResponse plain_answer(int status, std::string body) {
  HttpResponse h;
  h.status = status;
  h.body = std::move(body);
  return h;
}
}  // namespace

TEST_CASE("a reauth answer echoing the request keeps no secret in oauth_error_description",
          "[token_request][redaction]") {
  RefreshGrantRequest r = request_with_secrets();
  std::string quoted;
  gauth::detail::append_json_string(quoted, "echo: " + r.client_secret + " " + r.refresh_token);
  TokenAnswer a = read_token_answer(
      plain_answer(400,
                   R"({"error": "invalid_grant", "error_subtype": "rapt_required", "error_description": )" +
                       quoted + "}"),
      r, Clock::WallTime());
  REQUIRE(a.error.code() == StatusCode::kReauthRequired);
  CHECK_THAT(a.error.oauth_error_description(), !Catch::Contains("cl1ent"));
  CHECK_THAT(a.error.oauth_error_description(), !Catch::Contains("Refresh-Token"));
}

TEST_CASE("a form-encoded rapt token echoed in an error is redacted", "[token_request][redaction]") {
  RefreshGrantRequest r = request_with_secrets();
  TokenAnswer a = read_token_answer(plain_answer(400, refresh_grant_body(r)), r, Clock::WallTime());
  CHECK_THAT(a.error.message(), !Catch::Contains("Secret%2BToken"));
  CHECK_THAT(redact_secrets(refresh_grant_body(r), r), !Catch::Contains("Secret%2BToken"));
}

TEST_CASE("a secret re-escaped by python_json_dumps is still redacted", "[token_request][redaction]") {
  RefreshGrantRequest r = request_with_secrets();
  r.client_secret = "GOCSPX-quote\"and\\backslash";
  TokenAnswer a = read_token_answer(plain_answer(400, R"({"echo": "GOCSPX-quote\"and\\backslash"})"), r,
                                    Clock::WallTime());
  CHECK_THAT(a.error.message(), !Catch::Contains("and"));
}

TEST_CASE("can_retry: a non-string error makes even a retryable description non-retryable (Python)",
          "[token_request]") {
  auto body = gauth::detail::parse_json(R"({"error_description": "server_error", "error": 5})", "t");
  REQUIRE(body.ok());
  CHECK_FALSE(can_retry(400, &*body));  // Python: isinstance(error_code, str) fails -> False
}

// Found in review: error answers that carry tokens, and URLs with credentials.
TEST_CASE("a success other than 200 is an error that does not quote its body", "[token_request][redaction]") {
  RefreshGrantRequest r = request_with_secrets();
  TokenAnswer a = read_token_answer(
      plain_answer(201, R"({"access_token": "ya29.SECRET_ACCESS", "refresh_token": "1//NEW_REFRESH"})"), r,
      Clock::WallTime());
  CHECK(a.kind == TokenAnswer::Kind::kFinal);
  CHECK(a.error.message() ==
        "the token endpoint answered HTTP 201 instead of 200 (the answer is not quoted: it may hold tokens)");
}

TEST_CASE("an error body's token members are redacted before it is quoted", "[token_request][redaction]") {
  RefreshGrantRequest r = request_with_secrets();
  TokenAnswer a = read_token_answer(
      plain_answer(400, R"({"access_token": "ya29.SECRET_ACCESS", "id_token": "eyJ.SECRET", "note": "odd"})"),
      r, Clock::WallTime());
  CHECK(a.error.message() == R"({"access_token": "<redacted>", "id_token": "<redacted>", "note": "odd"})");
}

TEST_CASE("a redirect's location is shown without user info or query", "[token_request][redaction]") {
  RefreshGrantRequest r = request_with_secrets();
  HttpResponse redirect = plain_answer(302, "");
  redirect.headers.set("location", "https://user:pass@evil.example/steal?code=SECRET");
  TokenAnswer a = read_token_answer(redirect, r, Clock::WallTime());
  CHECK_THAT(a.error.message(), Catch::Contains("a redirect to https://evil.example/steal"));
  CHECK_THAT(a.error.message(), !Catch::Contains("SECRET"));
  CHECK_THAT(a.error.message(), !Catch::Contains("pass"));
}
