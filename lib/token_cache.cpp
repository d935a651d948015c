#include "token_cache.hpp"

#include "callback.hpp"
#include "durations.hpp"

#include <algorithm>
#include <limits>

namespace gauth::detail {

namespace {

constexpr auto kMaxSpan = std::chrono::hours(24 * 365 * 100);
constexpr std::chrono::nanoseconds kGuardDelay = std::chrono::hours(24 * 365 * 10);

/// Anchors a wall-clock instant to the monotonic clock (clamped to a century
/// either way, so that absurd expiry times cannot overflow).
Clock::SteadyTime steady_from_wall(const Clock& clock, Clock::WallTime when) {
  auto span = std::chrono::duration_cast<std::chrono::nanoseconds>(when - clock.wall_now());
  span = std::clamp<std::chrono::nanoseconds>(span, -kMaxSpan, kMaxSpan);
  return clock.now() + span;
}

}  // namespace

// ---- Waiter: one caller waiting for a fetch ------------------------------------

/// A waiter reaches its loop only through its transport's Executor: it may
/// be completed by a fetch running on another driver, after its own driver is
/// gone.
class Waiter final : public Cancellable, public std::enable_shared_from_this<Waiter> {
 public:
  Waiter(std::shared_ptr<TokenCache> cache, std::shared_ptr<Executor> executor,
         TokenCache::TokenCallback done)
      : cache_(std::move(cache)), executor_(std::move(executor)), done_(std::move(done)) {}

  const std::shared_ptr<Executor>& executor() const noexcept { return executor_; }

  void cancel() noexcept override {
    if (finished_.load(std::memory_order_acquire)) return;
    try {
      executor_->post([self = shared_from_this()] {
        self->withdraw(Status(StatusCode::kCancelled, "cancelled while waiting for a token"));
      });
    } catch (...) {
    }
  }

  /// Stops waiting and completes with `why`. \context The waiter's loop thread.
  void withdraw(const Status& why) { cache_->withdraw_waiter(*this, why); }

  /// Stores the deadline timer, or cancels it at once if the waiter already
  /// finished. \context Any thread.
  void set_deadline(Handle deadline) {
    {
      std::lock_guard<std::mutex> lock(deadline_mutex_);
      if (!finished_.load(std::memory_order_acquire)) {
        deadline_ = std::move(deadline);
        return;
      }
    }
    deadline.cancel();
  }

  /// Completes the waiter once. \context The waiter's loop thread.
  void finish(StatusOr<std::string> result) noexcept {
    if (finished_.exchange(true, std::memory_order_acq_rel)) return;
    Handle deadline;
    {
      std::lock_guard<std::mutex> lock(deadline_mutex_);
      deadline = std::move(deadline_);
    }
    deadline.cancel();
    auto done = std::move(done_);
    done_ = nullptr;
    invoke_user_code(done, std::move(result));
  }

  Fetch* fetch = nullptr;  // the fetch this waiter waits for; guarded by the cache's mutex

 private:
  const std::shared_ptr<TokenCache> cache_;
  const std::shared_ptr<Executor> executor_;
  TokenCache::TokenCallback done_;
  std::atomic<bool> finished_{false};
  std::mutex deadline_mutex_;
  Handle deadline_;
};

// ---- Fetch: the one token request of a cache in flight ---------------------------

class Fetch final : public std::enable_shared_from_this<Fetch> {
 public:
  Fetch(std::shared_ptr<TokenCache> cache, Transport& transport, bool background)
      : transport(transport),
        executor(transport.executor()),
        background(background),
        cache_(std::move(cache)) {}

  /// \context The fetch's loop thread.
  void begin() {
    if (aborted_) {
      cache_->finish_fetch(*this,
                           Status(StatusCode::kCancelled, "token refresh abandoned: nobody waits for it"));
      return;
    }
    handle_ = cache_->source().fetch(transport, cache_->fetch_input(),
                                     [self = shared_from_this()](StatusOr<TokenGrant> result) {
                                       self->cache_->finish_fetch(*self, std::move(result));
                                     });
  }

  /// Abandons the fetch; it then finishes with kCancelled. \context Any thread.
  void abort() {
    executor->post([self = shared_from_this()] {
      self->aborted_ = true;
      self->handle_.cancel();
    });
  }

  Transport& transport;  // used on its own loop thread only, where it is alive
  const std::shared_ptr<Executor> executor;
  // Guarded by the cache's mutex:
  bool background;  // runs for the cache alone (a stale token), not for waiters
  std::vector<std::shared_ptr<Waiter>> waiters;

