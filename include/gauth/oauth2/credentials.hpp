// gauth: oauth2::Credentials, the authorized_user credential (a refresh token).
#ifndef GAUTH_OAUTH2_CREDENTIALS_HPP
#define GAUTH_OAUTH2_CREDENTIALS_HPP

#include <gauth/credentials.hpp>
#include <gauth/export.hpp>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gauth::oauth2 {

/// Google's token endpoint; always used by from_authorized_user_info.
inline constexpr char kGoogleTokenUri[] = "https://oauth2.googleapis.com/token";
/// The only universe domain in which user credentials can refresh.
inline constexpr char kDefaultUniverseDomain[] = "googleapis.com";

/// What a refresh handler supplies. A missing token or expiry is refused with
/// Python google-auth's messages.
struct RefreshHandlerResult {
  std::optional<std::string> token;
  std::optional<Clock::WallTime> expiry;
};

/// Supplies a token when the credentials have no refresh token. Called on the
/// loop thread of `transport` with the scopes to request; it must call `done`
/// exactly once, from any thread, at any time (gauth bounds the wait by the
/// refresh timeout).
using RefreshHandler = std::function<void(Transport& transport, const std::vector<std::string>& scopes,
                                          std::function<void(StatusOr<RefreshHandlerResult>)> done)>;

/// Where credentials loaded by Application Default Credentials came from.
struct CredentialInfo {
  std::string credential_source;
  std::string credential_type;           // "user credentials"
  std::optional<std::string> principal;  // the account, when known
};

namespace detail {
struct BuilderState;
struct UserCredentialsConfig;
class RefreshGrantSource;
}  // namespace detail

/// User credentials: an OAuth2 refresh token (an `authorized_user` JSON file,
/// as `gcloud auth application-default login` writes), exchanged for access
/// tokens at the token endpoint. The C++ counterpart of Python google-auth's
/// `google.oauth2.credentials.Credentials`, asynchronous and thread-safe.
///
/// Immutable: configuration never changes; the token, id token, rapt token,
/// granted scopes and (when the server rotates it) refresh token live in the
/// shared token cache. Every method is thread-safe.
class GAUTH_EXPORT Credentials final : public gauth::Credentials {
 public:
  /// Builds credentials field by field (Python's constructor).
  /// \context Reentrant: one builder must not be used by two threads at once;
  /// distinct builders may.
  class GAUTH_EXPORT Builder {
   public:
    Builder();
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;

    Builder& token(std::optional<std::string> token);
    Builder& expiry(std::optional<Clock::WallTime> expiry);
    Builder& refresh_token(std::optional<std::string> refresh_token);
    Builder& id_token(std::optional<std::string> id_token);
    Builder& token_uri(std::optional<std::string> token_uri);
    Builder& client_id(std::optional<std::string> client_id);
    Builder& client_secret(std::optional<std::string> client_secret);
    Builder& scopes(std::optional<std::vector<std::string>> scopes);
    Builder& default_scopes(std::optional<std::vector<std::string>> default_scopes);
    Builder& granted_scopes(std::optional<std::vector<std::string>> granted_scopes);
    Builder& quota_project_id(std::optional<std::string> quota_project_id);
    Builder& rapt_token(std::optional<std::string> rapt_token);
    Builder& refresh_handler(RefreshHandler handler);
    /// The raw JSON of a trust boundary; stored and copied, never sent (as Python).
    Builder& trust_boundary(std::optional<std::string> trust_boundary_json);
    /// Empty means "googleapis.com".
    Builder& universe_domain(std::string universe_domain);
    Builder& account(std::string account);
    /// Deadline of one refresh, all its attempts included (default 30 s);
    /// taken to be at least 1 ms and at most a year.
    Builder& refresh_timeout(std::chrono::milliseconds timeout);
    /// Told about every new token (see TokenListener).
    Builder& token_listener(TokenListener listener);
    /// The clocks to follow (default Clock::system()); must outlive the
    /// credentials and every operation started on them.
    Builder& clock(const Clock& clock);
    /// Recorded for get_cred_info() (set by Application Default Credentials).
    Builder& credential_source(std::optional<std::string> description);

    /// The credentials. \context Thread-safe (for distinct builders).
    std::shared_ptr<const Credentials> build() const;

   private:
    friend class Credentials;
    std::unique_ptr<detail::BuilderState> state_;
  };

