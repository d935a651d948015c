// gauth: the token source of oauth2::Credentials: the refresh-token grant with
// Python's retry policy (on timers), or the application's refresh handler.
#ifndef GAUTH_LIB_OAUTH2_REFRESH_GRANT_HPP
#define GAUTH_LIB_OAUTH2_REFRESH_GRANT_HPP

#include "../private.hpp"

#include "config.hpp"

#include <chrono>
#include <memory>

namespace gauth::oauth2::detail {

/// Python's ExponentialBackoff as the refresh uses it: 3 attempts in all,
/// waiting about 1 s then about 2 s (±10 %), never past the deadline.
struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds initial_wait{1000};
  double multiplier = 2.0;
  double jitter = 0.1;
};

/// Owns the configuration of oauth2::Credentials (one allocation for both).
class RefreshGrantSource final : public gauth::detail::TokenSource,
                                 public std::enable_shared_from_this<RefreshGrantSource> {
 public:
  explicit RefreshGrantSource(UserCredentialsConfig config, RetryPolicy policy = {})
      : config_(std::move(config)), policy_(policy) {}

  const UserCredentialsConfig& config() const noexcept { return config_; }

  Handle fetch(Transport& transport, const gauth::detail::FetchInput& input, Done done) const override;

 private:
  Handle fetch_from_handler(Transport& transport, Done done) const;

  const UserCredentialsConfig config_;
  const RetryPolicy policy_;
};

}  // namespace gauth::oauth2::detail

#endif  // GAUTH_LIB_OAUTH2_REFRESH_GRANT_HPP
