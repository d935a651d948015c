// The refresh-token grant's attempts (lib/oauth2/refresh_grant.cpp): Python
// google-auth's retry policy, run on timers of the fake transport's virtual
// time. Ports of the retry-count tests of tests/oauth2/test__client.py
// (reference notes §10.3 #78-81, #98-102) and tests_async/oauth2/
// test__client_async.py (§10.4 #114-117, #125-135 as far as they concern the
// refresh grant). Python counts calls of a mocked transport; these count the
// requests the fake transport recorded and check the virtual time between them.
#include "oauth2/refresh_grant.hpp"

#include "oauth2/token_request.hpp"

#include "fake_transport.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <optional>

using namespace gauth;
using namespace gauth::oauth2::detail;
using namespace std::chrono_literals;
using gauth::detail::FetchInput;
using gauth::detail::TokenGrant;
using gauth::test::FakeTransport;
using std::chrono::milliseconds;

namespace {

HttpResponse answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.set("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse with_retry_after(HttpResponse r, std::string value) {
  r.headers.set("retry-after", std::move(value));
  return r;
}

const char kGrant[] = R"({"access_token": "token", "expires_in": 500})";
const char kInternalFailure[] = R"({"error": "internal_failure"})";

/// A token endpoint on virtual time: answers from a script and notes when
/// each request arrived.
struct Endpoint {
  FakeTransport transport;
  std::deque<StatusOr<HttpResponse>> script;
  std::vector<Clock::SteadyTime> arrivals;
  Clock::SteadyTime start = transport.now();

  Endpoint() {
    transport.set_responder([this](const HttpRequest&) -> StatusOr<HttpResponse> {
      arrivals.push_back(transport.now());
      if (script.empty()) return Status(StatusCode::kTransportError, "test: no scripted answer");
      auto next = std::move(script.front());
      script.pop_front();
      return next;
    });
  }

  UserCredentialsConfig config(milliseconds refresh_timeout = 30s) {
    UserCredentialsConfig c;
    c.token_uri = "https://example.com/oauth2/token";
    c.client_id = "client_id";
    c.client_secret = "client_secret";
    c.refresh_timeout = refresh_timeout;
    c.clock = &transport;
    return c;
  }

  struct Result {
    std::optional<StatusOr<TokenGrant>> value;
    Clock::SteadyTime at{};
    int calls = 0;
  };

  /// Starts one grant and lets virtual time run until it has long finished.
  Result fetch(RetryPolicy policy = {}, FetchInput input = {"refresh_token", std::nullopt, false},
               milliseconds refresh_timeout = 30s) {
    Result r;
    auto source = std::make_shared<RefreshGrantSource>(config(refresh_timeout), policy);
    source->fetch(transport, input, [&](StatusOr<TokenGrant> g) {
      ++r.calls;
      r.at = transport.now();
      r.value.emplace(std::move(g));
    });
    transport.advance(120s);
    REQUIRE(r.calls == 1);
    return r;
  }

  milliseconds gap(std::size_t i) const {
    return std::chrono::duration_cast<milliseconds>(arrivals.at(i) - (i == 0 ? start : arrivals.at(i - 1)));
  }
};

}  // namespace

// Mirrors test__client.py::test__token_endpoint_request_internal_failure_error
// (10.3 #79), ::test__token_endpoint_request_no_throw_with_retry[True] (10.3 #101),
// test__client_async.py::test__token_endpoint_request_internal_failure_error
// (10.4 #115) and ::test__token_endpoint_request_no_throw_with_retry[True] (10.4 #134);
// the waits are those of Python's ExponentialBackoff (notes §2.5).
TEST_CASE("three retryable answers make three attempts: at once, after about 1 s, then about 2 s",
          "[refresh_grant][retry]") {
  const char* bodies[] = {R"({"error_description": "internal_failure"})", kInternalFailure,
                          R"({"error": "x"})"};
  for (int round = 0; round < 20; ++round) {
    Endpoint e;
    const char* body = bodies[round % 3];
    const int status = round % 3 == 2 ? 500 : 400;
    INFO("round " << round << ": " << status << " " << body);
    for (int i = 0; i < 3; ++i) e.script.push_back(answer(status, body));
    auto r = e.fetch();
    REQUIRE(e.arrivals.size() == 3);
    CHECK(e.transport.request_count() == 3);
    CHECK(e.gap(0) == 0ms);  // no sleep before the first attempt (PR #1547)
    CHECK(e.gap(1) >= 900ms);
    CHECK(e.gap(1) <= 1100ms);
    CHECK(e.gap(2) >= 1800ms);
    CHECK(e.gap(2) <= 2200ms);
    CHECK(r.at == e.arrivals[2]);  // no sleep after the last attempt
    REQUIRE_FALSE(r.value->ok());
    CHECK(r.value->status().code() == StatusCode::kRefreshError);
    CHECK(r.value->status().retryable());  // 10.4 #115: retryable after the three attempts
    CHECK(r.value->status().http_status() == status);
  }
}

