#include <gauth/default_credentials.hpp>

#include "ascii.hpp"
#include "json.hpp"
#include "log.hpp"
#include "text_file.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

namespace gauth {

namespace {

constexpr char kNotFound[] =
    "Your default credentials were not found. To set up Application Default Credentials, see "
    "https://cloud.google.com/docs/authentication/external/set-up-adc for more information.";
constexpr char kCloudSdkWithoutQuotaProject[] =
    "Your application has authenticated using end user credentials from Google Cloud SDK without a quota "
    "project. You might receive a \"quota exceeded\" or \"API not enabled\" error. See the following "
    "page for troubleshooting: https://cloud.google.com/docs/authentication/adc-troubleshooting/user-creds. ";
// The types Python google-auth knows; gauth loads the first.
constexpr const char* kKnownTypes[] = {"authorized_user",
                                       "service_account",
                                       "external_account",
                                       "external_account_authorized_user",
                                       "impersonated_service_account",
                                       "gdch_service_account"};

/// An environment variable; empty counts as unset.
std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string home_directory() {
  if (auto home = environment("HOME")) return *home;
  // getpwuid_r, not getpwuid: this may run on several threads at once.
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? std::size_t(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  while (::getpwuid_r(::getuid(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
         buffer.size() < (1u << 20)) {
    buffer.resize(buffer.size() * 2);
  }
  return found != nullptr && found->pw_dir != nullptr ? found->pw_dir : "";
}

/// Loads `path`; `source` is what get_cred_info() reports.
StatusOr<std::shared_ptr<const oauth2::Credentials>> load_file(const std::string& path,
                                                               const std::string& source,
                                                               DefaultCredentialsOptions options) {
  auto text = detail::read_text_file(path);
  if (!text.ok()) return text.status();
  auto info = detail::parse_json(*text, "it");  // quoted below, after the file's name
  if (!info.ok() || !info->IsObject()) {
    std::string why = info.ok() ? "it is not a JSON object" : info.status().message();
    return Status(StatusCode::kInvalidArgument, "File " + path + " is not a valid json file (" + why + ").");
  }
  std::string type = detail::string_member(*info, "type").value_or("");
  if (type != "authorized_user") {
    if (std::find(std::begin(kKnownTypes), std::end(kKnownTypes), type) != std::end(kKnownTypes)) {
      return Status(StatusCode::kInvalidArgument,
                    "The file " + path + " holds credentials of type " + type +
                        ", which gauth does not support. Supported types: authorized_user. For user "
                        "credentials, run `gcloud auth application-default login`.");
    }
    return Status(StatusCode::kInvalidArgument,
                  "The file " + path + " does not have a valid type. Type is " +
                      (type.empty() ? std::string("missing") : detail::printable_excerpt(type, 64)) +
                      ", expected one of: authorized_user.");
  }
  options.options.credential_source(source);
  auto loaded = oauth2::Credentials::from_authorized_user_info(*text, std::move(options.scopes),
                                                               std::move(options.options));
  if (!loaded.ok()) {
    return Status(loaded.status().code(), "Failed to load authorized user credentials from " + path + ": " +
                                              loaded.status().message());
  }
  std::shared_ptr<const oauth2::Credentials> credentials = *loaded;
  if (options.quota_project_id && !options.quota_project_id->empty()) {
    credentials = credentials->with_quota_project(options.quota_project_id);
  } else if (auto from_environment = environment("GOOGLE_CLOUD_QUOTA_PROJECT")) {
    credentials = credentials->with_quota_project(from_environment);
  }
  if (!credentials->quota_project_id() && credentials->client_id() == std::string(kCloudSdkClientId)) {
    detail::log(LogLevel::kWarning, kCloudSdkWithoutQuotaProject);
  }
  return credentials;
}

}  // namespace

std::string cloud_sdk_application_default_credentials_path() {
  std::string config = environment("CLOUDSDK_CONFIG").value_or(home_directory() + "/.config/gcloud");
  return config + "/application_default_credentials.json";
}

StatusOr<std::shared_ptr<const oauth2::Credentials>> load_credentials_from_file(
    const std::string& path, DefaultCredentialsOptions options) {
  return load_file(path, path, std::move(options));
}

StatusOr<std::shared_ptr<const oauth2::Credentials>> load_default_credentials(
    DefaultCredentialsOptions options) {
  if (auto explicit_path = environment("GOOGLE_APPLICATION_CREDENTIALS")) {
    return load_file(*explicit_path,
                     *explicit_path + " file via the GOOGLE_APPLICATION_CREDENTIALS environment variable",
                     std::move(options));
  }
  std::string gcloud_path = cloud_sdk_application_default_credentials_path();
  auto loaded = load_file(gcloud_path, gcloud_path, std::move(options));
  if (loaded.ok() || loaded.status().code() != StatusCode::kNotFound) return loaded;
  return Status(StatusCode::kNotFound, kNotFound);
}

}  // namespace gauth
