// The token state machine on virtual time, with a scripted token source.
#include "token_cache.hpp"

#include "fake_transport.hpp"

#include <catch2/catch.hpp>

#include <deque>

using namespace gauth;
using namespace gauth::detail;
using namespace std::chrono_literals;
using gauth::test::FakeTransport;

namespace {

/// A token source whose fetches take `latency` of virtual time and answer
/// from a script.
class ScriptedSource final : public TokenSource {
 public:
  explicit ScriptedSource(bool always = false) : always_(always) {}

  Handle fetch(Transport& transport, const FetchInput& input, Done done) const override {
    ++fetches;
    inputs.push_back(input);
    StatusOr<TokenGrant> answer = Status(StatusCode::kRefreshError, "no scripted answer");
    if (!script.empty()) {
      answer = script.front();
      script.pop_front();
    }
    return transport.run_after(latency, [done = std::move(done), answer, this](Status fired) {
      if (!fired.ok()) ++aborted;
      done(fired.ok() ? answer : StatusOr<TokenGrant>(fired));
    });
  }
  bool always_fetch() const noexcept override { return always_; }

  mutable int fetches = 0;
  mutable int aborted = 0;
  mutable std::vector<FetchInput> inputs;
  mutable std::deque<StatusOr<TokenGrant>> script;
  std::chrono::nanoseconds latency = 100ms;

 private:
  bool always_;
};

TokenGrant grant(std::string token, std::chrono::seconds lifetime = 3600s) {
  TokenGrant g;
  g.access_token = std::move(token);
  g.lifetime = lifetime;
  return g;
}

struct Fixture {
  FakeTransport transport;
  std::shared_ptr<ScriptedSource> source = std::make_shared<ScriptedSource>();
  std::vector<TokenUpdate> updates;

  std::shared_ptr<TokenCache> cache(TokenStateValues initial = {}) {
    return std::make_shared<TokenCache>(source, transport, std::move(initial),
                                        [this](const TokenUpdate& u) { updates.push_back(u); });
  }
  TokenStateValues with_token(std::string token, std::chrono::seconds expires_in) {
    TokenStateValues v;
    v.token = std::move(token);
    v.expiry = transport.wall_now() + expires_in;
    v.refresh_token = "refresh";
    return v;
  }
};

struct Result {
  std::optional<StatusOr<std::string>> value;
  int calls = 0;
  std::string token() const {
    if (!value) return "<not called>";
    return value->ok() ? **value : "<" + to_string(value->status()) + ">";
  }
  TokenCache::TokenCallback callback() {
    return [this](StatusOr<std::string> r) {
      ++calls;
      value.emplace(std::move(r));
    };
  }
};

}  // namespace

TEST_CASE("token states follow Python's boundaries (225 s threshold)", "[token_cache]") {
  Fixture f;
  CHECK(f.cache()->state() == TokenState::kInvalid);  // no token
  CHECK(f.cache(f.with_token("t", 226s))->state() == TokenState::kFresh);
  CHECK(f.cache(f.with_token("t", 225s))->state() == TokenState::kStale);
  CHECK(f.cache(f.with_token("t", 1s))->state() == TokenState::kStale);
  CHECK(f.cache(f.with_token("t", 0s))->state() == TokenState::kInvalid);
  CHECK(f.cache(f.with_token("t", -1s))->state() == TokenState::kInvalid);
  TokenStateValues no_expiry;
  no_expiry.token = "t";
  CHECK(f.cache(no_expiry)->state() == TokenState::kFresh);
  CHECK_FALSE(f.cache(no_expiry)->expired());
  CHECK(f.cache(f.with_token("t", 225s))->expired());
  CHECK_FALSE(f.cache(f.with_token("t", 226s))->expired());
}

TEST_CASE("a fresh token is handed out without a fetch, later, not inline", "[token_cache]") {
  Fixture f;
  auto cache = f.cache(f.with_token("fresh", 3600s));
  Result r;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, r.callback());
  CHECK(r.calls == 0);
  f.transport.run();
  REQUIRE(r.calls == 1);
  CHECK(r.token() == "fresh");
  CHECK(f.source->fetches == 0);
}

