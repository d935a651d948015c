#include <gauth/status.hpp>

#include <cstdio>
#include <cstdlib>
#include <ostream>

namespace gauth {

struct Status::Rep {
  StatusCode code = StatusCode::kOk;
  std::string message;
  bool retryable = false;
  int http_status = 0;
  std::string oauth_error;
  std::string oauth_error_description;
};

namespace {
const std::string& empty_string() noexcept {
  static const std::string empty;
  return empty;
}
}  // namespace

const char* to_string(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kRefreshError: return "REFRESH_ERROR";
    case StatusCode::kReauthRequired: return "REAUTH_REQUIRED";
    case StatusCode::kTransportError: return "TRANSPORT_ERROR";
    case StatusCode::kTimeout: return "TIMEOUT";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUserAccessTokenError: return "USER_ACCESS_TOKEN_ERROR";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
  }
  return "UNKNOWN";
}

Status::Status(StatusCode code, std::string message) {
  if (code == StatusCode::kOk) return;
  auto rep = std::make_shared<Rep>();
  rep->code = code;
  rep->message = std::move(message);
  rep_ = std::move(rep);
}

StatusCode Status::code() const noexcept { return rep_ ? rep_->code : StatusCode::kOk; }
const std::string& Status::message() const noexcept { return rep_ ? rep_->message : empty_string(); }
bool Status::retryable() const noexcept { return rep_ && rep_->retryable; }
int Status::http_status() const noexcept { return rep_ ? rep_->http_status : 0; }
const std::string& Status::oauth_error() const noexcept { return rep_ ? rep_->oauth_error : empty_string(); }
const std::string& Status::oauth_error_description() const noexcept {
  return rep_ ? rep_->oauth_error_description : empty_string();
}

template <typename Edit>
Status Status::edited(Edit edit) const {
  if (!rep_) return *this;
  auto rep = std::make_shared<Rep>(*rep_);
  edit(*rep);
  Status out;
  out.rep_ = std::move(rep);
  return out;
}

Status Status::with_retryable(bool retryable) const {
  return edited([&](Rep& rep) { rep.retryable = retryable; });
}

Status Status::with_http_status(int http_status) const {
  return edited([&](Rep& rep) { rep.http_status = http_status; });
}

Status Status::with_oauth_error(std::string error, std::string description) const {
  return edited([&](Rep& rep) {
    rep.oauth_error = std::move(error);
    rep.oauth_error_description = std::move(description);
  });
}

Status Status::with_context(const std::string& prefix) const {
  return edited([&](Rep& rep) { rep.message = prefix + ": " + rep.message; });
}

bool operator==(const Status& a, const Status& b) noexcept {
  if (a.rep_ == b.rep_) return true;
  if (!a.rep_ || !b.rep_) return false;
  const auto& x = *a.rep_;
  const auto& y = *b.rep_;
  return x.code == y.code && x.message == y.message && x.retryable == y.retryable &&
         x.http_status == y.http_status && x.oauth_error == y.oauth_error &&
         x.oauth_error_description == y.oauth_error_description;
}

std::string to_string(const Status& status) {
  if (status.ok()) return "OK";
  return std::string(to_string(status.code())) + ": " + status.message();
}

std::ostream& operator<<(std::ostream& os, const Status& status) { return os << to_string(status); }

namespace detail {
void status_or_value_of_error(const Status& status) noexcept {
  std::fprintf(stderr, "gauth: StatusOr::value() called without a value: %s\n", to_string(status).c_str());
  std::abort();
}
}  // namespace detail

}  // namespace gauth
