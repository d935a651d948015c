// gauth: the immutable configuration of oauth2::Credentials.
#ifndef GAUTH_LIB_OAUTH2_CONFIG_HPP
#define GAUTH_LIB_OAUTH2_CONFIG_HPP

#include "../private.hpp"

#include <gauth/oauth2/credentials.hpp>

#include "../token_cache.hpp"

namespace gauth::oauth2::detail {

/// Everything about user credentials that never changes once built. The
/// token state (token, expiry, refresh/id/rapt tokens, granted scopes) lives
/// in the token cache instead.
struct UserCredentialsConfig {
  /// Fields most credentials leave empty, kept apart (and shared by copies)
  /// so that an ordinary credential does not pay for them: 100,000 of them
  /// must fit in well under 150 MB.
  struct Extras {
    std::string account;
    std::optional<std::string> trust_boundary;
    RefreshHandler refresh_handler;
    std::optional<std::string> credential_source;
    TokenListener token_listener;
  };

  std::optional<std::string> token_uri;
  std::optional<std::string> client_id;
  std::optional<std::string> client_secret;
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::vector<std::string>> default_scopes;
  std::string universe_domain = kDefaultUniverseDomain;
  std::chrono::milliseconds refresh_timeout{30'000};
  const Clock* clock = &Clock::system();

  /// The extras (empty ones when none were set).
  const Extras& extras() const noexcept;
  /// The extras to change: a private copy, made on first write.
  Extras& extras_for_writing();

  /// The scopes a refresh asks for: scopes, else default_scopes (Python's sync refresh).
  const std::vector<std::string>& requested_scopes() const noexcept;

 private:
  std::shared_ptr<const Extras> extras_;
};

/// What a Builder collects: the configuration, and where the token cache and
/// the quota project start.
struct BuilderState {
  UserCredentialsConfig config;
  gauth::detail::TokenStateValues initial;
  std::optional<std::string> quota_project_id;
};

}  // namespace gauth::oauth2::detail

#endif  // GAUTH_LIB_OAUTH2_CONFIG_HPP