TEST_CASE("10,000 callers on an expired token share one fetch and all get its result",
          "[token_cache][single-flight]") {
  Fixture f;
  f.source->script.push_back(grant("new"));
  auto cache = f.cache(f.with_token("old", -10s));
  constexpr int kCallers = 10000;
  std::vector<Result> results(kCallers);
  for (auto& r : results) cache->demand(f.transport, TokenCache::Demand::kUse, {}, r.callback());
  f.transport.advance(100ms);
  CHECK(f.source->fetches == 1);
  for (auto& r : results) {
    REQUIRE(r.calls == 1);
    REQUIRE(r.token() == "new");
  }
  CHECK(cache->state() == TokenState::kFresh);
}

TEST_CASE("a stale token is served at once and refreshed once in the background", "[token_cache][stale]") {
  Fixture f;
  f.source->script.push_back(grant("renewed"));
  auto cache = f.cache(f.with_token("stale", 100s));
  REQUIRE(cache->state() == TokenState::kStale);
  Result a, b;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, b.callback());
  f.transport.run();
  CHECK(a.token() == "stale");
  CHECK(b.token() == "stale");
  CHECK(f.source->fetches == 1);
  f.transport.advance(100ms);
  CHECK(cache->values().token == std::string("renewed"));
  CHECK(cache->state() == TokenState::kFresh);
  REQUIRE(f.updates.size() == 1);
  CHECK(f.updates[0].token == "renewed");
}

TEST_CASE("a failed refresh keeps a still-usable token", "[token_cache][failure]") {
  Fixture f;
  f.source->script.push_back(Status(StatusCode::kRefreshError, "server_error").with_retryable(true));
  auto cache = f.cache(f.with_token("stale", 100s));
  Result r;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, r.callback());
  f.transport.advance(100ms);
  CHECK(r.token() == "stale");
  CHECK(cache->values().token == std::string("stale"));
  CHECK(cache->state() == TokenState::kStale);
  CHECK(f.updates.empty());
}

TEST_CASE("after a transient failure, demands inside the backoff fail fast; later ones try again",
          "[token_cache][failure]") {
  Fixture f;
  Status transient = Status(StatusCode::kRefreshError, "temporarily_unavailable").with_retryable(true);
  f.source->script.push_back(transient);
  f.source->script.push_back(grant("recovered"));
  auto cache = f.cache();
  Result first;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, first.callback());
  f.transport.advance(100ms);
  REQUIRE(first.calls == 1);
  CHECK(first.value->status() == transient);

  Result during;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, during.callback());
  f.transport.run();
  REQUIRE(during.calls == 1);
  CHECK(during.value->status() == transient);
  CHECK(f.source->fetches == 1);  // the endpoint is not hammered

  f.transport.advance(1s);
  Result after;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, after.callback());
  f.transport.advance(100ms);
  CHECK(f.source->fetches == 2);
  CHECK(after.token() == "recovered");
}

TEST_CASE("backoff doubles with each transient failure and resets on success", "[token_cache][failure]") {
  Fixture f;
  Status transient = Status(StatusCode::kTransportError, "reset").with_retryable(true);
  auto cache = f.cache();
  auto attempt = [&] {
    Result r;
    cache->demand(f.transport, TokenCache::Demand::kUse, {}, r.callback());
    f.transport.advance(100ms);
    return r;
  };
  f.source->script.push_back(transient);
  attempt();  // fetch 1 fails: 1 s backoff
  f.transport.advance(900ms);
  attempt();  // still inside (1 s after the failure would be 900+100 ms): fails fast
  CHECK(f.source->fetches == 1);
  f.transport.advance(100ms);
  f.source->script.push_back(transient);
  attempt();  // fetch 2 fails: 2 s backoff
  CHECK(f.source->fetches == 2);
  f.transport.advance(1500ms);
  attempt();
  CHECK(f.source->fetches == 2);
  f.transport.advance(500ms);
  f.source->script.push_back(grant("ok"));
  CHECK(attempt().token() == "ok");
  CHECK(f.source->fetches == 3);
}

