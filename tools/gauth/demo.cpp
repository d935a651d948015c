#include "demo.hpp"

#include "commands.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/oauth2/credentials.hpp>
#include <gauth/testing/fake_token_server.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace gauth::tool {

namespace {

using std::chrono::steady_clock;
using testing::FakeTokenServer;
using testing::TokenAnswer;

double ms_since(steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(steady_clock::now() - start).count();
}

/// "4.2 ms", or "35 us" below a millisecond.
std::string duration_text(double ms) {
  char text[32];
  if (ms < 1.0) {
    std::snprintf(text, sizeof text, "%.0f us", ms * 1000);
  } else {
    std::snprintf(text, sizeof text, "%.1f ms", ms);
  }
  return text;
}

class Demo {
 public:
  Demo(FakeTokenServer& server, CurlDriver& driver) : server_(server), driver_(driver) {}

  /// Credentials for the fake endpoint, with a token that expires in `expires_in`.
  std::shared_ptr<const oauth2::Credentials> credentials(
      std::optional<std::chrono::seconds> expires_in = {}) {
    oauth2::Credentials::Builder b;
    b.token_uri(server_.token_uri())
        .client_id("demo-client.apps.googleusercontent.com")
        .client_secret("demo-client-secret")
        .refresh_token("1//demo-refresh-token")
        .quota_project_id("demo-project");
    if (expires_in) b.token("ya29.old-token").expiry(std::chrono::system_clock::now() + *expires_in);
    return b.build();
  }

  /// Runs the loop until `done()` holds (or 20 s pass).
  bool run_until(const std::function<bool()>& done) {
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (steady_clock::now() > deadline) return false;
      driver_.run_once(std::chrono::milliseconds(50));
    }
    return true;
  }

  void step(int number, const char* title, const std::string& result, bool as_expected) {
    std::printf("%d. %-22s %s\n", number, title, result.c_str());
    if (!as_expected) {
      std::printf("   ^ UNEXPECTED\n");
      ++unexpected_;
    }
  }
  void more(const std::string& line) { std::printf("   %-22s %s\n", "", line.c_str()); }

  int unexpected() const { return unexpected_; }
  std::size_t posts() const { return server_.request_count(); }

 private:
  FakeTokenServer& server_;
  CurlDriver& driver_;
  int unexpected_ = 0;
};

}  // namespace

