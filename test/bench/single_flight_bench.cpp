// 10,000 callers waiting on one expired token: one POST, and all of them
// completed within one round trip of the token endpoint.
#include "bench_util.hpp"
#include "test_server.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/oauth2/credentials.hpp>

#include <cstdio>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono;

int main() {
  constexpr int kCallers = 10'000;
  constexpr auto kServerDelay = milliseconds(20);  // the token endpoint's think time
  TestServer server;
  Reply answer = Reply::json(200, R"({"access_token":"ya29.single-flight","expires_in":3599})");
  answer.delay = kServerDelay;
  server.set_default(answer);
  auto driver = std::move(CurlDriver::create()).value();

  // The round trip alone, for comparison.
  bool warm = false;
  auto rt_start = steady_clock::now();
  HttpRequest probe;
  probe.method = "POST";
  probe.url = server.url("/token");
  driver->send(probe, [&](StatusOr<HttpResponse> r) { warm = r.ok(); });
  while (!warm) driver->run_once(milliseconds(100));
  double round_trip_ms = duration<double, std::milli>(steady_clock::now() - rt_start).count();

  auto creds = oauth2::Credentials::Builder()
                   .token_uri(server.url("/token"))
                   .client_id("123")
                   .client_secret("secret")
                   .refresh_token("alabalaportocala")
                   .build();
  std::size_t posts_before = server.request_count();
  int completed = 0;
  auto start = steady_clock::now();
  for (int i = 0; i < kCallers; ++i) {
    creds->before_request(*driver, "GET", "https://example.googleapis.com/", {}, [&](StatusOr<Headers> h) {
      bench::require(h.ok(), "every caller gets the token");
      ++completed;
    });
  }
  double enqueue_ms = duration<double, std::milli>(steady_clock::now() - start).count();
  while (completed < kCallers) driver->run_once(milliseconds(100));
  double total_ms = duration<double, std::milli>(steady_clock::now() - start).count();
  std::size_t posts = server.request_count() - posts_before;
  bench::require(posts == 1, "exactly one POST for all callers");

  std::printf("single flight: %d callers on an expired token\n", kCallers);
  std::printf("  POSTs to the token endpoint: %zu\n", posts);
  std::printf("  one round trip (server thinks %lld ms): %.1f ms\n",
              static_cast<long long>(kServerDelay.count()), round_trip_ms);
  std::printf("  all %d callers completed after: %.1f ms (of which %.1f ms to make the calls)\n", kCallers,
              total_ms, enqueue_ms);
  return 0;
}
