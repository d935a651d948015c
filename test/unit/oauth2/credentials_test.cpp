// oauth2::Credentials (lib/oauth2/credentials.cpp and what it builds on) on the
// fake transport's virtual time. Ports of Python google-auth's
// tests_async/oauth2/test_credentials_async.py (reference notes §10.1),
// tests/oauth2/test_credentials.py (§10.2) and the base-class tests of
// tests/test_credentials.py (§10.6 B1-B4), with the literal data of §10.0.
// Where Python mocks refresh_grant and checks its call arguments, these check
// the HTTP request the fake transport recorded. Where gauth deliberately
// differs from Python (DESIGN.md), the test says so and checks gauth.
#include <gauth/log.hpp>
#include <gauth/oauth2/credentials.hpp>

#include "json.hpp"
#include "time_format.hpp"

#include "fake_transport.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <sstream>
#include <utility>

using namespace std::chrono_literals;
using gauth::Clock;
using gauth::Headers;
using gauth::HttpRequest;
using gauth::HttpResponse;
using gauth::kRefreshThreshold;
using gauth::LogLevel;
using gauth::Status;
using gauth::StatusCode;
using gauth::StatusOr;
using gauth::TokenState;
using gauth::TokenUpdate;
using gauth::Transport;
using gauth::oauth2::Credentials;
namespace oauth2 = gauth::oauth2;
using gauth::oauth2::RefreshHandlerResult;
using gauth::test::FakeTransport;

namespace {

// §10.0 credential-test constants.
constexpr char kTokenUri[] = "https://example.com/oauth2/token";
constexpr char kRefreshToken[] = "refresh_token";
constexpr char kRaptToken[] = "rapt_token";
constexpr char kClientId[] = "client_id";
constexpr char kClientSecret[] = "client_secret";
// tests/data/authorized_user.json
constexpr char kAuthUserInfo[] =
    R"({"client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala", "type": "authorized_user"})";
const std::string kDataDir = GAUTH_OAUTH2_TEST_DATA;

constexpr char kReauthMessage[] =
    "Reauthentication is needed. Please run `gcloud auth application-default login` to reauthenticate.";
constexpr char kNecessaryFields[] =
    "The credentials do not contain the necessary fields need to refresh the access token. You must specify "
    "refresh_token, token_uri, client_id, and client_secret.";

const Clock::WallTime k20200814T155401 = Clock::WallTime(std::chrono::seconds(1597420441));

using Scopes = std::vector<std::string>;

/// Collects gauth's log messages while alive (the handler is process-wide).
class LogCapture {
 public:
  LogCapture() {
    gauth::set_log_handler([this](LogLevel level, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex_);
      entries_.emplace_back(level, std::string(message));
    });
  }
  ~LogCapture() {
    gauth::set_log_handler([](LogLevel level, std::string_view message) {
      if (level >= LogLevel::kWarning)
        std::fprintf(stderr, "gauth: %s: %.*s\n", to_string(level), static_cast<int>(message.size()),
                     message.data());
    });
  }
  std::vector<std::pair<LogLevel, std::string>> entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<LogLevel, std::string>> entries_;
};

struct Fixture {
  FakeTransport transport;

  /// A builder on the fake transport's virtual time.
  Credentials::Builder builder() {
    Credentials::Builder b;
    b.clock(transport);
    return b;
  }

  /// Python's make_credentials() (sync): no token, the §10.0 constants and a rapt token.
  Credentials::Builder make_credentials() {
    Credentials::Builder b = builder();
    b.refresh_token(kRefreshToken)
        .token_uri(kTokenUri)
        .client_id(kClientId)
        .client_secret(kClientSecret)
        .rapt_token(kRaptToken);
    return b;
  }

  Clock::WallTime now() const { return transport.wall_now(); }

  /// refresh(), then everything due now (no retry waits).
  Status refresh(const gauth::Credentials& c) {
    std::optional<Status> out;
    int calls = 0;
    c.refresh(transport, [&](Status s) {
      ++calls;
      out = std::move(s);
    });
    transport.run();
    REQUIRE(calls == 1);
    return *out;
  }

  /// refresh(), letting virtual time run through the retry waits.
  Status refresh_waiting(const gauth::Credentials& c) {
    std::optional<Status> out;
    c.refresh(transport, [&](Status s) { out = std::move(s); });
    transport.advance(40s);
    REQUIRE(out);
    return *out;
  }

  StatusOr<Headers> before_request(const gauth::Credentials& c, Headers headers = {}) {
    std::optional<StatusOr<Headers>> out;
    c.before_request(transport, "GET", "https://storage.googleapis.com/", std::move(headers),
                     [&](StatusOr<Headers> h) { out.emplace(std::move(h)); });
    transport.run();
    REQUIRE(out);
    return std::move(*out);
  }

  HttpRequest request(std::size_t i) const {
    auto all = transport.requests();
    REQUIRE(all.size() > i);
    return all[i];
  }
};

const std::string* header(const Headers& h, std::string_view name) { return h.find(name); }

std::string value_of(const Headers& h, std::string_view name) { return h.value_or_empty(name); }

rapidjson::Document parse(const std::string& text) {
  auto parsed = gauth::detail::parse_json(text, "to_json output");
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

}  // namespace

// ---- default state ------------------------------------------------------------------------

// Mirrors test_credentials_async.py::test_default_state (10.1 #1) and
// test_credentials.py::test_default_state (10.2 #23).
TEST_CASE("credentials without a token are invalid but not expired, and echo their fields",
          "[credentials][state]") {
  Fixture f;
  auto c = f.make_credentials().build();
  CHECK_FALSE(c->valid());
  CHECK_FALSE(c->expired());
  CHECK_FALSE(c->requires_scopes());
  CHECK(c->token_state() == TokenState::kInvalid);
  CHECK(c->refresh_token() == std::string(kRefreshToken));
  CHECK(c->token_uri() == std::string(kTokenUri));
  CHECK(c->client_id() == std::string(kClientId));
  CHECK(c->client_secret() == std::string(kClientSecret));
  CHECK(c->rapt_token() == std::string(kRaptToken));
  CHECK_FALSE(c->refresh_handler());
  CHECK_FALSE(c->token());
  CHECK_FALSE(c->expiry());
  CHECK_FALSE(c->quota_project_id());
  CHECK(c->universe_domain() == "googleapis.com");
  CHECK(c->account().empty());
}

// ---- refresh ---------------------------------------------------------------------------------

// Mirrors test_credentials.py::test_refresh_success (10.2 #31). Python's mock
// returns a new rapt token from its reauthentication flow; gauth has none
// (DESIGN.md: reauthentication is reported, not performed), so the rapt token
// sent is the one kept.
TEST_CASE("refresh posts the refresh grant and stores the token, expiry and id token",
          "[credentials][refresh]") {
  Fixture f;
  auto c = f.make_credentials().build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "id_token": "id_token"})");
  Status s = f.refresh(*c);
  REQUIRE(s.ok());

  REQUIRE(f.transport.request_count() == 1);
  HttpRequest sent = f.request(0);
  CHECK(sent.method == "POST");
  CHECK(sent.url == kTokenUri);
  CHECK(sent.body ==
        "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token"
        "&rapt=rapt_token");
  REQUIRE(sent.headers.size() == 1);
  CHECK(value_of(sent.headers, "content-type") == "application/x-www-form-urlencoded");

  CHECK(c->token() == std::string("token"));
  CHECK(c->expiry() == f.now() + 500s);
  CHECK(c->id_token() == std::string("id_token"));
  CHECK(c->rapt_token() == std::string(kRaptToken));
  CHECK(c->refresh_token() == std::string(kRefreshToken));  // not rotated: kept
  CHECK(c->valid());
  CHECK(c->token_state() == TokenState::kFresh);
}

// Mirrors test_credentials_async.py::test_refresh_success (10.1 #2): no scopes,
// no rapt token, so neither is sent.
TEST_CASE("refresh without scopes or rapt token sends neither", "[credentials][refresh]") {
  Fixture f;
  auto c = f.builder()
               .refresh_token(kRefreshToken)
               .token_uri(kTokenUri)
               .client_id(kClientId)
               .client_secret(kClientSecret)
               .build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "id_token": "id_token"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(
      f.request(0).body ==
      "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token");
  CHECK(c->token() == std::string("token"));
  CHECK(c->expiry() == f.now() + 500s);
  CHECK(c->id_token() == std::string("id_token"));
  CHECK_FALSE(c->rapt_token());
  CHECK(c->valid());
}