// Mirrors test__client.py::test__token_endpoint_request_internal_failure_and_retry_failure_error
// (10.3 #80; async 10.4 #116).
TEST_CASE("retryable, retryable, then a final error: three attempts and the final error",
          "[refresh_grant][retry]") {
  Endpoint e;
  e.script.push_back(answer(400, R"({"error_description": "internal_failure"})"));
  e.script.push_back(answer(400, kInternalFailure));
  e.script.push_back(answer(400, R"({"error": "invalid_scope"})"));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 3);
  REQUIRE_FALSE(r.value->ok());
  CHECK(r.value->status().code() == StatusCode::kRefreshError);
  CHECK(r.value->status().message() == "invalid_scope");
  CHECK_FALSE(r.value->status().retryable());
}

// Mirrors test__client.py::test__token_endpoint_request_internal_failure_and_retry_succeeds
// (10.3 #81; async 10.4 #117).
TEST_CASE("a retryable answer then a grant: two attempts and the token", "[refresh_grant][retry]") {
  Endpoint e;
  e.script.push_back(answer(400, R"({"error_description": "internal_failure"})"));
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 2);
  CHECK(e.gap(1) >= 900ms);
  CHECK(e.gap(1) <= 1100ms);
  REQUIRE(r.value->ok());
  CHECK((*r.value)->access_token == "token");
}

// Mirrors test__client.py::test__token_endpoint_request_no_throw_with_retry[False]
// (10.3 #102; async 10.4 #135) and the can_retry pass-through tests (10.3 #98-100,
// 10.4 #125-133 for refresh_grant). gauth has no can_retry argument: its
// counterpart is a retry policy of one attempt.
TEST_CASE("with a policy of one attempt, a retryable answer is not retried", "[refresh_grant][retry]") {
  Endpoint e;
  for (int i = 0; i < 3; ++i) e.script.push_back(answer(500, R"({"error": "server_error"})"));
  RetryPolicy once;
  once.max_attempts = 1;
  auto r = e.fetch(once);
  CHECK(e.transport.request_count() == 1);
  REQUIRE_FALSE(r.value->ok());
  CHECK(r.value->status().message() == "server_error");
  CHECK(r.value->status().retryable());
  CHECK(r.at == e.arrivals[0]);
}

// Mirrors test__client.py::test__token_endpoint_request_error (10.3 #78; async 10.4 #114).
TEST_CASE("a final error answer ends the grant after one attempt", "[refresh_grant][retry]") {
  Endpoint e;
  e.script.push_back(answer(400, "{}"));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 1);
  REQUIRE_FALSE(r.value->ok());
  CHECK(r.value->status().code() == StatusCode::kRefreshError);
  CHECK_FALSE(r.value->status().retryable());
}

