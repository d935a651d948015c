// oauth2::Credentials against the real CurlDriver and a loopback token endpoint.
#include "driver_fixture.hpp"
#include "test_server.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/fmt.hpp>
#include <gauth/log.hpp>
#include <gauth/oauth2/credentials.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono_literals;
using Fault = Reply::Fault;

namespace {

// Distinctive secrets, so that a leak is easy to spot in any text.
constexpr char kClientSecret[] = "client-secret-QX7Z9";
constexpr char kRefreshToken[] = "1//refresh-token-K3J8W";
constexpr char kRaptToken[] = "rapt-token-P0M2N";
constexpr char kAccessToken[] = "ya29.access-token-A1B2C3";
constexpr char kIdToken[] = "id-token-J9H8G7";

Reply token_reply(const std::string& access_token = kAccessToken, int expires_in = 3599) {
  return Reply::json(200, R"({"access_token":")" + access_token + R"(","expires_in":)" +
                              std::to_string(expires_in) + R"(,"token_type":"Bearer","id_token":")" +
                              kIdToken + R"("})");
}

oauth2::Credentials::Builder builder(const TestServer& server) {
  oauth2::Credentials::Builder b;
  b.token_uri(server.url("/token"))
      .client_id("123.apps.googleusercontent.com")
      .client_secret(kClientSecret)
      .refresh_token(kRefreshToken);
  return b;
}

using HeadersOutcome = Outcome<StatusOr<Headers>>;
using StatusOutcome = Outcome<Status>;

StatusOr<Headers> before_request(CurlDriver& driver, const gauth::Credentials& creds,
                                 WaitOptions options = {}) {
  HeadersOutcome out;
  creds.before_request(driver, "GET", "https://example.googleapis.com/v1/x", {}, out.callback(), options);
  REQUIRE(run_until(
      driver, [&] { return out.done(); }, 60s));
  CHECK(out.calls == 1);
  return std::move(*out.value);
}

Status refresh(CurlDriver& driver, const gauth::Credentials& creds) {
  StatusOutcome out;
  creds.refresh(driver, out.callback());
  REQUIRE(run_until(
      driver, [&] { return out.done(); }, 60s));
  CHECK(out.calls == 1);
  return *out.value;
}