// Mirrors test_credentials_async.py::test_refresh_no_refresh_token (10.1 #3) and
// test_credentials.py::test_refresh_no_refresh_token (10.2 #32).
TEST_CASE("refresh without a refresh token fails with 'necessary fields' and sends nothing",
          "[credentials][refresh]") {
  Fixture f;
  auto bare = f.builder().build();  // Credentials(token=None, refresh_token=None)
  Status s = f.refresh(*bare);
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK(s.message() == kNecessaryFields);
  CHECK_FALSE(s.retryable());
  CHECK(f.transport.request_count() == 0);

  // Each of token_uri, client_id and client_secret is necessary too (notes §2.1 step 4).
  CHECK(f.refresh(*f.make_credentials().token_uri(std::nullopt).build()).message() == kNecessaryFields);
  CHECK(f.refresh(*f.make_credentials().client_id(std::nullopt).build()).message() == kNecessaryFields);
  CHECK(f.refresh(*f.make_credentials().client_secret(std::nullopt).build()).message() == kNecessaryFields);
  CHECK(f.refresh(*f.make_credentials().refresh_token(std::nullopt).build()).message() == kNecessaryFields);
  CHECK(f.transport.request_count() == 0);
}

// Python checks `is None`: an empty string passes the check (notes §2.1 step 4).
TEST_CASE("an empty client secret is not a missing one", "[credentials][refresh]") {
  Fixture f;
  auto c = f.make_credentials().client_secret("").build();
  f.transport.enqueue_json(200, R"({"access_token": "token"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(f.request(0).body ==
        "grant_type=refresh_token&client_id=client_id&client_secret=&refresh_token=refresh_token&rapt=rapt_"
        "token");
}

// Mirrors test_credentials.py::test_refresh_with_non_default_universe_domain (10.2 #30).
// (Python's async class lacks the check, notes §2.3; gauth follows the sync class.)
TEST_CASE("refresh outside the googleapis.com universe fails with Python's message and sends nothing",
          "[credentials][refresh][universe]") {
  Fixture f;
  auto c = f.make_credentials().token("token").universe_domain("dummy_universe.com").build();
  Status s = f.refresh(*c);
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK_THAT(s.message(),
             Catch::Contains("refresh is only supported in the default googleapis.com universe domain"));
  CHECK(s.message() ==
        "User credential refresh is only supported in the default googleapis.com universe domain, but the "
        "current "
        "universe domain is dummy_universe.com. If you created the credential with an access token, it's "
        "likely "
        "that the provided token is expired now, please update your code with a valid token.");
  CHECK_FALSE(s.retryable());
  CHECK(f.transport.request_count() == 0);
  CHECK(c->token() == std::string("token"));
}

// Mirrors test_credentials_async.py::test_credentials_with_scopes_requested_refresh_success
// (10.1 #4). Python's mock returns a new rapt token (reauthentication); gauth keeps the one sent.
TEST_CASE("requested scopes and the rapt token are sent; an answer without 'scope' grants nothing new",
          "[credentials][refresh][scopes]") {
  Fixture f;
  Scopes scopes = {"email", "profile"};
  auto c = f.make_credentials().scopes(scopes).rapt_token("old_rapt_token").build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "id_token": "id_token"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(f.request(0).body ==
        "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token"
        "&scope=email+profile&rapt=old_rapt_token");
  CHECK(c->token() == std::string("token"));
  CHECK(c->expiry() == f.now() + 500s);
  CHECK(c->id_token() == std::string("id_token"));
  CHECK(c->has_scopes(scopes));
  CHECK(c->rapt_token() == std::string("old_rapt_token"));
  CHECK_FALSE(c->granted_scopes());
  CHECK(c->valid());
}

// Mirrors test_credentials_async.py::test_credentials_with_scopes_returned_refresh_success
// (10.1 #5) and test_credentials.py::test_credentials_with_scopes_returned_refresh_success
// (10.2 #41). (Python's async class never records granted_scopes, notes §2.3;
// gauth follows the sync class.)
TEST_CASE("granted scopes equal to the requested ones are recorded without a warning",
          "[credentials][refresh][scopes]") {
  Fixture f;
  LogCapture log;
  Scopes scopes = {"email", "profile"};
  auto c = f.make_credentials().scopes(scopes).build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "scope": "email profile"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(c->has_scopes(scopes));
  CHECK(c->granted_scopes() == std::optional<Scopes>(scopes));
  CHECK(c->valid());
  CHECK(log.entries().empty());
}

// Mirrors test_credentials.py::test_credentials_with_scopes_refresh_different_granted_scopes
// (10.2 #43) and test_credentials_async.py::test_credentials_with_scopes_refresh_failure_raises_refresh_error
// (10.1 #6). Python's async class raises a RefreshError (after storing the new
// token); gauth deliberately follows the sync class (DESIGN.md): the refresh
// succeeds, granted_scopes are recorded and the missing scopes are logged as a warning.
TEST_CASE("a partial grant of the requested scopes is recorded and logged as a warning, not an error",
          "[credentials][refresh][scopes]") {
  Fixture f;
  LogCapture log;
  Scopes scopes = {"email", "profile"};
  auto c = f.make_credentials().scopes(scopes).build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "id_token": "id_token",)"
                                R"( "scope": "email"})");
  Status s = f.refresh(*c);
  CHECK(s.ok());
  CHECK(c->token() == std::string("token"));
  CHECK(c->expiry() == f.now() + 500s);
  CHECK(c->id_token() == std::string("id_token"));
  CHECK(c->has_scopes(scopes));
  CHECK(c->granted_scopes() == std::optional<Scopes>(Scopes{"email"}));
  CHECK(c->valid());
  auto entries = log.entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].first == LogLevel::kWarning);
  CHECK(entries[0].second ==
        "Not all requested scopes were granted by the authorization server, missing scopes profile.");
}

// Mirrors test_credentials.py::test_credentials_with_scopes_requested_refresh_success (10.2 #39).
TEST_CASE("scopes, not default scopes, are requested when both are set", "[credentials][refresh][scopes]") {
  Fixture f;
  Scopes scopes = {"email", "profile"};
  auto c = f.make_credentials()
               .scopes(scopes)
               .default_scopes(Scopes{"https://www.googleapis.com/auth/cloud-platform"})
               .build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "scope": "email profile"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(f.request(0).body ==
        "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token"
        "&scope=email+profile&rapt=rapt_token");
  CHECK(c->granted_scopes() == std::optional<Scopes>(scopes));
  CHECK(c->valid());
}

// Mirrors test_credentials.py::test_credentials_with_only_default_scopes_requested
// (10.2 #40). Python's async class ignores default_scopes (notes §2.3); gauth
// follows the sync class (DESIGN.md): they are sent when scopes are unset.
TEST_CASE("default scopes are requested when no scopes are set", "[credentials][refresh][scopes]") {
  Fixture f;
  Scopes defaults = {"email", "profile"};
  auto c = f.make_credentials().default_scopes(defaults).build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "scope": "email profile"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(f.request(0).body ==
        "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token"
        "&scope=email+profile&rapt=rapt_token");
  CHECK(c->granted_scopes() == std::optional<Scopes>(defaults));
  CHECK(c->has_scopes(defaults));
  CHECK(c->valid());
}

// Mirrors test_credentials.py::test_credentials_with_only_default_scopes_requested_different_granted_scopes
// (10.2 #42).
TEST_CASE("a partial grant of the default scopes is recorded and logged, not an error",
          "[credentials][refresh][scopes]") {
  Fixture f;
  LogCapture log;
  auto c = f.make_credentials().default_scopes(Scopes{"email", "profile"}).build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500, "scope": "email"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(c->granted_scopes() == std::optional<Scopes>(Scopes{"email"}));
  CHECK(c->valid());
  auto entries = log.entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].first == LogLevel::kWarning);
  CHECK_THAT(entries[0].second, Catch::EndsWith("missing scopes profile."));
}