// Python does not catch transport exceptions (notes §2.5); gauth differs
// (DESIGN.md): a retryable transport failure (reset, refused) is retried like a 503.
TEST_CASE("a retryable transport failure is retried; a final one is not", "[refresh_grant][retry]") {
  {
    Endpoint e;
    e.script.push_back(Status(StatusCode::kTransportError, "connection reset").with_retryable(true));
    e.script.push_back(answer(200, kGrant));
    auto r = e.fetch();
    CHECK(e.transport.request_count() == 2);
    CHECK(e.gap(1) >= 900ms);
    CHECK(e.gap(1) <= 1100ms);
    REQUIRE(r.value->ok());
  }
  {
    Endpoint e;
    e.script.push_back(Status(StatusCode::kTransportError, "certificate verify failed"));
    e.script.push_back(answer(200, kGrant));
    auto r = e.fetch();
    CHECK(e.transport.request_count() == 1);
    REQUIRE_FALSE(r.value->ok());
    CHECK(r.value->status().code() == StatusCode::kTransportError);
    CHECK(r.value->status().message() == "certificate verify failed");
  }
}

// Python ignores Retry-After; gauth honours it within the deadline (DESIGN.md).
TEST_CASE("a Retry-After longer than the backoff is waited for", "[refresh_grant][retry-after]") {
  Endpoint e;
  e.script.push_back(with_retry_after(answer(503, R"({"error": "unavailable"})"), "5"));
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  REQUIRE(e.transport.request_count() == 2);
  CHECK(e.gap(1) == 5s);
  REQUIRE(r.value->ok());
}

TEST_CASE("a Retry-After given as an HTTP-date is waited for", "[refresh_grant][retry-after]") {
  Endpoint e;  // virtual wall time starts at Thu, 01 Jan 2026 00:00:00 GMT
  e.script.push_back(
      with_retry_after(answer(429, R"({"error": "rate_limited"})"), "Thu, 01 Jan 2026 00:00:07 GMT"));
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  REQUIRE(e.transport.request_count() == 2);
  CHECK(e.gap(1) == 7s);
  REQUIRE(r.value->ok());
}

TEST_CASE("a Retry-After shorter than the backoff does not shorten it", "[refresh_grant][retry-after]") {
  Endpoint e;
  e.script.push_back(with_retry_after(answer(503, R"({"error": "unavailable"})"), "0"));
  e.script.push_back(answer(200, kGrant));
  e.fetch();
  REQUIRE(e.transport.request_count() == 2);
  CHECK(e.gap(1) >= 900ms);
  CHECK(e.gap(1) <= 1100ms);
}

TEST_CASE("a Retry-After past the 30 s refresh deadline gives up at once with the server's error",
          "[refresh_grant][retry-after][deadline]") {
  Endpoint e;
  e.script.push_back(with_retry_after(answer(503, R"({"error": "unavailable"})"), "60"));
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 1);
  CHECK(r.at == e.arrivals[0]);  // no waiting for nothing
  REQUIRE_FALSE(r.value->ok());
  CHECK(r.value->status().code() == StatusCode::kRefreshError);
  CHECK(r.value->status().message() == "unavailable");
  CHECK(r.value->status().retryable());
  CHECK(r.value->status().http_status() == 503);
}

TEST_CASE("the retries stop where the next wait would pass the refresh deadline",
          "[refresh_grant][deadline]") {
  Endpoint e;
  e.script.push_back(with_retry_after(answer(503, R"({"error": "unavailable"})"), "29"));
  e.script.push_back(
      answer(503, R"({"error": "still_unavailable"})"));  // the next wait (~2 s) ends past 30 s
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 2);
  CHECK(e.gap(1) == 29s);
  REQUIRE_FALSE(r.value->ok());
  CHECK(r.value->status().message() == "still_unavailable");
  CHECK(r.at == e.arrivals[1]);
}

TEST_CASE("each attempt may take only what is left of the refresh deadline", "[refresh_grant][deadline]") {
  Endpoint e;
  e.script.push_back(answer(503, R"({"error": "unavailable"})"));
  e.script.push_back(answer(503, R"({"error": "unavailable"})"));
  e.script.push_back(answer(200, kGrant));
  e.fetch(RetryPolicy{}, {"refresh_token", std::nullopt, false}, 20s);
  auto sent = e.transport.requests();
  REQUIRE(sent.size() == 3);
  CHECK(sent[0].timeout == 20s);
  CHECK(sent[1].timeout == 20s - std::chrono::ceil<milliseconds>(e.arrivals[1] - e.start));
  CHECK(sent[2].timeout == 20s - std::chrono::ceil<milliseconds>(e.arrivals[2] - e.start));
}