  /// Loads an `authorized_user` JSON object (Python's from_authorized_user_info):
  /// refresh_token, client_id and client_secret are required; the token
  /// endpoint is always Google's; `scopes`, when given, wins over the file's.
  /// A missing expiry makes the token already expired.
  /// \context Thread-safe.
  static StatusOr<std::shared_ptr<const Credentials>> from_authorized_user_info(
      std::string_view json, std::optional<std::vector<std::string>> scopes = std::nullopt,
      Builder options = Builder());

  /// Reads and loads an `authorized_user` JSON file (at most 1 MiB).
  /// \context Thread-safe.
  static StatusOr<std::shared_ptr<const Credentials>> from_authorized_user_file(
      const std::string& path, std::optional<std::vector<std::string>> scopes = std::nullopt,
      Builder options = Builder());

  /// \name Configuration (immutable)
  /// \context Thread-safe.
  ///@{
  const std::optional<std::string>& token_uri() const noexcept;
  const std::optional<std::string>& client_id() const noexcept;
  /// A secret.
  const std::optional<std::string>& client_secret() const noexcept;
  const std::optional<std::vector<std::string>>& scopes() const noexcept;
  const std::optional<std::vector<std::string>>& default_scopes() const noexcept;
  const std::string& universe_domain() const noexcept;
  /// Empty when unknown.
  const std::string& account() const noexcept;
  const std::optional<std::string>& trust_boundary() const noexcept;
  const RefreshHandler& refresh_handler() const noexcept;
  /// Always false: user credentials never need scopes.
  bool requires_scopes() const noexcept { return false; }
  ///@}

  /// \name Token state (in the shared cache; these return copies)
  /// \context Thread-safe.
  ///@{
  /// The current refresh token: the server's rotated one, if it sent one. A secret.
  std::optional<std::string> refresh_token() const;
  /// The id token of the last refresh. A secret.
  std::optional<std::string> id_token() const;
  /// A secret.
  std::optional<std::string> rapt_token() const;
  std::optional<std::vector<std::string>> granted_scopes() const;
  ///@}

  /// \name Scopes, serialisation, copies
  /// \context Thread-safe.
  ///@{

  /// True when every scope in `scopes` is among the requested scopes (or the
  /// default scopes, when none were requested).
  bool has_scopes(const std::vector<std::string>& scopes) const;

  /// The credentials as `authorized_user` JSON, with Python's keys in Python's
  /// order (token, refresh_token, token_uri, client_id, client_secret, scopes,
  /// rapt_token, universe_domain, account, expiry), then quota_project_id and
  /// "type": "authorized_user", leaving out absent values and the keys in
  /// `strip`. It contains secrets unless they are stripped.
  std::string to_json(const std::vector<std::string>& strip = {}) const;

  /// Where the credentials came from, when loaded by Application Default Credentials.
  std::optional<CredentialInfo> get_cred_info() const;

  /// Copies with one field changed. with_quota_project shares this object's
  /// token cache; the others get their own, starting from the current token,
  /// expiry and refresh token.
  std::shared_ptr<const Credentials> with_quota_project(std::optional<std::string> quota_project_id) const;
  std::shared_ptr<const Credentials> with_token_uri(std::optional<std::string> token_uri) const;
  std::shared_ptr<const Credentials> with_universe_domain(std::string universe_domain) const;
  std::shared_ptr<const Credentials> with_account(std::string account) const;
  ///@}

  /// Not for direct use: see Builder and the from_* factories.
  struct Private;
  Credentials(const Private&, std::shared_ptr<const detail::RefreshGrantSource> source,
              std::shared_ptr<gauth::detail::TokenCache> cache, std::optional<std::string> quota_project_id);
  ~Credentials() override;

 private:
  std::shared_ptr<const gauth::Credentials> with_quota_project_impl(
      std::optional<std::string> quota_project_id) const override;
  const char* usage_metric() const noexcept override { return "cred-type/u"; }
  std::shared_ptr<const Credentials> copy_with(
      const std::function<void(detail::UserCredentialsConfig&)>& edit) const;

  std::shared_ptr<const detail::RefreshGrantSource> source_;  // holds the configuration
  const detail::UserCredentialsConfig& config_;
};

/// A one-line description without secrets: client id, scopes, quota project,
/// token state and expiry; secrets appear only as "set" or "unset".
/// \context Thread-safe.
GAUTH_EXPORT std::string to_string(const Credentials& credentials);
GAUTH_EXPORT std::ostream& operator<<(std::ostream& os, const Credentials& credentials);

}  // namespace gauth::oauth2

#endif  // GAUTH_OAUTH2_CREDENTIALS_HPP
