// gauth: Application Default Credentials discovery (user credentials).
#ifndef GAUTH_DEFAULT_CREDENTIALS_HPP
#define GAUTH_DEFAULT_CREDENTIALS_HPP

#include <gauth/credentials.hpp>
#include <gauth/export.hpp>
#include <gauth/oauth2/credentials.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gauth {

/// The OAuth client id of the Google Cloud SDK (gcloud's own credentials).
inline constexpr char kCloudSdkClientId[] =
    "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com";

/// Options of default-credentials discovery.
struct DefaultCredentialsOptions {
  /// Bills requests to this project; when unset (or empty, as in Python),
  /// GOOGLE_CLOUD_QUOTA_PROJECT (if set and not empty), else the file's
  /// quota_project_id.
  std::optional<std::string> quota_project_id;
  /// Scopes the loaded user credentials request when they refresh (winning
  /// over the file's). Python's default() drops scopes for user credentials,
  /// so they refresh without any; gauth requests them when given.
  std::optional<std::vector<std::string>> scopes;
  /// Builder options (clock, token listener, refresh timeout) for the loaded
  /// credentials; their fields are overwritten by the file's.
  oauth2::Credentials::Builder options;
};

/// Finds and loads Application Default Credentials, as Python google-auth's
/// `google.auth.default()` does for user credentials:
///
/// 1. the file named by GOOGLE_APPLICATION_CREDENTIALS (an empty value counts
///    as unset);
/// 2. `$CLOUDSDK_CONFIG/application_default_credentials.json`, or
///    `~/.config/gcloud/application_default_credentials.json`.
///
/// A file of type `authorized_user` gives oauth2::Credentials (recording in
/// get_cred_info() where it came from); every other type is refused by name.
/// Nothing found: kNotFound, with Python's guidance. Without a quota project,
/// credentials of the Cloud SDK's own client log Python's warning.
/// Never throws. \context Thread-safe (reads the environment).
GAUTH_EXPORT StatusOr<std::shared_ptr<const oauth2::Credentials>> load_default_credentials(
    DefaultCredentialsOptions options = {});

/// Loads one credentials file with the same type dispatch and messages.
/// \context Thread-safe.
GAUTH_EXPORT StatusOr<std::shared_ptr<const oauth2::Credentials>> load_credentials_from_file(
    const std::string& path, DefaultCredentialsOptions options = {});

/// Where gcloud keeps Application Default Credentials:
/// `$CLOUDSDK_CONFIG/application_default_credentials.json` or
/// `$HOME/.config/gcloud/application_default_credentials.json`.
/// \context Thread-safe.
GAUTH_EXPORT std::string cloud_sdk_application_default_credentials_path();

}  // namespace gauth

#endif  // GAUTH_DEFAULT_CREDENTIALS_HPP