TEST_CASE("a permanent failure backs off too, and never poisons the cache", "[token_cache][failure]") {
  Fixture f;
  f.source->script.push_back(Status(StatusCode::kRefreshError, "invalid_grant"));
  f.source->script.push_back(grant("ok"));
  auto cache = f.cache();
  Result a, during, after;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  f.transport.advance(100ms);
  CHECK(a.value->status().message() == "invalid_grant");
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, during.callback());
  f.transport.run();
  CHECK(during.value->status().message() == "invalid_grant");
  CHECK(f.source->fetches == 1);
  f.transport.advance(1s);
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, after.callback());
  f.transport.advance(100ms);
  CHECK(after.token() == "ok");
  CHECK(f.source->fetches == 2);
}

TEST_CASE("a stale token with a failing endpoint does not turn demand into a request storm",
          "[token_cache][failure][stale]") {
  Fixture f;
  auto cache = f.cache(f.with_token("stale", 200s));
  for (int i = 0; i < 1000; ++i) {
    f.source->script.push_back(Status(StatusCode::kRefreshError, "No access token in response."));
  }
  // A busy caller: a demand every millisecond for two seconds.
  for (int ms = 0; ms < 2000; ++ms) {
    Result r;
    cache->demand(f.transport, TokenCache::Demand::kUse, {}, r.callback());
    f.transport.advance(1ms);
    REQUIRE(r.token() == "stale");  // the usable token is served all along
  }
  // Fetches after 0, ~1 s (backoff 1 s, doubling): not one per demand.
  CHECK(f.source->fetches <= 3);
}

TEST_CASE("explicit refresh() is not held back by the backoff", "[token_cache][failure]") {
  Fixture f;
  f.source->script.push_back(Status(StatusCode::kRefreshError, "server_error").with_retryable(true));
  f.source->script.push_back(grant("forced"));
  auto cache = f.cache();
  Result a, b;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  f.transport.advance(100ms);
  cache->demand(f.transport, TokenCache::Demand::kRefresh, {}, b.callback());
  f.transport.advance(100ms);
  CHECK(b.token() == "forced");
}

TEST_CASE("cancelling one waiter leaves the others and the shared fetch alone", "[token_cache][cancel]") {
  Fixture f;
  f.source->script.push_back(grant("shared"));
  auto cache = f.cache();
  Result a, b;
  Handle ha = cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, b.callback());
  f.transport.advance(50ms);
  ha.cancel();
  CHECK(a.calls == 0);  // never inline
  f.transport.run();
  REQUIRE(a.calls == 1);
  CHECK(a.value->status().code() == StatusCode::kCancelled);
  f.transport.advance(50ms);
  CHECK(b.token() == "shared");
  CHECK(f.source->aborted == 0);
  ha.cancel();  // after completion: nothing
  f.transport.run();
  CHECK(a.calls == 1);
}

TEST_CASE("when the last waiter cancels, the shared fetch is aborted; a new demand starts a new one",
          "[token_cache][cancel]") {
  Fixture f;
  f.source->script.push_back(grant("never"));
  f.source->script.push_back(grant("second"));
  auto cache = f.cache();
  Result a;
  Handle h = cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  f.transport.advance(10ms);
  h.cancel();
  f.transport.run();
  CHECK(a.value->status().code() == StatusCode::kCancelled);
  CHECK(f.source->aborted == 1);
  Result b;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, b.callback());
  f.transport.advance(100ms);
  CHECK(f.source->fetches == 2);
  CHECK(b.token() == "second");
}

TEST_CASE("a background refresh is not aborted when its late waiters cancel", "[token_cache][cancel]") {
  Fixture f;
  f.source->script.push_back(grant("renewed"));
  auto cache = f.cache(f.with_token("stale", 100s));
  Result use, refresh;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, use.callback());  // starts the background fetch
  Handle h = cache->demand(f.transport, TokenCache::Demand::kRefresh, {}, refresh.callback());
  f.transport.run();
  h.cancel();
  f.transport.advance(100ms);
  CHECK(refresh.value->status().code() == StatusCode::kCancelled);
  CHECK(f.source->aborted == 0);
  CHECK(cache->values().token == std::string("renewed"));
}

