#include <gauth/oauth2/user_access_token_credentials.hpp>

#include "../log.hpp"
#include "../token_cache.hpp"
#include "gcloud_token_source.hpp"

namespace gauth::oauth2 {

using detail::GcloudTokenSource;

struct UserAccessTokenCredentials::Private {};

namespace {

constexpr char kDeprecation[] =
    "UserAccessTokenCredentials is deprecated, please use gauth::oauth2::Credentials instead. To use that "
    "credential type, simply run `gcloud auth application-default login` and let the client libraries "
    "pick up the application default credentials.";

}  // namespace

std::shared_ptr<const UserAccessTokenCredentials> UserAccessTokenCredentials::create(
    std::optional<std::string> account, std::optional<std::string> quota_project_id,
    UserAccessTokenOptions options) {
  gauth::detail::log(LogLevel::kWarning, kDeprecation);  // as Python warns on every construction
  if (!options.clock) options.clock = &Clock::system();
  auto source = std::make_shared<const GcloudTokenSource>(std::move(account), std::move(options));
  auto cache = std::make_shared<gauth::detail::TokenCache>(
      source, *source->options().clock, gauth::detail::TokenStateValues{}, source->options().token_listener);
  return std::make_shared<const UserAccessTokenCredentials>(Private{}, std::move(source), std::move(cache),
                                                            std::move(quota_project_id));
}

UserAccessTokenCredentials::UserAccessTokenCredentials(const Private&,
                                                       std::shared_ptr<const GcloudTokenSource> source,
                                                       std::shared_ptr<gauth::detail::TokenCache> cache,
                                                       std::optional<std::string> quota_project_id)
    : gauth::Credentials(std::move(cache), std::move(quota_project_id)), source_(std::move(source)) {}

UserAccessTokenCredentials::~UserAccessTokenCredentials() = default;

const std::optional<std::string>& UserAccessTokenCredentials::account() const noexcept {
  return source_->account();
}

const UserAccessTokenOptions& UserAccessTokenCredentials::options() const noexcept {
  return source_->options();
}

std::shared_ptr<const UserAccessTokenCredentials> UserAccessTokenCredentials::with_account(
    std::optional<std::string> account) const {
  return create(std::move(account), quota_project_id(), source_->options());
}

std::shared_ptr<const UserAccessTokenCredentials> UserAccessTokenCredentials::with_quota_project(
    std::optional<std::string> quota_project_id) const {
  gauth::detail::log(LogLevel::kWarning, kDeprecation);
  return std::make_shared<const UserAccessTokenCredentials>(Private{}, source_, cache(),
                                                            std::move(quota_project_id));
}

std::shared_ptr<const gauth::Credentials> UserAccessTokenCredentials::with_quota_project_impl(
    std::optional<std::string> quota_project_id) const {
  return with_quota_project(std::move(quota_project_id));
}

}  // namespace gauth::oauth2
