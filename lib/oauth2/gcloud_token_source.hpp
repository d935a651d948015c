// gauth: the token source of UserAccessTokenCredentials: one gcloud child per fetch.
#ifndef GAUTH_LIB_OAUTH2_GCLOUD_TOKEN_SOURCE_HPP
#define GAUTH_LIB_OAUTH2_GCLOUD_TOKEN_SOURCE_HPP

#include "../private.hpp"

#include "../token_source.hpp"

#include <gauth/oauth2/user_access_token_credentials.hpp>

#include <string>
#include <vector>

namespace gauth::oauth2::detail {

/// The arguments after the executable: Python's
/// ("auth", "print-access-token"[, "--account=<A>"]).
std::vector<std::string> gcloud_arguments(const std::optional<std::string>& account);

/// What gcloud's stdout says, as a token or as the reason it is not one.
/// Surrounding white space is removed; what is left must be one printable
/// word (an access token never holds spaces or control characters).
StatusOr<std::string> token_from_gcloud_output(std::string_view output);

/// Runs gcloud for each fetch; owns the configuration of its credentials.
class GcloudTokenSource final : public gauth::detail::TokenSource {
 public:
  GcloudTokenSource(std::optional<std::string> account, UserAccessTokenOptions options)
      : account_(std::move(account)), options_(std::move(options)) {}

  const std::optional<std::string>& account() const noexcept { return account_; }
  const UserAccessTokenOptions& options() const noexcept { return options_; }

  Handle fetch(Transport& transport, const gauth::detail::FetchInput& input, Done done) const override;
  bool always_fetch() const noexcept override { return !options_.cache_lifetime; }

 private:
  const std::optional<std::string> account_;
  const UserAccessTokenOptions options_;
};

}  // namespace gauth::oauth2::detail

#endif  // GAUTH_LIB_OAUTH2_GCLOUD_TOKEN_SOURCE_HPP
