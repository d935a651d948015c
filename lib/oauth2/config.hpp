// gauth: the immutable configuration of oauth2::Credentials.
#ifndef GAUTH_LIB_OAUTH2_CONFIG_HPP
#define GAUTH_LIB_OAUTH2_CONFIG_HPP

#include "../private.hpp"

#include <gauth/oauth2/credentials.hpp>

#include "../token_cache.hpp"

namespace gauth::oauth2::detail {

/// Everything about user credentials that never changes once built. The
/// token state (token, expiry, refresh/id/rapt tokens, granted scopes) is
/// kept apart, in the token cache; `initial` is only what the builder was
/// given for it.
struct UserCredentialsConfig {
  std::optional<std::string> token_uri;
  std::optional<std::string> client_id;
  std::optional<std::string> client_secret;
  std::optional<std::vector<std::string>> scopes;
  std::optional<std::vector<std::string>> default_scopes;
  std::string universe_domain = kDefaultUniverseDomain;
  std::string account;
  std::optional<std::string> trust_boundary;
  RefreshHandler refresh_handler;
  std::optional<std::string> credential_source;
  std::chrono::milliseconds refresh_timeout{30'000};
  TokenListener token_listener;
  const Clock* clock = &Clock::system();

  // Builder-only: where the token cache starts.
  gauth::detail::TokenStateValues initial;
  std::optional<std::string> quota_project_id;

  /// The scopes a refresh asks for: scopes, else default_scopes (Python's sync refresh).
  const std::vector<std::string>& requested_scopes() const;
};

}  // namespace gauth::oauth2::detail

#endif  // GAUTH_LIB_OAUTH2_CONFIG_HPP
