// gauth: the Credentials base class: token state, applying tokens, refreshing them.
#ifndef GAUTH_CREDENTIALS_HPP
#define GAUTH_CREDENTIALS_HPP

#include <gauth/clock.hpp>
#include <gauth/export.hpp>
#include <gauth/http.hpp>
#include <gauth/status.hpp>
#include <gauth/transport.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gauth {

namespace detail {
class TokenCache;
}  // namespace detail

/// How usable the current access token is.
enum class TokenState {
  /// Usable, and not within the refresh threshold of its expiry (or it never expires).
  kFresh,
  /// Still usable, but within the refresh threshold: time to refresh in the background.
  kStale,
  /// No token, or past its expiry: a refresh is needed before use.
  kInvalid,
};

/// "FRESH", "STALE" or "INVALID". \context Thread-safe.
GAUTH_EXPORT const char* to_string(TokenState state) noexcept;

/// How long before its expiry a token counts as expired (Python google-auth's
/// REFRESH_THRESHOLD, 3 min 45 s).
inline constexpr std::chrono::seconds kRefreshThreshold{225};

/// What one caller is willing to wait for.
struct WaitOptions {
  /// Give up after this long with kTimeout (at most a year); zero (or less)
  /// waits as long as the shared refresh takes (it has its own deadline). The
  /// shared refresh goes on for the other waiters.
  std::chrono::milliseconds timeout{0};
};

/// A token obtained by a successful refresh, as told to a token listener.
/// It holds secrets: persist it, never log it.
struct TokenUpdate {
  std::string token;
  std::optional<Clock::WallTime> expiry;
  /// Set only when the server rotated the refresh token.
  std::optional<std::string> rotated_refresh_token;
};

/// Called on the loop thread after every successful refresh, before the
/// waiters complete; lets an application persist a rotated refresh token.
using TokenListener = std::function<void(const TokenUpdate& update)>;

/// Base of every credential: a source of access tokens for the
/// `authorization` header.
///
/// Objects are immutable and shared as `std::shared_ptr<const ...>`; the
/// token state lives in an internally synchronised token cache, shared by
/// copies that differ only in quota project. Every method is thread-safe.
/// Callbacks run exactly once, on the loop thread of the Transport given to
/// the call, never inline, and never with a gauth lock held.
class GAUTH_EXPORT Credentials {
 public:
  using Callback = std::function<void(Status status)>;
  using HeadersCallback = std::function<void(StatusOr<Headers> headers)>;

  virtual ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  /// The current access token, if any. It is a secret. \context Thread-safe.
  std::optional<std::string> token() const;
  /// When the current token expires (none: it never does). \context Thread-safe.
  std::optional<Clock::WallTime> expiry() const;
  /// True from kRefreshThreshold before the expiry on (false without expiry).
  /// \context Thread-safe.
  bool expired() const;
  /// A token is present and not expired. \context Thread-safe.
  bool valid() const;
  /// kFresh, kStale or kInvalid, as Python google-auth defines them.
  /// \context Thread-safe.
  TokenState token_state() const;
  /// The project billed for requests (`x-goog-user-project`), if any.
  /// \context Thread-safe.
  const std::optional<std::string>& quota_project_id() const noexcept { return quota_project_id_; }

  /// Sets `authorization: Bearer <token>` (the override when non-empty, else
  /// the current token) and `x-goog-user-project` when a quota project is set.
  /// Fails with kInvalidArgument when there is no token to apply.
  /// \context Thread-safe.
  Status apply(Headers& headers, std::optional<std::string_view> token_override = std::nullopt) const;

  /// The synchronous fast path: when the token is kFresh, applies it as
  /// apply() does and returns true, without a lock, a callback or any
  /// allocation beyond the header strings. Returns false, touching nothing,
  /// when a refresh is needed (then call before_request).
  /// \context Thread-safe, lock-free.
  bool try_apply(Headers& headers) const;

  /// Obtains a new token, whatever the state of the current one. Joins the
  /// refresh already in flight, if any (single flight).
  /// \context Thread-safe. `done` runs exactly once on `transport`'s loop
  /// thread: OK once the new token is in place, or the error (the current
  /// token, if still usable, is kept).
  Handle refresh(Transport& transport, Callback done, WaitOptions options = {}) const;

  /// Prepares `headers` for a request: kFresh → the token is applied; kStale
  /// → the token is applied and one background refresh starts; kInvalid →
  /// waits for the (single, shared) refresh, then applies the new token.
  /// `method` and `url` are not used by user credentials.
  /// \context Thread-safe. `done` runs exactly once on `transport`'s loop
  /// thread, with the headers or the error.
  Handle before_request(Transport& transport, std::string_view method, std::string_view url, Headers headers,
                        HeadersCallback done, WaitOptions options = {}) const;

  /// A copy billed to another project; it shares this object's token cache.
  /// \context Thread-safe.
  std::shared_ptr<const Credentials> with_quota_project(std::optional<std::string> quota_project_id) const {
    return with_quota_project_impl(std::move(quota_project_id));
  }

 protected:
  Credentials(std::shared_ptr<detail::TokenCache> cache,
              std::optional<std::string> quota_project_id) noexcept;
  const std::shared_ptr<detail::TokenCache>& cache() const noexcept { return cache_; }

 private:
  virtual std::shared_ptr<const Credentials> with_quota_project_impl(
      std::optional<std::string> quota_project_id) const = 0;
  /// The `x-goog-api-client` usage metric before_request adds ("cred-type/u"
  /// for user credentials), or nullptr for none.
  virtual const char* usage_metric() const noexcept { return nullptr; }

  std::shared_ptr<detail::TokenCache> cache_;
  std::optional<std::string> quota_project_id_;
};

}  // namespace gauth

#endif  // GAUTH_CREDENTIALS_HPP
