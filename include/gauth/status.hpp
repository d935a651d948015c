// gauth: Status and StatusOr<T>, the error currency of the library.
#ifndef GAUTH_STATUS_HPP
#define GAUTH_STATUS_HPP

#include <gauth/export.hpp>

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace gauth {

/// What went wrong. Messages are for people; codes are for programs.
enum class StatusCode {
  kOk = 0,
  /// The token endpoint refused or failed the refresh (see oauth_error()).
  kRefreshError,
  /// The refresh token needs reauthentication (rapt_required / invalid_rapt).
  kReauthRequired,
  /// The request could not be carried out: DNS, connect, TLS, reset, size cap.
  kTransportError,
  /// A deadline passed.
  kTimeout,
  /// The operation was cancelled, or its driver was destroyed.
  kCancelled,
  /// gcloud could not supply an access token.
  kUserAccessTokenError,
  /// Bad input from the caller: a malformed file, a missing field, a bad URL.
  kInvalidArgument,
  /// Something looked for does not exist (e.g. no default credentials).
  kNotFound,
};

/// The name of a code, e.g. "kRefreshError" → "REFRESH_ERROR". \context Thread-safe.
GAUTH_EXPORT const char* to_string(StatusCode code) noexcept;

/// An immutable result: OK, or a code with a message and details.
///
/// Copies are cheap (one shared pointer), so one failure can be handed to
/// thousands of waiters. A Status never contains a secret.
/// \context Thread-safe (immutable).
class GAUTH_EXPORT Status {
 public:
  /// \name Every member
  /// \context Thread-safe.
  ///@{

  /// The OK status.
  Status() noexcept = default;
  /// A non-OK status; `code` must not be kOk.
  Status(StatusCode code, std::string message);

  bool ok() const noexcept { return rep_ == nullptr; }
  StatusCode code() const noexcept;
  /// Empty for OK.
  const std::string& message() const noexcept;
  /// True when trying again later may succeed (a 5xx, a reset, a timeout).
  bool retryable() const noexcept;
  /// The HTTP status of the answer that caused the error, or 0.
  int http_status() const noexcept;
  /// The OAuth2 `error` field of the answer, or empty.
  const std::string& oauth_error() const noexcept;
  /// The OAuth2 `error_description` field of the answer, or empty.
  const std::string& oauth_error_description() const noexcept;

  /// Copies with one detail changed (OK stays OK).
  Status with_retryable(bool retryable) const;
  Status with_http_status(int http_status) const;
  Status with_oauth_error(std::string error, std::string description) const;
  /// A copy whose message is `prefix + ": " + message()`.
  Status with_context(const std::string& prefix) const;

  friend bool operator==(const Status& a, const Status& b) noexcept;
  friend bool operator!=(const Status& a, const Status& b) noexcept { return !(a == b); }
  ///@}

 private:
  struct Rep;
  template <typename Edit>
  Status edited(Edit edit) const;
  std::shared_ptr<const Rep> rep_;
};

/// "REFRESH_ERROR: invalid_grant: Token has been expired or revoked."
GAUTH_EXPORT std::string to_string(const Status& status);
GAUTH_EXPORT std::ostream& operator<<(std::ostream& os, const Status& status);

namespace detail {
[[noreturn]] GAUTH_EXPORT void status_or_value_of_error(const Status& status) noexcept;
}  // namespace detail

/// A value, or the Status that explains why there is none.
/// \context Reentrant (as the value it holds).
template <typename T>
class StatusOr {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "StatusOr<Status> is meaningless");

 public:
  /// A StatusOr holding `status`, which must not be OK.
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status(StatusCode::kInvalidArgument, "StatusOr built from an OK status");
  }
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// OK when a value is held.
  const Status& status() const noexcept { return status_; }

  /// The value; calling these without one terminates the program with the Status.
  T& value() & {
    check();
    return *value_;
  }
  const T& value() const& {
    check();
    return *value_;
  }
  T&& value() && {
    check();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!value_) detail::status_or_value_of_error(status_);
  }
  Status status_;
  std::optional<T> value_;
};

}  // namespace gauth

#endif  // GAUTH_STATUS_HPP