TEST_CASE("each waiter has its own deadline, apart from the shared fetch", "[token_cache][deadline]") {
  Fixture f;
  f.source->latency = 5s;
  f.source->script.push_back(grant("slow"));
  auto cache = f.cache();
  Result hasty, patient;
  WaitOptions short_wait;
  short_wait.timeout = 200ms;
  cache->demand(f.transport, TokenCache::Demand::kUse, short_wait, hasty.callback());
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, patient.callback());
  f.transport.advance(200ms);
  REQUIRE(hasty.calls == 1);
  CHECK(hasty.value->status().code() == StatusCode::kTimeout);
  CHECK(hasty.value->status().retryable());
  CHECK(patient.calls == 0);
  f.transport.advance(5s);
  CHECK(patient.token() == "slow");
  CHECK(hasty.calls == 1);
  CHECK(f.transport.pending_timers() == 0);
}

TEST_CASE("a waiter's deadline past a year is taken to be a year, not an overflow",
          "[token_cache][deadline]") {
  Fixture f;
  f.source->latency = 5s;
  f.source->script.push_back(grant("slow"));
  auto cache = f.cache();
  Result r;
  WaitOptions forever;
  forever.timeout = std::chrono::milliseconds::max();
  cache->demand(f.transport, TokenCache::Demand::kUse, forever, r.callback());
  f.transport.advance(1s);
  CHECK(r.calls == 0);  // an overflowed deadline would have passed already
  f.transport.advance(5s);
  CHECK(r.token() == "slow");
}

TEST_CASE("a deadline timer is cancelled when the waiter completes first", "[token_cache][deadline]") {
  Fixture f;
  f.source->script.push_back(grant("quick"));
  auto cache = f.cache();
  Result r;
  WaitOptions wait;
  wait.timeout = 1h;
  cache->demand(f.transport, TokenCache::Demand::kUse, wait, r.callback());
  f.transport.advance(100ms);
  CHECK(r.token() == "quick");
  CHECK(f.transport.pending_timers() == 0);
}

TEST_CASE("refresh fetches even when the token is fresh, and joins a fetch in flight", "[token_cache]") {
  Fixture f;
  f.source->script.push_back(grant("forced"));
  auto cache = f.cache(f.with_token("fresh", 3600s));
  Result a, b;
  cache->demand(f.transport, TokenCache::Demand::kRefresh, {}, a.callback());
  cache->demand(f.transport, TokenCache::Demand::kRefresh, {}, b.callback());
  f.transport.advance(100ms);
  CHECK(f.source->fetches == 1);
  CHECK(a.token() == "forced");
  CHECK(b.token() == "forced");
}

TEST_CASE("a rotated refresh token is kept, reported, and marks later fetches", "[token_cache][rotation]") {
  Fixture f;
  TokenGrant rotated = grant("t1");
  rotated.refresh_token = "refresh-2";
  f.source->script.push_back(rotated);
  f.source->script.push_back(grant("t2"));
  auto cache = f.cache(f.with_token("old", -1s));
  Result a, b;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  f.transport.advance(100ms);
  CHECK(cache->values().refresh_token == std::string("refresh-2"));
  REQUIRE(f.updates.size() == 1);
  CHECK(f.updates[0].rotated_refresh_token == std::string("refresh-2"));
  cache->demand(f.transport, TokenCache::Demand::kRefresh, {}, b.callback());
  f.transport.advance(100ms);
  REQUIRE(f.source->inputs.size() == 2);
  CHECK(f.source->inputs[0].refresh_token == std::string("refresh"));
  CHECK_FALSE(f.source->inputs[0].refresh_token_rotated);
  CHECK(f.source->inputs[1].refresh_token == std::string("refresh-2"));
  CHECK(f.source->inputs[1].refresh_token_rotated);
  REQUIRE(f.updates.size() == 2);
  CHECK_FALSE(f.updates[1].rotated_refresh_token);  // same refresh token: not a rotation
}

TEST_CASE("the fast path reads only fresh tokens", "[token_cache][fast-path]") {
  Fixture f;
  std::string out;
  CHECK(f.cache(f.with_token("abc", 3600s))->read_fresh_token(out));
  CHECK(out == "abc");
  out.clear();
  CHECK_FALSE(f.cache(f.with_token("abc", 100s))->read_fresh_token(out));
  CHECK_FALSE(f.cache()->read_fresh_token(out));
  CHECK(out.empty());
  auto cache = f.cache(f.with_token("abc", 300s));
  CHECK(cache->read_fresh_token(out));
  f.transport.advance(76s);  // now inside the threshold
  out.clear();
  CHECK_FALSE(cache->read_fresh_token(out));
}