// Python google-auth has no such test: every answer of notes §2.5's
// "Retryable summary" through refresh(), counting requests on virtual time.
// The messages without a description differ from Python's ("<error>: None"),
// as DESIGN.md decides.
TEST_CASE("each kind of token endpoint answer ends refresh as Python's summary table says",
          "[credentials][refresh][errors]") {
  struct Row {
    std::vector<std::pair<int, std::string>> answers;
    std::size_t requests;
    std::string message;  // empty: success
    bool retryable;
  };
  const std::vector<Row> rows = {
      {{{400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})"}},
       1,
       "invalid_grant: Token has been expired or revoked.",
       false},
      {{{401, R"({"error":"unauthorized_client"})"}}, 1, "unauthorized_client", false},
      {{{500, R"({"error":"server_error"})"},
        {500, R"({"error":"server_error"})"},
        {500, R"({"error":"server_error"})"}},
       3,
       "server_error",
       true},
      {{{429, R"({"error":"rate_limited"})"}, {200, R"({"access_token":"token","expires_in":3600})"}},
       2,
       "",
       false},
      {{{400, R"({"error":"x","error_description":"temporarily_unavailable"})"},
        {400, R"({"error":"x","error_description":"temporarily_unavailable"})"},
        {400, R"({"error":"x","error_description":"temporarily_unavailable"})"}},
       3,
       "x: temporarily_unavailable",
       true},
      {{{400, R"({"foo":"bar"})"}}, 1, R"({"foo": "bar"})", false},
      {{{400, "not json"}}, 1, "not json", false},
      {{{200, R"({"expires_in":10})"}}, 1, "No access token in response.", false},
  };
  for (const Row& row : rows) {
    Fixture f;
    INFO(row.answers.front().first << " " << row.answers.front().second);
    for (const auto& [status, body] : row.answers) f.transport.enqueue_json(status, body);
    auto c = f.make_credentials().token("old").expiry(f.now() - 1s).build();
    Status s = f.refresh_waiting(*c);
    CHECK(f.transport.request_count() == row.requests);
    if (row.message.empty()) {
      CHECK(s.ok());
      CHECK(c->token() == std::string("token"));
    } else {
      CHECK(s.code() == StatusCode::kRefreshError);
      CHECK(s.message() == row.message);
      CHECK(s.retryable() == row.retryable);
      CHECK(c->token() == std::string("old"));  // a failed refresh changes nothing
    }
  }
}

// Python google-auth has no credential-level test of this (notes §2.6, 10.6 R3):
// rapt_required / invalid_rapt end the refresh with kReauthRequired and
// Python's message, after one request.
TEST_CASE("a refresh that needs reauthentication fails with kReauthRequired after one request",
          "[credentials][refresh][reauth]") {
  for (const char* subtype : {"rapt_required", "invalid_rapt"}) {
    Fixture f;
    INFO(subtype);
    f.transport.enqueue_json(
        400, std::string(R"({"error": "invalid_grant", "error_description": "reauth related",)"
                         R"( "error_subtype": ")") +
                 subtype + "\"}");
    auto c = f.make_credentials().build();
    Status s = f.refresh_waiting(*c);
    CHECK(s.code() == StatusCode::kReauthRequired);
    CHECK(s.message() == kReauthMessage);
    CHECK_FALSE(s.retryable());
    CHECK(f.transport.request_count() == 1);
    CHECK_FALSE(c->token());
  }
}

// Python: `_id_token = grant_response.get("id_token")` (notes §2.1 step 6).
TEST_CASE("the id token is that of the latest answer, and goes when the answer has none",
          "[credentials][refresh]") {
  Fixture f;
  auto c = f.make_credentials().id_token("old_id_token").build();
  CHECK(c->id_token() == std::string("old_id_token"));
  f.transport.enqueue_json(200, R"({"access_token": "a1", "id_token": "new_id_token"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(c->id_token() == std::string("new_id_token"));
  f.transport.enqueue_json(200, R"({"access_token": "a2"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK_FALSE(c->id_token());
}

// Mirrors test__client.py::test__parse_expiry_none (10.3 #75) at the credential level:
// no expires_in means the token never expires.
TEST_CASE("a token granted without expires_in never expires", "[credentials][refresh]") {
  Fixture f;
  auto c = f.make_credentials().build();
  f.transport.enqueue_json(200, R"({"access_token": "forever"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK_FALSE(c->expiry());
  f.transport.advance(24h * 365);
  CHECK(c->valid());
  CHECK(c->token_state() == TokenState::kFresh);
}

// Python google-auth has no such test (notes §2.5: rotation). The token
// listener is gauth's way to persist a rotated refresh token.
TEST_CASE("the token listener sees a rotated refresh token, which the next refresh sends",
          "[credentials][refresh][rotation]") {
  Fixture f;
  std::vector<TokenUpdate> updates;
  auto c = f.make_credentials().token_listener([&](const TokenUpdate& u) { updates.push_back(u); }).build();

  f.transport.enqueue_json(200,
                           R"({"access_token": "a1", "refresh_token": "rotated-1", "expires_in": 3600})");
  bool listener_ran_first = false;
  c->refresh(f.transport, [&](Status s) {
    CHECK(s.ok());
    listener_ran_first = updates.size() == 1;
  });
  f.transport.run();
  CHECK(listener_ran_first);  // told before the waiters complete
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].token == "a1");
  CHECK(updates[0].expiry == std::optional<Clock::WallTime>(f.now() + 3600s));
  CHECK(updates[0].rotated_refresh_token == std::optional<std::string>("rotated-1"));
  CHECK(c->refresh_token() == std::string("rotated-1"));
  CHECK_FALSE(f.request(0).fresh_connection);

  // The next refresh sends the rotated token, on a fresh connection (DESIGN.md).
  f.transport.enqueue_json(200, R"({"access_token": "a2", "expires_in": 3600})");
  REQUIRE(f.refresh(*c).ok());
  CHECK_THAT(f.request(1).body, Catch::Contains("&refresh_token=rotated-1"));
  CHECK(f.request(1).fresh_connection);
  REQUIRE(updates.size() == 2);
  CHECK(updates[1].token == "a2");
  CHECK_FALSE(updates[1].rotated_refresh_token);  // absent: no rotation

  f.transport.enqueue_json(200, R"({"access_token": "a3", "refresh_token": "rotated-1"})");
  REQUIRE(f.refresh(*c).ok());
  REQUIRE(updates.size() == 3);
  CHECK_FALSE(updates[2].rotated_refresh_token);  // the same one again: no rotation
  CHECK_FALSE(updates[2].expiry);
}

// Python: refresh_token = data.get("refresh_token", old), so JSON null clears
// it (notes §2.5). gauth differs (DESIGN.md): null keeps the old one.
TEST_CASE("a null refresh_token in the answer keeps the refresh token", "[credentials][refresh][rotation]") {
  Fixture f;
  auto c = f.make_credentials().build();
  f.transport.enqueue_json(200, R"({"access_token": "a1", "refresh_token": null})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(c->refresh_token() == std::string(kRefreshToken));
  f.transport.enqueue_json(200, R"({"access_token": "a2"})");
  REQUIRE(f.refresh(*c).ok());
  CHECK_THAT(f.request(1).body, Catch::Contains("&refresh_token=refresh_token"));
}

// ---- refresh handler ------------------------------------------------------------------------

namespace {

/// A refresh handler that records its calls and answers at once with `result`.
struct RecordingHandler {
  int calls = 0;
  std::vector<Scopes> scopes;
  Transport* transport = nullptr;
  RefreshHandlerResult result;

  oauth2::RefreshHandler handler() {
    return [this](Transport& t, const Scopes& s, std::function<void(StatusOr<RefreshHandlerResult>)> done) {
      ++calls;
      scopes.push_back(s);
      transport = &t;
      done(result);
    };
  }
};

}  // namespace

// Mirrors test_credentials.py::test_refresh_handler_setter_and_getter (10.2 #28).
// gauth credentials are immutable: there is no setter, the Builder sets it.
TEST_CASE("the refresh handler given is the one returned", "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  h.result = {std::string("t"), f.now() + 3600s};
  auto with = f.builder().refresh_handler(h.handler()).build();
  REQUIRE(with->refresh_handler());
  with->refresh_handler()(f.transport, {}, [](StatusOr<RefreshHandlerResult>) {});
  CHECK(h.calls == 1);
  CHECK_FALSE(f.builder().build()->refresh_handler());
}

// Mirrors test_credentials.py::test_refresh_with_refresh_token_and_refresh_handler (10.2 #33).
TEST_CASE("with a refresh token the refresh grant is used and the handler never called",
          "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  h.result = {std::string("from handler"), f.now() + 3600s};
  auto c = f.make_credentials().refresh_handler(h.handler()).build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 500})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(h.calls == 0);
  CHECK(f.transport.request_count() == 1);
  CHECK(c->token() == std::string("token"));
}

