// gauth: where a token cache gets new tokens from (a token endpoint, gcloud, ...).
#ifndef GAUTH_LIB_TOKEN_SOURCE_HPP
#define GAUTH_LIB_TOKEN_SOURCE_HPP

#include "private.hpp"

#include <gauth/clock.hpp>
#include <gauth/status.hpp>
#include <gauth/transport.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gauth::detail {

/// A newly obtained token and what came with it.
struct TokenGrant {
  std::string access_token;
  /// Relative lifetime (the token endpoint's expires_in), or...
  std::optional<std::chrono::nanoseconds> lifetime;
  /// ...an absolute expiry (a refresh handler's). Neither: it never expires.
  std::optional<Clock::WallTime> expiry;
  /// A rotated refresh token, when the server sent one.
  std::optional<std::string> refresh_token;
  /// With replace_id_token, becomes the stored id token (Python keeps only
  /// the latest token endpoint answer's, and a missing one clears it).
  std::optional<std::string> id_token;
  bool replace_id_token = false;
  /// The scopes the server granted, when it said.
  std::optional<std::vector<std::string>> granted_scopes;
  /// The rapt token to keep (the one sent, unless reauthentication gave a new one).
  std::optional<std::string> rapt_token;
};

/// The mutable inputs of one fetch, read from the cache when it starts.
struct FetchInput {
  std::optional<std::string> refresh_token;
  std::optional<std::string> rapt_token;
  /// The server rotated the refresh token before: use a fresh connection, so
  /// that libcurl never silently replays the POST on a reused one.
  bool refresh_token_rotated = false;
};

/// Obtains tokens for a TokenCache. Immutable; shared by the caches of
/// credentials copies that keep the same configuration.
class TokenSource {
 public:
  using Done = std::function<void(StatusOr<TokenGrant> grant)>;

  virtual ~TokenSource() = default;

  /// Starts obtaining a token. Called on `transport`'s loop thread; `done`
  /// runs exactly once on it, never inline; cancelling the handle ends the
  /// fetch with kCancelled.
  virtual Handle fetch(Transport& transport, const FetchInput& input, Done done) const = 0;

  /// True when every request must get a new token (gcloud without a cache
  /// lifetime, as Python does), whatever the state of the current one.
  virtual bool always_fetch() const noexcept { return false; }
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_TOKEN_SOURCE_HPP