 private:
  const std::shared_ptr<TokenCache> cache_;
  // Loop thread only.
  Handle handle_;
  bool aborted_ = false;
};

// ---- TokenCache ----------------------------------------------------------------

TokenCache::TokenCache(std::shared_ptr<const TokenSource> source, const Clock& clock,
                       TokenStateValues initial, TokenListener listener, FailureBackoff backoff)
    : source_(std::move(source)), clock_(clock), listener_(std::move(listener)), backoff_policy_(backoff) {
  stored_.expiry = initial.expiry;
  stored_.refresh_token = std::move(initial.refresh_token);
  stored_.refresh_token_rotated = initial.refresh_token_rotated;
  if (initial.id_token || initial.rapt_token || initial.granted_scopes) {
    auto& extras = stored_.extras_for_writing();
    extras.id_token = std::move(initial.id_token);
    extras.rapt_token = std::move(initial.rapt_token);
    extras.granted_scopes = std::move(initial.granted_scopes);
  }
  if (stored_.expiry) expiry_steady_ = steady_from_wall(clock_, *stored_.expiry);
  if (initial.token) publish_token(*initial.token);
}

TokenCache::~TokenCache() = default;

TokenStateValues TokenCache::values() const {
  std::lock_guard<std::mutex> lock(mutex_);
  TokenStateValues v;
  v.token = published_.token();
  v.expiry = stored_.expiry;
  v.refresh_token = stored_.refresh_token;
  v.refresh_token_rotated = stored_.refresh_token_rotated;
  if (stored_.extras) {
    v.id_token = stored_.extras->id_token;
    v.rapt_token = stored_.extras->rapt_token;
    v.granted_scopes = stored_.extras->granted_scopes;
  }
  return v;
}

std::optional<std::string> TokenCache::token() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return published_.token();
}

std::optional<Clock::WallTime> TokenCache::expiry() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stored_.expiry;
}

TokenState TokenCache::state() const {
  auto now = clock_.now();
  std::lock_guard<std::mutex> lock(mutex_);
  return state_at(now);
}

bool TokenCache::expired() const {
  auto now = clock_.now();
  std::lock_guard<std::mutex> lock(mutex_);
  return expiry_steady_ && now >= *expiry_steady_ - kRefreshThreshold;
}

TokenState TokenCache::state_at(Clock::SteadyTime now) const {
  if (!published_.present()) return TokenState::kInvalid;
  if (!expiry_steady_) return TokenState::kFresh;
  if (now >= *expiry_steady_) return TokenState::kInvalid;
  if (now >= *expiry_steady_ - kRefreshThreshold) return TokenState::kStale;
  return TokenState::kFresh;
}

bool TokenCache::read_fresh_token(std::string& out) const {
  return published_.read_if_fresh(clock_.now().time_since_epoch().count(), out);
}

void TokenCache::publish_token(std::string_view token) {
  // A source that always fetches keeps its token for token() but never
  // lets the fast path serve it.
  std::int64_t fresh_until = std::numeric_limits<std::int64_t>::max();
  if (source_->always_fetch()) {
    fresh_until = std::numeric_limits<std::int64_t>::min();
  } else if (expiry_steady_) {
    fresh_until = (*expiry_steady_ - kRefreshThreshold).time_since_epoch().count();
  }
  published_.publish(token, fresh_until);
}

bool TokenCache::publish(const TokenGrant& grant, Clock::SteadyTime now) {
  if (grant.lifetime) {
    expiry_steady_ = now + *grant.lifetime;
    stored_.expiry =
        clock_.wall_now() + std::chrono::duration_cast<Clock::WallTime::duration>(*grant.lifetime);
  } else if (grant.expiry) {
    stored_.expiry = grant.expiry;
    expiry_steady_ = steady_from_wall(clock_, *grant.expiry);
  } else {
    stored_.expiry.reset();
    expiry_steady_.reset();
  }
  const bool rotated = grant.refresh_token && grant.refresh_token != stored_.refresh_token;
  if (rotated) {
    stored_.refresh_token = grant.refresh_token;
    stored_.refresh_token_rotated = true;
  }
  if (grant.replace_id_token && (grant.id_token || stored_.extras)) {
    stored_.extras_for_writing().id_token = grant.id_token;
  }
  if (grant.granted_scopes) stored_.extras_for_writing().granted_scopes = grant.granted_scopes;
  if (grant.rapt_token) stored_.extras_for_writing().rapt_token = grant.rapt_token;
  publish_token(grant.access_token);
  return rotated;
}

FetchInput TokenCache::fetch_input() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return FetchInput{stored_.refresh_token, stored_.extras ? stored_.extras->rapt_token : std::nullopt,
                    stored_.refresh_token_rotated};
}

std::shared_ptr<Fetch> TokenCache::start_fetch(Transport& transport, bool background) {
  in_flight_ = std::make_shared<Fetch>(shared_from_this(), transport, background);
  return in_flight_;
}