// Mirrors test_credentials.py::test_refresh_with_refresh_handler_success_scopes (10.2 #34).
TEST_CASE("without a refresh token the handler supplies the token, asked for the scopes",
          "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  const auto expiry = f.now() + 2800s;
  h.result = {std::string("ACCESS_TOKEN"), expiry};
  Scopes scopes = {"email", "profile"};
  auto c = f.builder()
               .scopes(scopes)
               .default_scopes(Scopes{"https://www.googleapis.com/auth/cloud-platform"})
               .refresh_handler(h.handler())
               .build();
  REQUIRE(f.refresh(*c).ok());
  CHECK(c->token() == std::string("ACCESS_TOKEN"));
  CHECK(c->expiry() == expiry);
  CHECK(c->valid());
  CHECK_FALSE(c->expired());
  REQUIRE(h.calls == 1);
  CHECK(h.scopes[0] == scopes);
  CHECK(h.transport == &f.transport);
  CHECK(f.transport.request_count() == 0);
}

// Mirrors test_credentials.py::test_refresh_with_refresh_handler_success_default_scopes
// (10.2 #35). (Replacing the handler through a setter has no counterpart: immutable.)
TEST_CASE("without scopes the handler is asked for the default scopes", "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  const auto expiry = f.now() + 2800s;
  h.result = {std::string("ACCESS_TOKEN"), expiry};
  Scopes defaults = {"https://www.googleapis.com/auth/cloud-platform"};
  auto c = f.builder().default_scopes(defaults).refresh_handler(h.handler()).build();
  REQUIRE(f.refresh(*c).ok());
  REQUIRE(h.calls == 1);
  CHECK(h.scopes[0] == defaults);
  CHECK(c->token() == std::string("ACCESS_TOKEN"));
  CHECK(c->expiry() == expiry);
  CHECK(c->valid());
}

// Mirrors test_credentials.py::test_refresh_with_refresh_handler_invalid_token (10.2 #36).
TEST_CASE("a handler answer without a token is refused and changes nothing", "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  h.result = {std::nullopt, f.now() + 2800s};
  auto c = f.builder().scopes(Scopes{"email"}).refresh_handler(h.handler()).build();
  Status s = f.refresh(*c);
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK(s.message() == "The refresh_handler returned token is not a string.");
  CHECK_FALSE(c->token());
  CHECK_FALSE(c->expiry());
}

// Mirrors test_credentials.py::test_refresh_with_refresh_handler_invalid_expiry (10.2 #37).
TEST_CASE("a handler answer without an expiry is refused and changes nothing", "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  h.result = {std::string("TOKEN"), std::nullopt};
  auto c = f.builder().refresh_handler(h.handler()).build();
  Status s = f.refresh(*c);
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK(s.message() == "The refresh_handler returned expiry is not a datetime object.");
  CHECK_FALSE(c->token());
  CHECK_FALSE(c->expiry());
}

// Mirrors test_credentials.py::test_refresh_with_refresh_handler_expired_token (10.2 #38):
// the boundary is `now >= expiry - REFRESH_THRESHOLD`.
TEST_CASE("a handler token within the refresh threshold is refused as already expired",
          "[credentials][handler]") {
  Fixture f;
  RecordingHandler h;
  h.result = {std::string("TOKEN"), f.now() + kRefreshThreshold};
  auto c = f.builder().refresh_handler(h.handler()).build();
  Status s = f.refresh(*c);
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK(s.message() == "The credentials returned by the refresh_handler are already expired.");
  CHECK_FALSE(c->token());
  CHECK_FALSE(c->expiry());

  RecordingHandler later;
  later.result = {std::string("TOKEN"), f.now() + kRefreshThreshold + 1s};
  auto d = f.builder().refresh_handler(later.handler()).build();
  REQUIRE(f.refresh(*d).ok());
  CHECK(d->token() == std::string("TOKEN"));
}

TEST_CASE("a refresh timeout is taken to be at least 1 ms and at most a year", "[credentials][handler]") {
  Fixture f;
  std::function<void(StatusOr<RefreshHandlerResult>)> pending;
  oauth2::RefreshHandler never = [&](Transport&, const Scopes&,
                                     std::function<void(StatusOr<RefreshHandlerResult>)> d) {
    pending = std::move(d);
  };
  std::optional<Status> patient;
  auto forever = f.builder().refresh_handler(never).refresh_timeout(std::chrono::milliseconds::max()).build();
  forever->refresh(f.transport, [&](Status s) { patient = s; });
  f.transport.advance(std::chrono::hours(24 * 364));
  CHECK_FALSE(patient);  // an overflowed deadline would have passed at once
  f.transport.advance(std::chrono::hours(24 * 2));
  REQUIRE(patient);
  CHECK_THAT(patient->message(), Catch::Contains("within 31536000000 ms"));

  std::optional<Status> hasty;
  auto none = f.builder().refresh_handler(never).refresh_timeout(std::chrono::milliseconds(-1)).build();
  none->refresh(f.transport, [&](Status s) { hasty = s; });
  f.transport.advance(1ms);
  REQUIRE(hasty);
  CHECK_THAT(hasty->message(), Catch::Contains("within 1 ms"));
}

// Python's handler is synchronous; gauth's may answer later, or fail, and is
// bounded by the refresh timeout.
TEST_CASE("a handler may answer later, fail, or time out", "[credentials][handler]") {
  Fixture f;
  std::function<void(StatusOr<RefreshHandlerResult>)> pending;
  oauth2::RefreshHandler slow = [&](Transport&, const Scopes&,
                                    std::function<void(StatusOr<RefreshHandlerResult>)> d) {
    pending = std::move(d);
  };
  auto c = f.builder().refresh_handler(slow).refresh_timeout(5s).build();

  std::optional<Status> first;
  c->refresh(f.transport, [&](Status s) { first = s; });
  f.transport.advance(2s);
  REQUIRE(pending);
  CHECK_FALSE(first);
  pending(RefreshHandlerResult{std::string("late"), f.now() + 3600s});
  f.transport.run();
  REQUIRE(first);
  CHECK(first->ok());
  CHECK(c->token() == std::string("late"));

  pending = nullptr;
  std::optional<Status> second;
  c->refresh(f.transport, [&](Status s) { second = s; });
  f.transport.run();
  REQUIRE(pending);
  pending(Status(StatusCode::kUserAccessTokenError, "the vault is sealed"));
  f.transport.run();
  REQUIRE(second);
  CHECK(second->code() == StatusCode::kUserAccessTokenError);
  CHECK(second->message() == "the vault is sealed");
  CHECK(c->token() == std::string("late"));

  pending = nullptr;
  std::optional<Status> third;
  c->refresh(f.transport, [&](Status s) { third = s; });
  f.transport.advance(4900ms);
  CHECK_FALSE(third);
  f.transport.advance(100ms);
  REQUIRE(third);
  CHECK(third->code() == StatusCode::kTimeout);
  CHECK(third->retryable());
}

// ---- apply and before_request ------------------------------------------------------------------

// Mirrors test_credentials_async.py::test_apply_with_quota_project_id (10.1 #7) and
// test_credentials.py::test_apply_with_quota_project_id (10.2 #44).
TEST_CASE("apply sets the bearer token and the quota project", "[credentials][apply]") {
  Fixture f;
  auto c = f.make_credentials().token("token").quota_project_id("quota-project-123").build();
  Headers h;
  REQUIRE(c->apply(h).ok());
  CHECK(value_of(h, "authorization") == "Bearer token");
  CHECK(value_of(h, "x-goog-user-project") == "quota-project-123");
}

// Mirrors test_credentials_async.py::test_apply_with_no_quota_project_id (10.1 #8) and
// test_credentials.py::test_apply_with_no_quota_project_id (10.2 #45).
TEST_CASE("apply without a quota project sets no x-goog-user-project", "[credentials][apply]") {
  Fixture f;
  auto c = f.make_credentials().token("token").build();
  Headers h;
  REQUIRE(c->apply(h).ok());
  CHECK(value_of(h, "authorization") == "Bearer token");
  CHECK(header(h, "x-goog-user-project") == nullptr);
  CHECK(h.size() == 1);
}

