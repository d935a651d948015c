// gauth: UserAccessTokenCredentials, access tokens from `gcloud auth print-access-token`.
#ifndef GAUTH_OAUTH2_USER_ACCESS_TOKEN_CREDENTIALS_HPP
#define GAUTH_OAUTH2_USER_ACCESS_TOKEN_CREDENTIALS_HPP

#include <gauth/credentials.hpp>
#include <gauth/export.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace gauth::oauth2 {

/// How UserAccessTokenCredentials runs gcloud.
struct UserAccessTokenOptions {
  /// The gcloud executable: a path, or a name looked up on PATH.
  std::string gcloud = "gcloud";
  /// How long one run may take; then the child is killed. Taken to be at
  /// least 1 ms and at most a year.
  std::chrono::milliseconds timeout{30'000};
  /// How long an obtained token is served before gcloud runs again. None (the
  /// default, as in Python): every before_request runs gcloud (concurrent
  /// callers share one run). With a lifetime, the token is fresh for that
  /// long, then served for up to kRefreshThreshold more while one background
  /// run replaces it, so keep it under the token's real lifetime (about an
  /// hour) minus four minutes. Taken to be at most a year.
  std::optional<std::chrono::seconds> cache_lifetime;
  /// gcloud's output beyond this is an error.
  std::size_t max_output_bytes = 64 * 1024;
  /// Told about every new token (see TokenListener).
  TokenListener token_listener;
  /// The clocks to follow (default Clock::system()); must outlive the
  /// credentials and every operation started on them.
  const Clock* clock = nullptr;
};

namespace detail {
class GcloudTokenSource;
}  // namespace detail

/// Access tokens from the Google Cloud SDK: `gcloud auth print-access-token`
/// (with `--account=<A>` when an account is set), run as a child process
/// whose pipes the driver's loop reads, never blocking it. The C++
/// counterpart of Python google-auth's deprecated
/// `google.oauth2.credentials.UserAccessTokenCredentials`; prefer
/// oauth2::Credentials with `gcloud auth application-default login`.
///
/// The child inherits the environment (so CLOUDSDK_CONFIG applies) and gets
/// stdin from /dev/null. Its stdout, trimmed, is the token; its stderr is kept
/// apart and only shown, trimmed and cut short, when gcloud fails. Errors are
/// kUserAccessTokenError with a message starting "Failed to obtain access
/// token". A run that times out, or whose driver is destroyed, is killed and
/// reaped; the host's SIGCHLD handling is not touched.
///
/// Immutable and thread-safe, like every gauth::Credentials.
class GAUTH_EXPORT UserAccessTokenCredentials final : public gauth::Credentials {
 public:
  /// Logs Python's deprecation warning, adapted to gauth.
  /// \context Thread-safe.
  static std::shared_ptr<const UserAccessTokenCredentials> create(
      std::optional<std::string> account = std::nullopt,
      std::optional<std::string> quota_project_id = std::nullopt, UserAccessTokenOptions options = {});

  /// The account passed to gcloud, if any. \context Thread-safe.
  const std::optional<std::string>& account() const noexcept;
  /// \context Thread-safe.
  const UserAccessTokenOptions& options() const noexcept;

  /// A copy for another account (with a token cache of its own).
  /// \context Thread-safe.
  std::shared_ptr<const UserAccessTokenCredentials> with_account(std::optional<std::string> account) const;
  /// A copy billed to another project; it shares this object's token cache.
  /// \context Thread-safe.
  std::shared_ptr<const UserAccessTokenCredentials> with_quota_project(
      std::optional<std::string> quota_project_id) const;

  /// Not for direct use: see create().
  struct Private;
  UserAccessTokenCredentials(const Private&, std::shared_ptr<const detail::GcloudTokenSource> source,
                             std::shared_ptr<gauth::detail::TokenCache> cache,
                             std::optional<std::string> quota_project_id);
  ~UserAccessTokenCredentials() override;

 private:
  std::shared_ptr<const gauth::Credentials> with_quota_project_impl(
      std::optional<std::string> quota_project_id) const override;

  std::shared_ptr<const detail::GcloudTokenSource> source_;
};

}  // namespace gauth::oauth2

#endif  // GAUTH_OAUTH2_USER_ACCESS_TOKEN_CREDENTIALS_HPP