/// Fails the test if `text` contains any of the secrets.
void check_no_secret(const std::string& text) {
  INFO(text);
  for (const char* secret : {kClientSecret, kRefreshToken, kRaptToken, kAccessToken, kIdToken}) {
    CHECK(text.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("before_request on new credentials refreshes once and applies the token", "[oauth2][driver]") {
  TestServer server;
  server.enqueue(token_reply());
  auto driver = make_driver();
  auto creds = builder(server).quota_project_id("my-project").build();
  CHECK(creds->token_state() == TokenState::kInvalid);
  auto headers = before_request(*driver, *creds);
  REQUIRE(headers.ok());
  CHECK(headers->value_or_empty("authorization") == std::string("Bearer ") + kAccessToken);
  CHECK(headers->value_or_empty("x-goog-user-project") == "my-project");
  CHECK(headers->value_or_empty("x-goog-api-client") == "cred-type/u");
  CHECK(creds->token_state() == TokenState::kFresh);
  CHECK(creds->id_token() == std::string(kIdToken));
  REQUIRE(server.request_count() == 1);
  auto request = server.requests()[0];
  CHECK(request.method == "POST");
  CHECK(request.target == "/token");
  CHECK(request.header("content-type") == "application/x-www-form-urlencoded");
  CHECK(request.body ==
        "grant_type=refresh_token&client_id=123.apps.googleusercontent.com&client_secret=client-secret-QX7Z9"
        "&refresh_token=1%2F%2Frefresh-token-K3J8W");
  // A fresh token is served without a request, through both paths.
  Headers fast;
  CHECK(creds->try_apply(fast));
  CHECK(fast.value_or_empty("authorization") == std::string("Bearer ") + kAccessToken);
  CHECK(before_request(*driver, *creds).ok());
  CHECK(server.request_count() == 1);
}

TEST_CASE("scopes and the rapt token go into the request body", "[oauth2][driver]") {
  TestServer server;
  server.enqueue(token_reply());
  auto driver = make_driver();
  auto creds = builder(server)
                   .scopes(std::vector<std::string>{"https://www.googleapis.com/auth/pubsub", "email"})
                   .rapt_token(kRaptToken)
                   .build();
  REQUIRE(refresh(*driver, *creds).ok());
  CHECK(
      server.requests()[0].body ==
      "grant_type=refresh_token&client_id=123.apps.googleusercontent.com&client_secret=client-secret-QX7Z9"
      "&refresh_token=1%2F%2Frefresh-token-K3J8W&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub+email"
      "&rapt=rapt-token-P0M2N");
}

TEST_CASE("the token endpoint's error answers end in clear Statuses", "[oauth2][driver][errors]") {
  TestServer server;
  CurlDriverOptions driver_options;
  auto driver = make_driver(driver_options);
  auto creds = builder(server).refresh_timeout(10s).build();

  SECTION("invalid_grant with a description: not retried") {
    server.enqueue(Reply::json(
        400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})"));
    Status s = refresh(*driver, *creds);
    CHECK(s.code() == StatusCode::kRefreshError);
    CHECK(s.message() == "invalid_grant: Token has been expired or revoked.");
    CHECK_FALSE(s.retryable());
    CHECK(s.http_status() == 400);
    CHECK(s.oauth_error() == "invalid_grant");
    CHECK(s.oauth_error_description() == "Token has been expired or revoked.");
    CHECK(server.request_count() == 1);
    CHECK_FALSE(creds->token().has_value());
  }
  SECTION("an error without a description") {
    server.enqueue(Reply::json(401, R"({"error":"unauthorized_client"})"));
    Status s = refresh(*driver, *creds);
    CHECK(s.message() == "unauthorized_client");
    CHECK(s.http_status() == 401);
    CHECK(server.request_count() == 1);
  }
  SECTION("a 4xx without JSON gives its text") {
    server.enqueue(Reply::text(403, "Forbidden by policy"));
    Status s = refresh(*driver, *creds);
    CHECK(s.message() == "Forbidden by policy");
    CHECK_FALSE(s.retryable());
  }
  SECTION("JSON without an error field is quoted as Python prints it") {
    server.enqueue(Reply::json(400, R"({"foo":"bar"})"));
    CHECK(refresh(*driver, *creds).message() == R"({"foo": "bar"})");
  }
  SECTION("rapt_required asks for reauthentication and is not retried") {
    server.enqueue(Reply::json(400, R"({"error":"invalid_grant","error_subtype":"rapt_required"})"));
    Status s = refresh(*driver, *creds);
    CHECK(s.code() == StatusCode::kReauthRequired);
    CHECK(
        s.message() ==
        "Reauthentication is needed. Please run `gcloud auth application-default login` to reauthenticate.");
    CHECK_FALSE(s.retryable());
    CHECK(server.request_count() == 1);
  }
  SECTION("5xx three times: three attempts, retryable") {
    server.set_default(Reply::json(500, R"({"error":"server_error"})"));
    auto start = std::chrono::steady_clock::now();
    Status s = refresh(*driver, *creds);
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(s.message() == "server_error");
    CHECK(s.retryable());
    CHECK(s.http_status() == 500);
    CHECK(server.request_count() == 3);
    CHECK(waited >= 2700ms);  // ~1 s and ~2 s, each at least 90 %
  }
  SECTION("503 then success") {
    server.enqueue(Reply::text(503, "<html>Service Unavailable</html>"));
    server.enqueue(token_reply());
    CHECK(refresh(*driver, *creds).ok());
    CHECK(server.request_count() == 2);
    CHECK(creds->token() == std::string(kAccessToken));
  }
  SECTION("429 with Retry-After is honoured") {
    Reply busy = Reply::json(429, R"({"error":"rate_limited"})");
    busy.headers.emplace_back("Retry-After", "2");
    server.enqueue(busy);
    server.enqueue(token_reply());
    auto start = std::chrono::steady_clock::now();
    CHECK(refresh(*driver, *creds).ok());
    CHECK(std::chrono::steady_clock::now() - start >= 2s);
    CHECK(server.request_count() == 2);
  }
  SECTION("a Retry-After past the refresh deadline ends the refresh at once") {
    Reply busy = Reply::json(503, R"({"error":"temporarily_unavailable"})");
    busy.headers.emplace_back("Retry-After", "3600");
    server.enqueue(busy);
    Status s = refresh(*driver, *creds);
    CHECK(s.message() == "temporarily_unavailable");
    CHECK(s.retryable());
    CHECK(server.request_count() == 1);
  }
  SECTION("a 200 that is not JSON") {
    server.enqueue(Reply::text(200, "access_token=abc"));
    Status s = refresh(*driver, *creds);
    CHECK(s.code() == StatusCode::kRefreshError);
    CHECK_THAT(s.message(), Catch::Contains("not valid JSON"));
    CHECK_FALSE(s.retryable());
  }
  SECTION("a 200 without an access token") {
    server.enqueue(Reply::json(200, R"({"expires_in":10})"));
    CHECK(refresh(*driver, *creds).message() == "No access token in response.");
  }
  SECTION("a 200 with wrong types") {
    server.enqueue(Reply::json(200, R"({"access_token":42})"));
    CHECK_THAT(refresh(*driver, *creds).message(), Catch::Contains("access_token is not a string"));
    server.enqueue(Reply::json(200, R"({"access_token":"t","expires_in":"soon"})"));
    CHECK_THAT(refresh(*driver, *creds).message(), Catch::Contains("expires_in is not a whole number"));
    server.enqueue(Reply::json(200, R"({"access_token":"t","refresh_token":7})"));
    CHECK_THAT(refresh(*driver, *creds).message(), Catch::Contains("refresh_token is not a string"));
    CHECK_FALSE(creds->token().has_value());
  }
  SECTION("a huge answer is refused") {
    server.enqueue(Reply::huge(1024 * 1024));
    Status s = refresh(*driver, *creds);
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK_THAT(s.message(), Catch::Contains("exceeds the 65536-byte limit"));
    CHECK(server.request_count() == 1);
  }
  SECTION("a truncated answer is retried") {
    Reply cut = token_reply();
    cut.fault = Fault::kTruncate;
    cut.bytes = 10;
    server.enqueue(cut);
    server.enqueue(token_reply());
    CHECK(refresh(*driver, *creds).ok());
    CHECK(server.request_count() == 2);
  }
  SECTION("a reset connection is retried, three times at most") {
    Reply reset = Reply::with_fault(Fault::kReset);
    server.set_default(reset);
    Status s = refresh(*driver, *creds);
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK(s.retryable());
    CHECK(server.request_count() == 3);
  }
  SECTION("a redirect is not followed") {
    TestServer elsewhere;
    server.enqueue(Reply::redirect(302, elsewhere.url("/token?steal=1")));
    Status s = refresh(*driver, *creds);
    CHECK(s.http_status() == 302);
    CHECK_THAT(s.message(), Catch::Contains("never follow redirects"));
    CHECK_THAT(s.message(), !Catch::Contains("steal"));
    CHECK(elsewhere.request_count() == 0);
  }
}

TEST_CASE("a stalled token endpoint ends at the refresh deadline", "[oauth2][driver][errors]") {
  TestServer server;
  server.set_default(Reply::with_fault(Fault::kStall));
  auto driver = make_driver();
  auto creds = builder(server).refresh_timeout(500ms).build();
  auto start = std::chrono::steady_clock::now();
  Status s = refresh(*driver, *creds);
  CHECK(std::chrono::steady_clock::now() - start >= 500ms);
  CHECK(s.code() == StatusCode::kTimeout);
  CHECK(s.retryable());
  CHECK_THAT(s.message(), Catch::StartsWith("token refresh timed out after 500 ms (1 attempt)"));
}

TEST_CASE("missing fields fail without a request", "[oauth2][driver][errors]") {
  TestServer server;
  auto driver = make_driver();
  auto creds = oauth2::Credentials::Builder().token_uri(server.url("/token")).client_id("id").build();
  Status s = refresh(*driver, *creds);
  CHECK(s.code() == StatusCode::kRefreshError);
  CHECK_THAT(s.message(), Catch::Contains("necessary fields"));
  driver->run_once(20ms);
  CHECK(server.request_count() == 0);
}

TEST_CASE("10,000 concurrent before_request calls on an expired token cause one POST",
          "[oauth2][driver][single-flight]") {
  TestServer server;
  Reply slow = token_reply("single-flight-token");
  slow.delay = 50ms;
  server.set_default(slow);
  auto driver = make_driver();
  auto creds = builder(server).token("expired").expiry(std::chrono::system_clock::now() - 1h).build();
  constexpr int kCallers = 10000;
  int ok = 0, calls = 0;
  for (int i = 0; i < kCallers; ++i) {
    creds->before_request(*driver, "GET", "https://x", {}, [&](StatusOr<Headers> h) {
      ++calls;
      ok += h.ok() && h->value_or_empty("authorization") == "Bearer single-flight-token";
    });
  }
  REQUIRE(run_until(
      *driver, [&] { return calls == kCallers; }, 60s));
  CHECK(ok == kCallers);
  driver->run_once(20ms);
  CHECK(calls == kCallers);
  CHECK(server.request_count() == 1);
}

TEST_CASE("a stale token is applied at once while one background refresh replaces it",
          "[oauth2][driver][stale]") {
  TestServer server;
  Reply slow = token_reply("renewed");
  slow.delay = 200ms;
  server.set_default(slow);
  auto driver = make_driver();
  auto creds = builder(server).token("stale").expiry(std::chrono::system_clock::now() + 100s).build();
  REQUIRE(creds->token_state() == TokenState::kStale);
  Headers not_fresh;
  CHECK_FALSE(creds->try_apply(not_fresh));
  for (int i = 0; i < 20; ++i) {
    auto headers = before_request(*driver, *creds);
    REQUIRE(headers.ok());
    CHECK(headers->value_or_empty("authorization") == "Bearer stale");
  }
  REQUIRE(run_until(*driver, [&] { return creds->token() == std::string("renewed"); }));
  CHECK(server.request_count() == 1);
  CHECK(creds->token_state() == TokenState::kFresh);
  CHECK(before_request(*driver, *creds)->value_or_empty("authorization") == "Bearer renewed");
}

TEST_CASE("the retry backoff waits on a timer: the loop keeps running", "[oauth2][driver][backoff]") {
  TestServer server;
  server.enqueue(Reply::json(503, R"({"error":"temporarily_unavailable"})"));
  server.enqueue(token_reply());
  auto driver = make_driver();
  auto creds = builder(server).build();
  int ticks = 0;
  std::function<void(Status)> tick = [&](Status s) {
    if (!s.ok()) return;
    ++ticks;
    driver->run_after(50ms, tick);
  };
  driver->run_after(50ms, tick);
  StatusOutcome out;
  creds->refresh(*driver, out.callback());
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK(out.value->ok());
  // The retry waited about a second; a blocked loop would not have ticked.
  CHECK(ticks >= 10);
}

TEST_CASE("cancelling the only waiter aborts the shared transfer", "[oauth2][driver][cancel]") {
  TestServer server;
  server.set_default(Reply::with_fault(Fault::kStall));
  auto driver = make_driver();
  auto creds = builder(server).build();
  HeadersOutcome out;
  Handle h = creds->before_request(*driver, "GET", "https://x", {}, out.callback());
  REQUIRE(run_until(*driver, [&] { return server.request_count() == 1; }));
  h.cancel();
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK(out.value->status().code() == StatusCode::kCancelled);
  CHECK(run_until(
      *driver, [&] { return server.open_connection_count() == 0; }, 5s));
}

TEST_CASE("cancelling one of two waiters leaves the refresh to the other", "[oauth2][driver][cancel]") {
  TestServer server;
  Reply slow = token_reply();
  slow.delay = 300ms;
  server.set_default(slow);
  auto driver = make_driver();
  auto creds = builder(server).build();
  HeadersOutcome a, b;
  Handle ha = creds->before_request(*driver, "GET", "https://x", {}, a.callback());
  creds->before_request(*driver, "GET", "https://x", {}, b.callback());
  REQUIRE(run_until(*driver, [&] { return server.request_count() == 1; }));
  ha.cancel();
  REQUIRE(run_until(*driver, [&] { return a.done() && b.done(); }));
  CHECK(a.value->status().code() == StatusCode::kCancelled);
  CHECK(b.value->ok());
  CHECK(server.request_count() == 1);
}

TEST_CASE("a waiter's own deadline does not end the shared refresh", "[oauth2][driver][deadline]") {
  TestServer server;
  Reply slow = token_reply();
  slow.delay = 500ms;
  server.set_default(slow);
  auto driver = make_driver();
  auto creds = builder(server).build();
  WaitOptions hasty;
  hasty.timeout = 100ms;
  HeadersOutcome a, b;
  creds->before_request(*driver, "GET", "https://x", {}, a.callback(), hasty);
  creds->before_request(*driver, "GET", "https://x", {}, b.callback());
  REQUIRE(run_until(*driver, [&] { return a.done(); }));
  CHECK(a.value->status().code() == StatusCode::kTimeout);
  CHECK_FALSE(b.done());
  REQUIRE(run_until(*driver, [&] { return b.done(); }));
  CHECK(b.value->ok());
}

TEST_CASE("a rotated refresh token is used next time, over a fresh connection",
          "[oauth2][driver][rotation]") {
  TestServer server;
  server.enqueue(Reply::json(200, R"({"access_token":"t1","expires_in":3599,"refresh_token":"rotated-1"})"));
  server.enqueue(token_reply("t2"));
  server.enqueue(token_reply("t3"));
  auto driver = make_driver();
  std::vector<TokenUpdate> updates;
  auto creds = builder(server).token_listener([&](const TokenUpdate& u) { updates.push_back(u); }).build();
  REQUIRE(refresh(*driver, *creds).ok());
  CHECK(creds->refresh_token() == std::string("rotated-1"));
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].rotated_refresh_token == std::string("rotated-1"));
  REQUIRE(refresh(*driver, *creds).ok());
  REQUIRE(refresh(*driver, *creds).ok());
  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK_THAT(requests[1].body, Catch::Contains("refresh_token=rotated-1"));
  // After a rotation, every refresh goes over a connection of its own.
  CHECK(requests[1].connection_id != requests[0].connection_id);
  CHECK(requests[2].connection_id != requests[1].connection_id);
  CHECK_FALSE(updates[1].rotated_refresh_token);
}

TEST_CASE("quota-project copies share one token cache; other copies keep the token but refresh alone",
          "[oauth2][driver][copies]") {
  TestServer server;
  server.set_default(token_reply());
  auto driver = make_driver();
  auto creds = builder(server).build();
  auto billed = creds->with_quota_project(std::string("billing"));
  REQUIRE(before_request(*driver, *billed).ok());
  CHECK(creds->token() == std::string(kAccessToken));  // the same cache
  auto moved = creds->with_token_uri(server.url("/other"));
  CHECK(moved->token() == std::string(kAccessToken));  // starts from the current token
  CHECK(moved->expiry() == creds->expiry());
  REQUIRE(refresh(*driver, *moved).ok());
  CHECK(server.requests().back().target == "/other");
  CHECK(server.request_count() == 2);
}

TEST_CASE("credentials are safe to use from many threads while the driver runs",
          "[oauth2][driver][threads]") {
  TestServer server;
  std::atomic<int> issued{0};
  server.set_handler([&](const RecordedRequest&) {
    // Short-lived tokens: 226 s is fresh for one second of the test.
    return token_reply("token-" + std::to_string(++issued), 226);
  });
  auto driver = make_driver();
  REQUIRE(driver->start_thread().ok());
  auto creds = builder(server).build();
  constexpr int kThreads = 4, kEach = 300;
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<bool>> results;
      for (int i = 0; i < kEach; ++i) {
        auto copy = (i % 10 == 0) ? creds->with_quota_project("p" + std::to_string(t)) : creds;
        Headers fast;
        if (copy->try_apply(fast)) {
          ok += fast.value_or_empty("authorization").rfind("Bearer token-", 0) == 0;
          continue;
        }
        auto promise = std::make_shared<std::promise<bool>>();
        results.push_back(promise->get_future());
        copy->before_request(*driver, "GET", "https://x", {}, [promise](StatusOr<Headers> h) {
          promise->set_value(h.ok() && h->value_or_empty("authorization").rfind("Bearer token-", 0) == 0);
        });
        (void)copy->token_state();
        (void)copy->valid();
      }
      for (auto& r : results) (r.get() ? ok : failed)++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kThreads * kEach);
  CHECK(failed == 0);
  CHECK(server.request_count() <= 2);
  driver.reset();
}