TEST_CASE("a transport timeout short of the refresh deadline (a slow connect) is retried",
          "[refresh_grant][deadline]") {
  Endpoint e;
  e.script.push_back(Status(StatusCode::kTimeout, "connect timed out").with_retryable(true));
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 2);
  CHECK(r.value->ok());
}

TEST_CASE("a transport timeout at the refresh deadline ends the grant with kTimeout, retryable",
          "[refresh_grant][deadline]") {
  Endpoint e;
  e.transport.set_latency(30s);  // the answer arrives when the whole refresh is due
  e.script.push_back(Status(StatusCode::kTimeout, "timed out").with_retryable(true));
  e.script.push_back(answer(200, kGrant));
  auto r = e.fetch();
  CHECK(e.transport.request_count() == 1);
  REQUIRE_FALSE(r.value->ok());
  CHECK(r.value->status().code() == StatusCode::kTimeout);
  CHECK(r.value->status().retryable());
  CHECK_THAT(r.value->status().message(), Catch::Contains("30000 ms"));
}

TEST_CASE("cancelling during the wait between attempts ends the grant with kCancelled and no more requests",
          "[refresh_grant][cancel]") {
  Endpoint e;
  e.script.push_back(answer(503, R"({"error": "unavailable"})"));
  e.script.push_back(answer(200, kGrant));
  auto source = std::make_shared<RefreshGrantSource>(e.config());
  std::optional<StatusOr<TokenGrant>> result;
  Handle h = source->fetch(e.transport, {"refresh_token", std::nullopt, false},
                           [&](StatusOr<TokenGrant> g) { result.emplace(std::move(g)); });
  e.transport.run();
  REQUIRE(e.transport.request_count() == 1);
  CHECK_FALSE(result);
  h.cancel();
  e.transport.advance(10s);
  CHECK(e.transport.request_count() == 1);
  REQUIRE(result);
  REQUIRE_FALSE(result->ok());
  CHECK(result->status().code() == StatusCode::kCancelled);
}

// DESIGN.md: once the server has rotated the refresh token, refreshes use a
// fresh connection, so that libcurl never replays the POST on a reused one.
TEST_CASE("a rotated refresh token is sent on a fresh connection", "[refresh_grant]") {
  Endpoint e;
  e.script.push_back(answer(200, kGrant));
  e.script.push_back(answer(200, kGrant));
  e.fetch(RetryPolicy{}, {"refresh_token", std::nullopt, false});
  e.fetch(RetryPolicy{}, {"rotated_refresh_token", std::nullopt, true});
  auto sent = e.transport.requests();
  REQUIRE(sent.size() == 2);
  CHECK_FALSE(sent[0].fresh_connection);
  CHECK(sent[1].fresh_connection);
}

// Mirrors test__client.py::test_refresh_grant (10.3 #89; async 10.4 #122), the
// call arguments checked on the request the grant sends.
TEST_CASE("the grant posts the refresh token and the rapt token, and reads the answer", "[refresh_grant]") {
  Endpoint e;
  e.script.push_back(answer(200, R"({"access_token": "token", "refresh_token": "new_refresh_token",)"
                                 R"( "expires_in": 500, "extra": "data"})"));
  auto r = e.fetch(RetryPolicy{}, {"refresh_token", std::string("rapt_token"), false});
  auto sent = e.transport.requests();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "POST");
  CHECK(sent[0].url == "https://example.com/oauth2/token");
  CHECK(sent[0].body ==
        "grant_type=refresh_token&client_id=client_id&client_secret=client_secret&refresh_token=refresh_token"
        "&rapt=rapt_token");
  REQUIRE(r.value->ok());
  const TokenGrant& g = **r.value;
  CHECK(g.access_token == "token");
  CHECK(g.refresh_token == std::string("new_refresh_token"));
  CHECK(g.lifetime == std::optional<std::chrono::nanoseconds>(500s));
  CHECK(g.rapt_token == std::string("rapt_token"));
}