// Python's apply (notes §4): `token or self.token`, overwriting; None fails.
TEST_CASE("apply takes a non-empty override, overwrites, and fails without a token", "[credentials][apply]") {
  Fixture f;
  auto c = f.make_credentials().token("token").build();
  Headers h{{"Authorization", "Bearer stale"}};
  REQUIRE(c->apply(h, std::string_view("override")).ok());
  CHECK(value_of(h, "authorization") == "Bearer override");
  CHECK(h.size() == 1);
  REQUIRE(c->apply(h, std::string_view("")).ok());
  CHECK(value_of(h, "authorization") == "Bearer token");

  auto none = f.make_credentials().build();
  Headers empty;
  Status s = none->apply(empty);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(empty.empty());
}

// Mirrors test_credentials_async.py::test_with_quota_project (10.1 #9) and
// test_credentials.py::test_with_quota_project (10.2 #46).
TEST_CASE("with_quota_project gives a copy billed elsewhere, sharing the token", "[credentials][copies]") {
  Fixture f;
  auto c = f.make_credentials().token("token").quota_project_id("quota-project-123").build();
  auto copy = c->with_quota_project("new-project-456");
  CHECK(copy->quota_project_id() == std::string("new-project-456"));
  Headers h;
  REQUIRE(c->apply(h).ok());
  CHECK(value_of(h, "x-goog-user-project") == "quota-project-123");
  Headers hc;
  REQUIRE(copy->apply(hc).ok());
  CHECK(value_of(hc, "x-goog-user-project") == "new-project-456");

  // gauth: such copies share one token cache, so they refresh once (DESIGN.md).
  f.transport.enqueue_json(200, R"({"access_token": "shared", "expires_in": 3600})");
  REQUIRE(f.refresh(*c).ok());
  CHECK(copy->token() == std::string("shared"));
  // The base-class overload gives the same kind of copy.
  std::shared_ptr<const gauth::Credentials> base = c;
  CHECK(base->with_quota_project(std::nullopt)->token() == std::string("shared"));
  CHECK_FALSE(base->with_quota_project(std::nullopt)->quota_project_id());
}

// Mirrors test_credentials_async.py::test_before_request (10.1 #16).
TEST_CASE("before_request on invalid credentials refreshes, then applies the new token",
          "[credentials][before_request]") {
  Fixture f;
  auto c = f.make_credentials().quota_project_id("qp").build();
  f.transport.enqueue_json(200, R"({"access_token": "token", "expires_in": 3600})");
  auto h = f.before_request(*c, Headers{{"accept", "application/json"}});
  REQUIRE(h.ok());
  CHECK(f.transport.request_count() == 1);
  CHECK(value_of(*h, "authorization") == "Bearer token");
  CHECK(value_of(*h, "x-goog-user-project") == "qp");
  CHECK(value_of(*h, "accept") == "application/json");
  CHECK(c->valid());
}

// Mirrors test_credentials_async.py::test_before_request_no_refresh (10.1 #17).
TEST_CASE("before_request on valid credentials applies the token without a refresh",
          "[credentials][before_request]") {
  Fixture f;
  auto c = f.make_credentials().token("token").build();  // no expiry: valid for ever
  auto h = f.before_request(*c);
  REQUIRE(h.ok());
  CHECK(f.transport.request_count() == 0);
  CHECK(value_of(*h, "authorization") == "Bearer token");
  Headers fast;
  CHECK(c->try_apply(fast));
  CHECK(value_of(fast, "authorization") == "Bearer token");
}

// Mirrors test_credentials.py::test_token_usage_metrics (10.2 #27). (Python's
// async before_request adds no metric header, notes §4; gauth follows the sync class.)
TEST_CASE("before_request adds the cred-type/u usage metric", "[credentials][before_request]") {
  Fixture f;
  auto c = f.make_credentials().token("token").build();
  auto h = f.before_request(*c);
  REQUIRE(h.ok());
  CHECK(value_of(*h, "authorization") == "Bearer token");
  CHECK(value_of(*h, "x-goog-api-client") == "cred-type/u");
  // Python's add_metric_header appends to a value already there.
  auto appended = f.before_request(*c, Headers{{"x-goog-api-client", "gl-cpp/17"}});
  REQUIRE(appended.ok());
  CHECK(value_of(*appended, "x-goog-api-client") == "gl-cpp/17 cred-type/u");
}

// Mirrors test_credentials.py::test_nonblocking_refresh_stale_credentials (10.6 B2):
// a STALE token is served at once and one refresh starts in the background.
TEST_CASE("before_request serves a stale token and refreshes it in the background",
          "[credentials][before_request][stale]") {
  Fixture f;
  auto c = f.make_credentials().token("stale").expiry(f.now() + kRefreshThreshold - 1s).build();
  CHECK(c->token_state() == TokenState::kStale);
  CHECK_FALSE(c->valid());
  f.transport.set_latency(100ms);
  f.transport.enqueue_json(200, R"({"access_token": "renewed", "expires_in": 3600})");
  auto h = f.before_request(*c);
  REQUIRE(h.ok());
  CHECK(value_of(*h, "authorization") == "Bearer stale");
  CHECK(f.transport.request_count() == 1);
  f.transport.advance(100ms);
  CHECK(c->token() == std::string("renewed"));
  CHECK(c->token_state() == TokenState::kFresh);
}

// ---- token state ------------------------------------------------------------------------------

// Mirrors tests/test_credentials.py::test_expired_and_valid (10.6 B1; also in
// tests_async) and ::test_token_state_no_expiry (10.6 B3), on virtual time.
TEST_CASE("expired and valid follow the 225 s refresh threshold; no expiry never expires",
          "[credentials][state]") {
  Fixture f;
  auto no_expiry = f.builder().token("token").build();
  CHECK(no_expiry->valid());
  CHECK_FALSE(no_expiry->expired());
  CHECK(no_expiry->token_state() == TokenState::kFresh);

  auto later = f.builder().token("token").expiry(f.now() + kRefreshThreshold + 1s).build();
  CHECK(later->valid());
  CHECK_FALSE(later->expired());
  CHECK(later->token_state() == TokenState::kFresh);

  auto now = f.builder().token("token").expiry(f.now()).build();
  CHECK(now->expired());
  CHECK_FALSE(now->valid());
  CHECK(now->token_state() == TokenState::kInvalid);

  // The same credentials, as virtual time passes.
  f.transport.advance(1s);
  CHECK(later->expired());
  CHECK_FALSE(later->valid());
  CHECK(later->token_state() == TokenState::kStale);
  f.transport.advance(kRefreshThreshold);
  CHECK(later->token_state() == TokenState::kInvalid);
}

// Mirrors tests/test_credentials.py::test_readonly_scoped_credentials_scopes (10.6 B4).
TEST_CASE("has_scopes checks the scopes, else the default scopes", "[credentials][scopes]") {
  Fixture f;
  auto scoped = f.builder().scopes(Scopes{"one", "two"}).build();
  CHECK(scoped->has_scopes({"one"}));
  CHECK(scoped->has_scopes({"two"}));
  CHECK(scoped->has_scopes({"one", "two"}));
  CHECK_FALSE(scoped->has_scopes({"three"}));
  CHECK(scoped->has_scopes({}));

  auto defaulted = f.builder().default_scopes(Scopes{"one", "two"}).build();
  CHECK(defaulted->has_scopes({"one", "two"}));
  CHECK_FALSE(defaulted->has_scopes({"three"}));

  auto none = f.builder().build();
  CHECK(none->has_scopes({}));
  CHECK_FALSE(none->has_scopes({"one"}));

  // With scopes set, default scopes are not consulted (notes §7).
  auto both = f.builder().scopes(Scopes{"a"}).default_scopes(Scopes{"d"}).build();
  CHECK_FALSE(both->has_scopes({"d"}));
}

// Mirrors test_credentials.py::test_init_with_set_scopes (10.2 #22), as far as
// C++ allows: scopes are a vector (no sets), kept in order and returned by
// reference; immutable, so "appending c persists" has no counterpart.
TEST_CASE("scopes are kept as given and returned as the same object each call", "[credentials][scopes]") {
  Fixture f;
  auto c = f.builder().scopes(Scopes{"a", "b"}).build();
  CHECK(&c->scopes() == &c->scopes());
  CHECK(c->scopes() == std::optional<Scopes>(Scopes{"a", "b"}));
  auto json = parse(c->to_json());
  REQUIRE(json["scopes"].IsArray());
  REQUIRE(json["scopes"].Size() == 2);
  CHECK(std::string(json["scopes"][0].GetString()) == "a");
  CHECK(std::string(json["scopes"][1].GetString()) == "b");
}