TEST_CASE("no secret appears in any Status message or formatted output", "[oauth2][driver][security]") {
  TestServer server;
  // A hostile endpoint that echoes the request body back in its errors.
  std::vector<std::function<Reply(const RecordedRequest&)>> answers = {
      [](const RecordedRequest& r) { return Reply::text(400, r.body); },
      [](const RecordedRequest& r) { return Reply::text(500, "oops " + r.body); },
      [](const RecordedRequest& r) {
        return Reply::json(400, R"({"error":"invalid_grant","error_description":")" + r.body + R"("})");
      },
      [](const RecordedRequest& r) { return Reply::json(400, R"({"echo":")" + r.body + R"("})"); },
      [](const RecordedRequest& r) {
        return Reply::json(200, R"({"access_token":")" + r.body + R"(","expires_in":"x"})");
      },
      [](const RecordedRequest&) { return Reply::text(200, std::string(kAccessToken) + " not json"); },
      [](const RecordedRequest& r) { return Reply::redirect(302, "https://evil.example/?" + r.body); },
  };
  std::size_t next = 0;
  server.set_handler(
      [&](const RecordedRequest& r) { return answers[std::min(next, answers.size() - 1)](r); });
  auto driver = make_driver();
  std::vector<std::string> logged;
  set_log_handler([&](LogLevel, std::string_view m) { logged.emplace_back(m); });
  auto creds = builder(server)
                   .rapt_token(kRaptToken)
                   .token(kAccessToken)
                   .id_token(kIdToken)
                   .expiry(std::chrono::system_clock::now() - 1h)
                   .refresh_timeout(5s)
                   .build();
  for (next = 0; next < answers.size(); ++next) {
    Status s = refresh(*driver, *creds);
    REQUIRE_FALSE(s.ok());
    check_no_secret(to_string(s));
    check_no_secret(fmt::format("{}", s));
    check_no_secret(s.oauth_error());
    check_no_secret(s.oauth_error_description());
    auto before = before_request(*driver, *creds);
    if (!before.ok()) check_no_secret(to_string(before.status()));
  }
  check_no_secret(oauth2::to_string(*creds));
  check_no_secret(fmt::format("{} {:>200}", *creds, *creds));
  std::ostringstream streamed;
  streamed << *creds;
  check_no_secret(streamed.str());
  for (const auto& line : logged) check_no_secret(line);
  set_log_handler(nullptr);
  CHECK_THAT(oauth2::to_string(*creds), Catch::Contains("client_secret=set"));
}