int run_demo() {
  auto server = FakeTokenServer::start();
  if (!server.ok()) {
    print_error(server.status().message());
    return 1;
  }
  auto driver = CurlDriver::create();
  if (!driver.ok()) {
    print_error(driver.status().message());
    return 1;
  }
  CurlDriver& loop = **driver;
  Demo demo(**server, loop);
  std::printf("gauth demo: the whole flow, offline, against a fake token endpoint in this process\n");
  std::printf("   token endpoint         %s\n\n", (*server)->token_uri().c_str());

  // 1. A refresh.
  auto creds = demo.credentials();
  std::optional<Status> refreshed;
  auto start = steady_clock::now();
  creds->refresh(loop, [&](Status s) { refreshed = s; });
  demo.run_until([&] { return refreshed.has_value(); });
  double refresh_ms = ms_since(start);
  bool ok = refreshed && refreshed->ok() && creds->token_state() == TokenState::kFresh;
  auto left = creds->expiry() ? std::chrono::duration_cast<std::chrono::seconds>(
                                    *creds->expiry() - std::chrono::system_clock::now())
                              : std::chrono::seconds(0);
  char line[256];
  std::snprintf(line, sizeof line, "a token in %s (%zu POST), fresh for %lld s",
                duration_text(refresh_ms).c_str(), demo.posts(), static_cast<long long>(left.count()));
  demo.step(1, "Refresh", ok ? line : to_string(refreshed.value_or(Status())), ok);

  // 2. The headers a request gets.
  std::optional<StatusOr<Headers>> headers;
  creds->before_request(loop, "GET", "https://www.googleapis.com/", {},
                        [&](StatusOr<Headers> h) { headers = h; });
  demo.run_until([&] { return headers.has_value(); });
  ok = headers && headers->ok() && (*headers)->value_or_empty("authorization") == "Bearer " + *creds->token();
  if (ok) {
    bool first = true;
    for (const auto& [name, value] : **headers) {
      std::string text = name + ": " + value;
      if (first) {
        demo.step(2, "Headers applied", text, true);
        first = false;
      } else {
        demo.more(text);
      }
    }
  } else {
    demo.step(2, "Headers applied", headers ? to_string(headers->status()) : "no answer", false);
  }

  // 3. 1,000 callers on an expired token: one POST.
  auto expired = demo.credentials(std::chrono::seconds(-60));
  std::size_t before = demo.posts();
  int served = 0, failed = 0;
  start = steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    expired->before_request(loop, "GET", "https://www.googleapis.com/", {},
                            [&](StatusOr<Headers> h) { (h.ok() ? served : failed)++; });
  }
  demo.run_until([&] { return served + failed == 1000; });
  std::size_t posts = demo.posts() - before;
  std::snprintf(line, sizeof line, "1,000 callers served in %s by %zu POST",
                duration_text(ms_since(start)).c_str(), posts);
  demo.step(3, "Expired token", line, served == 1000 && posts == 1);

  // 4. A stale token: served at once, refreshed once in the background.
  auto stale = demo.credentials(std::chrono::seconds(100));
  before = demo.posts();
  std::vector<std::string> applied;
  start = steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    stale->before_request(loop, "GET", "https://www.googleapis.com/", {}, [&](StatusOr<Headers> h) {
      applied.push_back(h.ok() ? h->value_or_empty("authorization") : "error");
    });
  }
  demo.run_until([&] { return applied.size() == 3; });
  double served_ms = ms_since(start);
  demo.run_until([&] { return stale->token() != std::string("ya29.old-token"); });
  posts = demo.posts() - before;
  ok = applied == std::vector<std::string>(3, "Bearer ya29.old-token") && posts == 1 &&
       stale->token_state() == TokenState::kFresh;
  std::snprintf(line, sizeof line, "the old token served at once (%s), replaced by %zu background POST",
                duration_text(served_ms).c_str(), posts);
  demo.step(4, "Stale token", line, ok);

  // 5. A 503: retried on a timer while the loop keeps running.
  (*server)->enqueue(TokenAnswer::unavailable(503));
  auto retried = demo.credentials();
  before = demo.posts();
  int ticks = 0;
  Handle ticker;  // the latest tick's timer, so that cancelling it ends the chain
  std::function<void(Status)> tick = [&](Status s) {
    if (!s.ok()) return;
    ++ticks;
    ticker = loop.run_after(std::chrono::milliseconds(50), tick);
  };
  ticker = loop.run_after(std::chrono::milliseconds(50), tick);
  refreshed.reset();
  start = steady_clock::now();
  retried->refresh(loop, [&](Status s) { refreshed = s; });
  demo.run_until([&] { return refreshed.has_value(); });
  double retry_ms = ms_since(start);
  ticker.cancel();
  posts = demo.posts() - before;
  ok = refreshed && refreshed->ok() && posts == 2 && ticks >= 10;
  std::snprintf(line, sizeof line,
                "success after %.2f s and %zu POSTs; meanwhile a 50 ms timer ticked %d times",
                retry_ms / 1000, posts, ticks);
  demo.step(5, "503, then a token", line, ok);

  // 6. A revoked refresh token: a clear error.
  (*server)->enqueue(
      TokenAnswer::oauth_error("invalid_grant", std::string("Token has been expired or revoked.")));
  auto revoked = demo.credentials();
  refreshed.reset();
  revoked->refresh(loop, [&](Status s) { refreshed = s; });
  demo.run_until([&] { return refreshed.has_value(); });
  ok = refreshed && refreshed->code() == StatusCode::kRefreshError && !refreshed->retryable() &&
       refreshed->oauth_error() == "invalid_grant";
  demo.step(
      6, "Revoked token",
      refreshed ? to_string(*refreshed) + (refreshed->retryable() ? "" : " (not retryable)") : "no answer",
      ok);

  std::printf("\n%s\n", demo.unexpected() == 0 ? "All 6 steps behaved as expected."
                                               : "Some steps did not behave as expected.");
  // A step that gave up waiting left callbacks pending that refer to the
  // steps' variables: the driver completes them (kCancelled) while they live.
  driver->reset();
  return demo.unexpected() == 0 ? 0 : 1;
}

}  // namespace gauth::tool