// ---- copies --------------------------------------------------------------------------------------

// Mirrors test_credentials.py::test_with_universe_domain (10.2 #47).
TEST_CASE("with_universe_domain changes only the copy's universe domain", "[credentials][copies]") {
  Fixture f;
  auto c = f.make_credentials().build();
  CHECK(c->universe_domain() == "googleapis.com");
  auto copy = c->with_universe_domain("dummy_universe.com");
  CHECK(copy->universe_domain() == "dummy_universe.com");
  CHECK(c->universe_domain() == "googleapis.com");
  CHECK(f.refresh(*copy).message() ==
        "User credential refresh is only supported in the default googleapis.com universe domain, but the "
        "current "
        "universe domain is dummy_universe.com. If you created the credential with an access token, it's "
        "likely "
        "that the provided token is expired now, please update your code with a valid token.");
}

// Mirrors test_credentials.py::test_with_account (10.2 #48).
TEST_CASE("with_account changes only the copy's account", "[credentials][copies]") {
  Fixture f;
  auto c = f.make_credentials().build();
  CHECK(c->account().empty());
  auto copy = c->with_account("mock@example.com");
  CHECK(copy->account() == "mock@example.com");
  CHECK(c->account().empty());
}

// Mirrors test_credentials.py::test_with_token_uri (10.2 #49).
TEST_CASE("with_token_uri changes the copy's token endpoint, which its refresh uses",
          "[credentials][copies]") {
  Fixture f;
  auto c = Credentials::from_authorized_user_info(kAuthUserInfo, std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->token_uri() == std::string("https://oauth2.googleapis.com/token"));
  auto copy = (*c)->with_token_uri("https://oauth2-eu.googleapis.com/token");
  CHECK(copy->token_uri() == std::string("https://oauth2-eu.googleapis.com/token"));
  CHECK((*c)->token_uri() == std::string("https://oauth2.googleapis.com/token"));
  f.transport.enqueue_json(200, R"({"access_token": "eu", "expires_in": 3600})");
  REQUIRE(f.refresh(*copy).ok());
  CHECK(f.request(0).url == "https://oauth2-eu.googleapis.com/token");
}

// Python's _make_copy drops the expiry (notes §7): a copy of an expired token
// then looks valid for ever. gauth differs (DESIGN.md): copies keep token and
// expiry; all but with_quota_project get their own token cache.
TEST_CASE("copies keep the token, expiry and refresh token; only quota copies share refreshes",
          "[credentials][copies]") {
  Fixture f;
  const auto expiry = f.now() + 1000s;
  auto c = f.make_credentials().token("token").expiry(expiry).build();
  for (const auto& copy :
       {c->with_account("a@example.com"), c->with_token_uri("https://oauth2.googleapis.com/token"),
        c->with_universe_domain("googleapis.com"), c->with_quota_project("qp")}) {
    CHECK(copy->token() == std::string("token"));
    CHECK(copy->expiry() == expiry);
    CHECK(copy->refresh_token() == std::string(kRefreshToken));
    CHECK(copy->rapt_token() == std::string(kRaptToken));
    CHECK(copy->valid());
  }
  auto own = c->with_account("a@example.com");
  f.transport.enqueue_json(200, R"({"access_token": "own", "expires_in": 3600})");
  REQUIRE(f.refresh(*own).ok());
  CHECK(own->token() == std::string("own"));
  CHECK(c->token() == std::string("token"));
}

// ---- get_cred_info ----------------------------------------------------------------------------------

// Mirrors test_credentials.py::test_get_cred_info (10.2 #24).
TEST_CASE("get_cred_info names the source, the type and the account", "[credentials][cred_info]") {
  Fixture f;
  CHECK_FALSE(f.make_credentials().build()->get_cred_info());
  auto c = f.make_credentials().credential_source("/path/to/file").account("fake-account").build();
  auto info = c->get_cred_info();
  REQUIRE(info);
  CHECK(info->credential_source == "/path/to/file");
  CHECK(info->credential_type == "user credentials");
  CHECK(info->principal == std::optional<std::string>("fake-account"));
}

// Mirrors test_credentials.py::test_get_cred_info_no_account (10.2 #25).
TEST_CASE("get_cred_info without an account has no principal", "[credentials][cred_info]") {
  Fixture f;
  auto info = f.make_credentials().credential_source("/path/to/file").build()->get_cred_info();
  REQUIRE(info);
  CHECK(info->credential_source == "/path/to/file");
  CHECK(info->credential_type == "user credentials");
  CHECK_FALSE(info->principal);
}

// Mirrors test_credentials.py::test__make_copy_get_cred_info (10.2 #26).
TEST_CASE("copies keep where the credentials came from", "[credentials][cred_info][copies]") {
  Fixture f;
  auto c = f.make_credentials().credential_source("/path/to/file").account("fake-account").build();
  for (const auto& copy :
       {c->with_quota_project("qp"), c->with_token_uri("https://oauth2-eu.googleapis.com/token"),
        c->with_universe_domain("googleapis.com")}) {
    auto info = copy->get_cred_info();
    REQUIRE(info);
    CHECK(info->credential_source == "/path/to/file");
    CHECK(info->principal == std::optional<std::string>("fake-account"));
  }
  auto renamed = c->with_account("other")->get_cred_info();
  REQUIRE(renamed);
  CHECK(renamed->principal == std::optional<std::string>("other"));
}

// ---- loading --------------------------------------------------------------------------------------

// Mirrors test_credentials_async.py::test_from_authorized_user_info (10.1 #10) and
// test_credentials.py::test_from_authorized_user_info (10.2 #50).
TEST_CASE("from_authorized_user_info reads the fields, the scopes and the expiry", "[credentials][loading]") {
  Fixture f;
  auto c = Credentials::from_authorized_user_info(kAuthUserInfo, std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->client_secret() == std::string("secret"));
  CHECK((*c)->client_id() == std::string("123"));
  CHECK((*c)->refresh_token() == std::string("alabalaportocala"));
  CHECK((*c)->token_uri() == std::string("https://oauth2.googleapis.com/token"));
  CHECK_FALSE((*c)->scopes());

  Scopes scopes = {"email", "profile"};
  auto scoped = Credentials::from_authorized_user_info(kAuthUserInfo, scopes, f.builder());
  REQUIRE(scoped.ok());
  CHECK((*scoped)->scopes() == std::optional<Scopes>(scopes));

  auto one = Credentials::from_authorized_user_info(
      R"({"client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala", "scopes": "email"})",
      std::nullopt, f.builder());
  REQUIRE(one.ok());
  CHECK((*one)->scopes() == std::optional<Scopes>(Scopes{"email"}));

  auto list = Credentials::from_authorized_user_info(
      R"({"client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala",)"
      R"( "scopes": ["email", "profile"]})",
      std::nullopt, f.builder());
  REQUIRE(list.ok());
  CHECK((*list)->scopes() == std::optional<Scopes>(scopes));

  auto dated = Credentials::from_authorized_user_info(
      R"({"client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala",)"
      R"( "expiry": "2020-08-14T15:54:01Z"})",
      std::nullopt, f.builder());
  REQUIRE(dated.ok());
  CHECK((*dated)->expiry() == k20200814T155401);
  CHECK((*dated)->expired());
}

// Notes §5: the scopes argument wins over the file's; a string is split on
// single spaces (Python's str.split(" "), not _helpers.string_to_scopes, 10.6 H1);
// token_uri in the file is ignored.
TEST_CASE("from_authorized_user_info splits a scope string on spaces and ignores the file's token_uri",
          "[credentials][loading]") {
  Fixture f;
  const char* info = R"({"client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala",)"
                     R"( "scopes": "a b  c", "token_uri": "https://evil.example.com/token"})";
  auto c = Credentials::from_authorized_user_info(info, std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->scopes() == std::optional<Scopes>(Scopes{"a", "b", "", "c"}));
  CHECK((*c)->token_uri() == std::string("https://oauth2.googleapis.com/token"));
  auto given = Credentials::from_authorized_user_info(info, Scopes{"x"}, f.builder());
  REQUIRE(given.ok());
  CHECK((*given)->scopes() == std::optional<Scopes>(Scopes{"x"}));
}