TEST_CASE(
    "a refresh handler answering after its driver is gone: the waiter was cancelled, the answer is dropped",
    "[oauth2][driver][teardown]") {
  std::function<void(StatusOr<oauth2::RefreshHandlerResult>)> pending;
  int handler_calls = 0;
  auto creds = oauth2::Credentials::Builder()
                   .refresh_handler([&](Transport&, const std::vector<std::string>&, auto done) {
                     ++handler_calls;
                     pending = std::move(done);
                   })
                   .refresh_timeout(60s)
                   .build();
  HeadersOutcome first;
  {
    auto driver = make_driver();
    creds->before_request(*driver, "GET", "https://x", {}, first.callback());
    REQUIRE(run_until(*driver, [&] { return handler_calls == 1; }));
  }
  REQUIRE(first.calls == 1);
  CHECK(first.value->status().code() == StatusCode::kCancelled);
  // The late answer reaches nothing (the driver is gone), and harms nothing.
  pending(oauth2::RefreshHandlerResult{std::string("late"), std::chrono::system_clock::now() + 1h});
  CHECK_FALSE(creds->token());
  // The credentials are not stuck: a new driver starts a new refresh.
  auto driver = make_driver();
  HeadersOutcome second;
  creds->before_request(*driver, "GET", "https://x", {}, second.callback());
  REQUIRE(run_until(*driver, [&] { return handler_calls == 2; }));
  pending(oauth2::RefreshHandlerResult{std::string("second"), std::chrono::system_clock::now() + 1h});
  REQUIRE(run_until(*driver, [&] { return second.done(); }));
  CHECK(second.value->value().value_or_empty("authorization") == "Bearer second");
}
