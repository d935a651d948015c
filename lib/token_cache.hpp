// gauth: the token state machine of one credential (and its quota-project copies):
// single-flight refresh, stale-while-revalidate, per-waiter cancellation and deadlines.
#ifndef GAUTH_LIB_TOKEN_CACHE_HPP
#define GAUTH_LIB_TOKEN_CACHE_HPP

#include "private.hpp"

#include "published_token.hpp"
#include "token_source.hpp"

#include <gauth/credentials.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gauth::detail {

class Fetch;
class Waiter;

/// The mutable token state, as a plain value (for snapshots and for starting
/// a copy's cache from the current state).
struct TokenStateValues {
  std::optional<std::string> token;
  std::optional<Clock::WallTime> expiry;
  std::optional<std::string> refresh_token;
  std::optional<std::string> id_token;
  std::optional<std::string> rapt_token;
  std::optional<std::vector<std::string>> granted_scopes;
  bool refresh_token_rotated = false;
};

/// Backoff after failed refreshes: a demand for a new token that finds the
/// cache in backoff gets the last error at once instead of sending another
/// request (refresh() always tries).
struct FailureBackoff {
  std::chrono::milliseconds first{1000};
  std::chrono::milliseconds max{60'000};
};

/// Owns the token of one credential. Thread-safe: state behind a mutex, the
/// fresh token also published lock-free for try_apply. At most one Fetch is
/// in flight; every demand that needs a token while it runs waits for it.
class TokenCache : public std::enable_shared_from_this<TokenCache> {
 public:
  using TokenCallback = std::function<void(StatusOr<std::string> token)>;

  enum class Demand {
    kUse,      // before_request: a usable token, refreshing as needed
    kRefresh,  // refresh(): a new token, whatever the state of the current one
  };

  TokenCache(std::shared_ptr<const TokenSource> source, const Clock& clock, TokenStateValues initial,
             TokenListener listener, FailureBackoff backoff = {});
  ~TokenCache();

  TokenStateValues values() const;
  /// values().token and values().expiry, without copying the rest.
  std::optional<std::string> token() const;
  std::optional<Clock::WallTime> expiry() const;
  TokenState state() const;
  bool expired() const;
  const TokenSource& source() const noexcept { return *source_; }

  /// The lock-free read of a fresh token, appended to `out`.
  bool read_fresh_token(std::string& out) const;

  /// Asks for a token. `done` runs exactly once on `transport`'s loop thread,
  /// never inline, with the token or the error.
  Handle demand(Transport& transport, Demand demand, WaitOptions options, TokenCallback done);

  // Used by Fetch and Waiter (loop threads).
  FetchInput fetch_input() const;
  void finish_fetch(Fetch& fetch, StatusOr<TokenGrant> result);
  void withdraw_waiter(Waiter& waiter, const Status& why);

 private:
  TokenState state_at(Clock::SteadyTime now) const;  // mutex held
  /// Stores a grant; returns whether it rotated the refresh token. Mutex held.
  bool publish(const TokenGrant& grant, Clock::SteadyTime now);
  /// Publishes `token` for the fast path with the current expiry. Mutex held.
  void publish_token(std::string_view token);
  std::shared_ptr<Fetch> start_fetch(Transport& transport, bool background);  // mutex held

  const std::shared_ptr<const TokenSource> source_;
  const Clock& clock_;
  const TokenListener listener_;
  const FailureBackoff backoff_policy_;

  /// The token values other than the token itself; the rarely set ones are
  /// boxed, so that a cache of 100,000 credentials stays small.
  struct Stored {
    struct Extras {
      std::optional<std::string> id_token;
      std::optional<std::string> rapt_token;
      std::optional<std::vector<std::string>> granted_scopes;
    };
    std::optional<Clock::WallTime> expiry;
    std::optional<std::string> refresh_token;
    bool refresh_token_rotated = false;
    std::unique_ptr<Extras> extras;
    Extras& extras_for_writing() {
      if (!extras) extras = std::make_unique<Extras>();
      return *extras;
    }
  };

  mutable std::mutex mutex_;
  Stored stored_;
  std::optional<Clock::SteadyTime> expiry_steady_;  // the expiry on the monotonic clock
  std::shared_ptr<Fetch> in_flight_;
  Status last_failure_;
  std::optional<Clock::SteadyTime> retry_not_before_;
  std::chrono::milliseconds backoff_{0};
  PublishedToken published_;  // the token itself lives here, and only here
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_TOKEN_CACHE_HPP