// Notes §5: presence of refresh_token, client_id, client_secret is required
// (null passes); gauth lists the missing ones in a fixed order (DESIGN.md).
TEST_CASE("from_authorized_user_info names the missing fields in a fixed order", "[credentials][loading]") {
  Fixture f;
  auto missing = Credentials::from_authorized_user_info(R"({"client_id": "123", "type": "authorized_user"})",
                                                        std::nullopt, f.builder());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kInvalidArgument);
  CHECK(missing.status().message() ==
        "Authorized user info was not in the expected format, missing fields refresh_token, client_secret.");

  auto nulls = Credentials::from_authorized_user_info(
      R"({"client_id": "123", "client_secret": "secret", "refresh_token": null})", std::nullopt, f.builder());
  REQUIRE(nulls.ok());
  Status s = f.refresh(**nulls);
  CHECK(s.message() == kNecessaryFields);
  CHECK(f.transport.request_count() == 0);
}

// Python rejects UTC offsets ("unconverted data remains: +00:00", notes §5);
// gauth differs (DESIGN.md): offsets are accepted and move the instant.
TEST_CASE("from_authorized_user_info accepts expiry offsets and fractions", "[credentials][loading]") {
  Fixture f;
  for (const char* expiry : {"2020-08-14T15:54:01+00:00", "2020-08-14T10:54:01-05:00",
                             "2020-08-14T15:54:01.5Z", "2020-08-14T15:54:01"}) {
    INFO(expiry);
    auto c = Credentials::from_authorized_user_info(
        std::string(R"({"client_id": "123", "client_secret": "secret", "refresh_token": "r", "expiry": ")") +
            expiry + "\"}",
        std::nullopt, f.builder());
    REQUIRE(c.ok());
    REQUIRE((*c)->expiry());
    CHECK(std::chrono::floor<std::chrono::seconds>(*(*c)->expiry()) == k20200814T155401);
  }
}

// Notes §5: a missing expiry is "expired now" (utcnow() - REFRESH_THRESHOLD),
// so the first use refreshes.
TEST_CASE("a loaded token without expiry is already expired and refreshed on first use",
          "[credentials][loading]") {
  Fixture f;
  auto c = Credentials::from_authorized_user_info(
      R"({"token": "old", "client_id": "123", "client_secret": "secret", "refresh_token": "alabalaportocala"})",
      std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->expiry() == f.now() - kRefreshThreshold);
  CHECK((*c)->expired());
  CHECK((*c)->token_state() == TokenState::kInvalid);
  f.transport.enqueue_json(200, R"({"access_token": "new", "expires_in": 3600})");
  auto h = f.before_request(**c);
  REQUIRE(h.ok());
  CHECK(value_of(*h, "authorization") == "Bearer new");
  CHECK(f.request(0).body ==
        "grant_type=refresh_token&client_id=123&client_secret=secret&refresh_token=alabalaportocala");
  CHECK(f.request(0).url == "https://oauth2.googleapis.com/token");
}

// Mirrors test_credentials_async.py::test_from_authorized_user_file (10.1 #11) and
// test_credentials.py::test_from_authorized_user_file (10.2 #51).
TEST_CASE("from_authorized_user_file reads tests/data/authorized_user.json", "[credentials][loading]") {
  Fixture f;
  auto c =
      Credentials::from_authorized_user_file(kDataDir + "/authorized_user.json", std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->client_secret() == std::string("secret"));
  CHECK((*c)->client_id() == std::string("123"));
  CHECK((*c)->refresh_token() == std::string("alabalaportocala"));
  CHECK((*c)->token_uri() == std::string("https://oauth2.googleapis.com/token"));
  CHECK_FALSE((*c)->scopes());
  CHECK_FALSE((*c)->rapt_token());

  Scopes scopes = {"email", "profile"};
  auto scoped =
      Credentials::from_authorized_user_file(kDataDir + "/authorized_user.json", scopes, f.builder());
  REQUIRE(scoped.ok());
  CHECK((*scoped)->scopes() == std::optional<Scopes>(scopes));
}

// Mirrors test_credentials.py::test_from_authorized_user_file_with_rapt_token (10.2 #52).
TEST_CASE("from_authorized_user_file reads the rapt token", "[credentials][loading]") {
  Fixture f;
  auto c = Credentials::from_authorized_user_file(kDataDir + "/authorized_user_with_rapt_token.json",
                                                  std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->client_secret() == std::string("secret"));
  CHECK((*c)->client_id() == std::string("123"));
  CHECK((*c)->refresh_token() == std::string("alabalaportocala"));
  CHECK((*c)->rapt_token() == std::string("rapt"));
  CHECK_FALSE((*c)->scopes());
}

// tests/data/authorized_user_cloud_sdk_with_quota_project_id.json (§10.0):
// from_authorized_user_info reads quota_project_id (notes §5).
TEST_CASE("from_authorized_user_file reads the quota project", "[credentials][loading]") {
  Fixture f;
  auto c = Credentials::from_authorized_user_file(
      kDataDir + "/authorized_user_cloud_sdk_with_quota_project_id.json", std::nullopt, f.builder());
  REQUIRE(c.ok());
  CHECK((*c)->quota_project_id() == std::string("quota_project_id"));
  CHECK((*c)->client_id() ==
        std::string("764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"));
}

TEST_CASE("from_authorized_user_file on a missing file says which", "[credentials][loading]") {
  Fixture f;
  const std::string path = kDataDir + "/no_such_file.json";
  auto c = Credentials::from_authorized_user_file(path, std::nullopt, f.builder());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kNotFound);
  CHECK(c.status().message() == "File " + path + " was not found.");
}

// ---- to_json ------------------------------------------------------------------------------------

// Mirrors test_credentials_async.py::test_to_json (10.1 #12) and the strip part
// of test_credentials.py::test_to_json (10.2 #53).
TEST_CASE("to_json writes the fields that are set and leaves out stripped ones", "[credentials][to_json]") {
  Fixture f;
  auto c = Credentials::from_authorized_user_info(kAuthUserInfo, std::nullopt, f.builder());
  REQUIRE(c.ok());
  auto json = parse((*c)->to_json());
  CHECK_FALSE(json.HasMember("token"));  // None: absent
  CHECK_FALSE(json.HasMember("scopes"));
  CHECK(std::string(json["refresh_token"].GetString()) == "alabalaportocala");
  CHECK(std::string(json["token_uri"].GetString()) == "https://oauth2.googleapis.com/token");
  CHECK(std::string(json["client_id"].GetString()) == "123");
  CHECK(std::string(json["client_secret"].GetString()) == "secret");

  auto stripped = parse((*c)->to_json({"client_secret"}));
  CHECK_FALSE(stripped.HasMember("client_secret"));
  CHECK(stripped.HasMember("client_id"));
}

// Mirrors test_credentials.py::test_to_json (10.2 #53): Python's keys in
// Python's order and layout. gauth adds quota_project_id and "type" (DESIGN.md)
// so that the output loads back whole.
TEST_CASE("to_json writes Python's keys in Python's order, then quota_project_id and type",
          "[credentials][to_json]") {
  Fixture f;
  auto c = f.builder()
               .token("tok")
               .refresh_token("rt")
               .token_uri("https://oauth2.googleapis.com/token")
               .client_id("id")
               .client_secret("sec")
               .scopes(Scopes{"a", "b"})
               .rapt_token("r")
               .expiry(k20200814T155401)
               .quota_project_id("qp")
               .build();
  CHECK(c->to_json() ==
        R"({"token": "tok", "refresh_token": "rt", "token_uri": "https://oauth2.googleapis.com/token", )"
        R"("client_id": "id", "client_secret": "sec", "scopes": ["a", "b"], "rapt_token": "r", )"
        R"("universe_domain": "googleapis.com", "account": "", "expiry": "2020-08-14T15:54:01Z", )"
        R"("quota_project_id": "qp", "type": "authorized_user"})");

  // Python: Credentials(token=None).to_json() == {"universe_domain": "googleapis.com", "account": ""};
  // without an expiry there is no "expiry" key.
  CHECK(f.builder().build()->to_json() ==
        R"({"universe_domain": "googleapis.com", "account": "", "type": "authorized_user"})");
  auto with_account = f.builder().universe_domain("example.com").account("me@example.com").build();
  CHECK(with_account->to_json({"type"}) ==
        R"({"universe_domain": "example.com", "account": "me@example.com"})");
}