Handle TokenCache::demand(Transport& transport, Demand demand, WaitOptions options, TokenCallback done) {
  const auto now = clock_.now();
  if (demand == Demand::kUse && !source_->always_fetch()) {
    // A fresh token needs neither the lock nor a look at fetches or backoff.
    std::string token;
    if (published_.read_if_fresh(now.time_since_epoch().count(), token)) {
      transport.post(
          [done = std::move(done), token = std::move(token)]() mutable { done(std::move(token)); });
      return Handle();
    }
  }
  std::unique_lock<std::mutex> lock(mutex_);
  const bool in_backoff = retry_not_before_ && now < *retry_not_before_;
  if (demand == Demand::kUse && !source_->always_fetch()) {
    TokenState state = state_at(now);
    if (state != TokenState::kInvalid) {
      // Usable now; a stale token also starts one background refresh.
      std::string token = *published_.token();
      std::shared_ptr<Fetch> background;
      if (state == TokenState::kStale && !in_flight_ && !in_backoff)
        background = start_fetch(transport, true);
      lock.unlock();
      transport.post(
          [done = std::move(done), token = std::move(token)]() mutable { done(std::move(token)); });
      if (background) transport.post([background] { background->begin(); });
      return Handle();
    }
    if (in_backoff && !in_flight_) {
      Status failure = last_failure_;
      lock.unlock();
      transport.post([done = std::move(done), failure = std::move(failure)] { done(failure); });
      return Handle();
    }
  }
  auto waiter = std::make_shared<Waiter>(shared_from_this(), transport.executor(), std::move(done));
  std::shared_ptr<Fetch> started;
  if (!in_flight_) started = start_fetch(transport, false);
  in_flight_->waiters.push_back(waiter);
  waiter->fetch = in_flight_.get();
  // A waiter on another driver than the fetch's is unknown to its own
  // driver: a timer there (its deadline, or a guard) tells it when that
  // driver is destroyed, so that it still completes exactly once.
  const bool foreign = in_flight_->executor != waiter->executor();
  lock.unlock();
  if (started) transport.post([started] { started->begin(); });
  if (options.timeout.count() > 0 || foreign) {
    auto timeout = bounded_wait(options.timeout, std::chrono::milliseconds(0));
    auto wait = timeout.count() > 0 ? std::chrono::nanoseconds(timeout) : kGuardDelay;
    auto on_timer = [weak = std::weak_ptr<Waiter>(waiter), ms = timeout.count()](Status fired) {
      auto w = weak.lock();
      if (!w) return;
      if (fired.ok()) {
        w->withdraw(
            Status(StatusCode::kTimeout, "gave up waiting for a token after " + std::to_string(ms) + " ms")
                .with_retryable(true));
      } else {
        // Cancelled: the waiter finished (then this does nothing), or its
        // driver is being destroyed.
        w->withdraw(Status(StatusCode::kCancelled, "the driver was destroyed while waiting for a token"));
      }
    };
    waiter->set_deadline(transport.run_after(wait, std::move(on_timer)));
  }
  return Handle(waiter);
}

void TokenCache::withdraw_waiter(Waiter& waiter, const Status& why) {
  std::shared_ptr<Fetch> abandoned;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (Fetch* fetch = waiter.fetch) {
      auto& list = fetch->waiters;
      list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& w) { return w.get() == &waiter; }),
                 list.end());
      waiter.fetch = nullptr;
      if (list.empty() && !fetch->background && in_flight_.get() == fetch) {
        if (stored_.refresh_token_rotated) {
          // This server rotates refresh tokens: the request may already have
          // used the current one, and only its answer holds the next. Let it
          // finish for the cache alone.
          fetch->background = true;
        } else {
          // Nobody waits any more: abandon it.
          abandoned = std::move(in_flight_);
        }
      }
    }
  }
  if (abandoned) abandoned->abort();
  waiter.finish(why);
}

void TokenCache::finish_fetch(Fetch& fetch, StatusOr<TokenGrant> result) {
  std::vector<std::shared_ptr<Waiter>> waiters;
  std::optional<TokenUpdate> update;
  StatusOr<std::string> outcome = result.status();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = clock_.now();
    if (result.ok()) {
      const bool rotated = publish(*result, now);
      last_failure_ = Status();
      retry_not_before_.reset();
      backoff_ = std::chrono::milliseconds(0);
      outcome = result->access_token;
      if (listener_) {
        update = TokenUpdate{result->access_token, stored_.expiry,
                             rotated ? stored_.refresh_token : std::optional<std::string>()};
      }
    } else if (result.status().code() != StatusCode::kCancelled) {
      // Every failure backs off (doubling while they go on), so that neither
      // a broken endpoint nor a revoked token turns demand into a request
      // storm; the next demand after it tries again.
      last_failure_ = result.status();
      backoff_ = std::clamp(backoff_ * 2, backoff_policy_.first, backoff_policy_.max);
      retry_not_before_ = now + backoff_;
    }
    waiters.swap(fetch.waiters);
    for (auto& w : waiters) w->fetch = nullptr;
    if (in_flight_.get() == &fetch) in_flight_.reset();
  }
  if (update) invoke_user_code(listener_, *update);
  for (auto& w : waiters) {
    if (w->executor() == fetch.executor) {
      w->finish(outcome);
    } else {
      // Dropped if that driver is gone: its guard timer completed the waiter.
      w->executor()->post([w, outcome] { w->finish(outcome); });
    }
  }
}

}  // namespace gauth::detail