TEST_CASE("a source that always fetches never serves from the cache, but still single-flights",
          "[token_cache]") {
  Fixture f;
  f.source = std::make_shared<ScriptedSource>(true);
  f.source->script.push_back(grant("one"));
  f.source->script.push_back(grant("two"));
  TokenStateValues v;
  v.token = "cached";
  auto cache = f.cache(v);
  std::string out;
  CHECK_FALSE(cache->read_fresh_token(out));
  Result a, b, c;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, a.callback());
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, b.callback());
  f.transport.advance(100ms);
  CHECK(a.token() == "one");
  CHECK(b.token() == "one");
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, c.callback());
  f.transport.advance(100ms);
  CHECK(c.token() == "two");
  CHECK(f.source->fetches == 2);
}

TEST_CASE("an expiry read from a file follows the monotonic clock, not wall-clock jumps", "[token_cache]") {
  Fixture f;
  auto cache = f.cache(f.with_token("t", 3600s));
  f.transport.jump_wall_clock(2h);  // someone sets the clock forward
  CHECK(cache->state() == TokenState::kFresh);
}

TEST_CASE("destroying the transport completes waiting callers with kCancelled", "[token_cache][teardown]") {
  Result r;
  auto source = std::make_shared<ScriptedSource>();
  std::shared_ptr<TokenCache> cache;
  {
    FakeTransport transport;
    cache = std::make_shared<TokenCache>(source, transport, TokenStateValues{}, nullptr);
    cache->demand(transport, TokenCache::Demand::kUse, {}, r.callback());
    transport.run();
  }
  REQUIRE(r.calls == 1);
  CHECK(r.value->status().code() == StatusCode::kCancelled);
}

TEST_CASE("a waiter on another driver completes once when its own driver is destroyed",
          "[token_cache][threads]") {
  Fixture f;  // f.transport runs the fetch
  f.source->latency = 5s;
  f.source->script.push_back(grant("late"));
  auto cache = f.cache();
  Result on_a, on_b;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, on_a.callback());  // starts the fetch on A
  {
    FakeTransport b;
    cache->demand(b, TokenCache::Demand::kUse, {}, on_b.callback());  // joins it from B
    b.run();
    f.transport.advance(1s);
    CHECK(on_b.calls == 0);
  }  // B is destroyed: its waiter learns it through its guard timer
  REQUIRE(on_b.calls == 1);
  CHECK(on_b.value->status().code() == StatusCode::kCancelled);
  f.transport.advance(5s);  // the fetch ends on A; B is not touched
  CHECK(on_a.token() == "late");
  CHECK(on_b.calls == 1);
}

TEST_CASE("a waiter on another driver gets the result through its own loop", "[token_cache][threads]") {
  Fixture f;
  f.source->script.push_back(grant("shared"));
  auto cache = f.cache();
  FakeTransport b;
  Result on_a, on_b;
  cache->demand(f.transport, TokenCache::Demand::kUse, {}, on_a.callback());
  cache->demand(b, TokenCache::Demand::kUse, {}, on_b.callback());
  f.transport.advance(100ms);
  CHECK(on_a.token() == "shared");
  CHECK(on_b.calls == 0);  // posted to B's loop
  b.run();
  CHECK(on_b.token() == "shared");
  CHECK(b.pending_timers() == 0);  // the guard timer is gone
}

TEST_CASE("once a server rotates refresh tokens, an abandoned fetch still finishes",
          "[token_cache][rotation][cancel]") {
  Fixture f;
  TokenStateValues v;
  v.refresh_token = "rotated-before";
  v.refresh_token_rotated = true;
  TokenGrant next = grant("t");
  next.refresh_token = "rotated-again";
  f.source->script.push_back(next);
  auto cache = f.cache(v);
  Result r;
  Handle h = cache->demand(f.transport, TokenCache::Demand::kUse, {}, r.callback());
  f.transport.advance(10ms);
  h.cancel();
  f.transport.advance(100ms);
  CHECK(r.value->status().code() == StatusCode::kCancelled);
  CHECK(f.source->aborted == 0);  // not abandoned: its answer holds the next refresh token
  CHECK(cache->values().refresh_token == std::string("rotated-again"));
  CHECK(cache->values().token == std::string("t"));
}