// Mirrors test_credentials_async.py::test_pickle_and_unpickle (10.1 #13) and
// test_credentials.py::test_pickle_and_unpickle (10.2 #54): gauth has no
// pickling; its serialisation is to_json, loaded back with
// from_authorized_user_info, which keeps every field (Python's to_json loses
// the quota project).
TEST_CASE("to_json loaded back with from_authorized_user_info keeps every field", "[credentials][to_json]") {
  Fixture f;
  const auto expiry = f.now() + 3000s;
  auto original = f.builder()
                      .token("tok")
                      .refresh_token("rt")
                      .token_uri("https://oauth2.googleapis.com/token")
                      .client_id("id")
                      .client_secret("sec")
                      .scopes(Scopes{"email", "profile"})
                      .rapt_token("rapt")
                      .universe_domain("googleapis.com")
                      .account("me@example.com")
                      .expiry(expiry)
                      .quota_project_id("qp")
                      .build();
  auto loaded = Credentials::from_authorized_user_info(original->to_json(), std::nullopt, f.builder());
  REQUIRE(loaded.ok());
  const Credentials& c = **loaded;
  CHECK(c.token() == original->token());
  CHECK(c.refresh_token() == original->refresh_token());
  CHECK(c.token_uri() == original->token_uri());
  CHECK(c.client_id() == original->client_id());
  CHECK(c.client_secret() == original->client_secret());
  CHECK(c.scopes() == original->scopes());
  CHECK(c.rapt_token() == original->rapt_token());
  CHECK(c.universe_domain() == original->universe_domain());
  CHECK(c.account() == original->account());
  CHECK(c.expiry() == original->expiry());
  CHECK(c.quota_project_id() == std::optional<std::string>("qp"));
  CHECK(c.token_state() == TokenState::kFresh);
  CHECK(c.to_json() == original->to_json());

  // A non-default universe domain survives too.
  auto elsewhere = f.builder()
                       .refresh_token("rt")
                       .client_id("id")
                       .client_secret("sec")
                       .universe_domain("example-universe.com")
                       .build();
  auto elsewhere_loaded =
      Credentials::from_authorized_user_info(elsewhere->to_json(), std::nullopt, f.builder());
  REQUIRE(elsewhere_loaded.ok());
  CHECK((*elsewhere_loaded)->universe_domain() == "example-universe.com");
}

// Mirrors test_credentials_async.py::test_pickle_with_missing_attribute (10.1 #14) and
// test_credentials.py::test_pickle_with_missing_attribute (10.2 #57).
TEST_CASE("to_json of credentials without a quota project loads back without one", "[credentials][to_json]") {
  Fixture f;
  auto original = f.make_credentials().build();
  auto json = parse(original->to_json());
  CHECK_FALSE(json.HasMember("quota_project_id"));
  auto loaded = Credentials::from_authorized_user_info(original->to_json(), std::nullopt, f.builder());
  REQUIRE(loaded.ok());
  CHECK_FALSE((*loaded)->quota_project_id());
}

// Mirrors test_credentials.py::test_pickle_and_unpickle_universe_domain (10.2 #55).
TEST_CASE("to_json without universe_domain loads back in googleapis.com", "[credentials][to_json]") {
  Fixture f;
  auto original = f.make_credentials().build();
  auto loaded = Credentials::from_authorized_user_info(original->to_json({"universe_domain"}), std::nullopt,
                                                       f.builder());
  REQUIRE(loaded.ok());
  CHECK((*loaded)->universe_domain() == "googleapis.com");
}

// Mirrors test_credentials.py::test_pickle_and_unpickle_with_refresh_handler (10.2 #56).
TEST_CASE("the refresh handler does not survive to_json", "[credentials][to_json]") {
  Fixture f;
  RecordingHandler h;
  auto original = f.make_credentials().refresh_handler(h.handler()).build();
  REQUIRE(original->refresh_handler());
  auto loaded = Credentials::from_authorized_user_info(original->to_json(), std::nullopt, f.builder());
  REQUIRE(loaded.ok());
  CHECK_FALSE((*loaded)->refresh_handler());
}

// ---- secrets ------------------------------------------------------------------------------------

// Python google-auth has no such test. DESIGN.md: secrets never reach a log,
// an error message or a formatter. A hostile token endpoint echoes the request
// body (raw and JSON-escaped) in every kind of error answer.
TEST_CASE("secrets echoed by a hostile server appear in no Status, log line or to_string",
          "[credentials][secrets]") {
  const std::string client_secret = "GOCSPX-cl1entSecret/Value+42";
  const std::string refresh_token = "1//0gRefreshToken-For_Tests/xyz";
  const std::string rapt_token = "raptSecretToken-For_Tests";
  const std::string access_token = "ya29.OldAccessToken-For_Tests";
  const std::vector<std::string> secrets = {"cl1entSecret",   "RefreshToken-For", "raptSecretToken",
                                            "OldAccessToken", "NewAccessToken",   "IdToken-For"};

  auto quoted = [](const std::string& s) {
    std::string q;
    gauth::detail::append_json_string(q, s);
    return q;
  };
  const std::vector<std::function<std::pair<int, std::string>(const std::string&)>> answers = {
      [&](const std::string& e) {
        return std::make_pair(400, R"({"error": "invalid_request", "error_description": )" + quoted(e) + "}");
      },
      [&](const std::string& e) { return std::make_pair(401, R"({"error": )" + quoted(e) + "}"); },
      [&](const std::string& e) { return std::make_pair(400, R"({"echo": )" + quoted(e) + "}"); },
      [&](const std::string& e) { return std::make_pair(400, e); },
      [&](const std::string& e) { return std::make_pair(500, e); },
      [&](const std::string& e) {
        return std::make_pair(503, R"({"error": "server_error", "error_description": )" + quoted(e) + "}");
      },
  };

  for (std::size_t i = 0; i < answers.size(); ++i) {
    Fixture f;
    LogCapture log;
    INFO("answer shape " << i);
    f.transport.set_responder([&](const HttpRequest& request) -> StatusOr<HttpResponse> {
      const std::string echoed =
          request.body + " | raw: " + client_secret + " " + refresh_token + " " + rapt_token;
      auto [status, body] = answers[i](echoed);
      HttpResponse r;
      r.status = status;
      r.body = body;
      return r;
    });
    auto c = f.builder()
                 .token(access_token)
                 .expiry(f.now() - 1s)
                 .refresh_token(refresh_token)
                 .token_uri(oauth2::kGoogleTokenUri)
                 .client_id("123.apps.googleusercontent.com")
                 .client_secret(client_secret)
                 .scopes(Scopes{"email"})
                 .rapt_token(rapt_token)
                 .build();
    Status refreshed = f.refresh_waiting(*c);
    REQUIRE_FALSE(refreshed.ok());
    std::optional<StatusOr<Headers>> used;
    c->before_request(f.transport, "GET", "https://storage.googleapis.com/", {},
                      [&](StatusOr<Headers> h) { used.emplace(std::move(h)); });
    f.transport.advance(40s);
    REQUIRE(used);
    REQUIRE_FALSE(used->ok());

    std::ostringstream streamed;
    streamed << *c << " " << refreshed << " " << used->status();
    std::vector<std::string> texts = {refreshed.message(),
                                      refreshed.oauth_error(),
                                      refreshed.oauth_error_description(),
                                      to_string(refreshed),
                                      used->status().message(),
                                      to_string(used->status()),
                                      oauth2::to_string(*c),
                                      streamed.str()};
    for (const auto& entry : log.entries()) texts.push_back(entry.second);
    for (const auto& text : texts) {
      for (const auto& secret : secrets) {
        INFO(text);
        CHECK_THAT(text, !Catch::Contains(secret));
      }
    }
  }

  // After a successful refresh, to_string shows tokens only as "set".
  Fixture f;
  f.transport.enqueue_json(200, R"({"access_token": "ya29.NewAccessToken-For_Tests", "expires_in": 3600,)"
                                R"( "id_token": "eyJ.IdToken-For_Tests.sig"})");
  auto c = f.builder()
               .refresh_token(refresh_token)
               .token_uri(oauth2::kGoogleTokenUri)
               .client_id("123")
               .client_secret(client_secret)
               .rapt_token(rapt_token)
               .build();
  REQUIRE(f.refresh(*c).ok());
  const std::string text = oauth2::to_string(*c);
  for (const auto& secret : secrets) CHECK_THAT(text, !Catch::Contains(secret));
  CHECK_THAT(text, Catch::Contains("token=set"));
}
