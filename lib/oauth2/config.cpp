#include "config.hpp"

namespace gauth::oauth2::detail {

const UserCredentialsConfig::Extras& UserCredentialsConfig::extras() const noexcept {
  static const Extras none;
  return extras_ ? *extras_ : none;
}

UserCredentialsConfig::Extras& UserCredentialsConfig::extras_for_writing() {
  // Copy on write: a config being written is this thread's alone, so a count
  // of one means no other config shares the extras.
  if (!extras_ || extras_.use_count() > 1) {
    extras_ = extras_ ? std::make_shared<Extras>(*extras_) : std::make_shared<Extras>();
  }
  return const_cast<Extras&>(*extras_);  // created non-const just above or earlier
}

const std::vector<std::string>& UserCredentialsConfig::requested_scopes() const noexcept {
  static const std::vector<std::string> none;
  if (scopes) return *scopes;
  return default_scopes ? *default_scopes : none;
}

}  // namespace gauth::oauth2::detail
