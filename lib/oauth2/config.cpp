#include "config.hpp"

namespace gauth::oauth2::detail {

const UserCredentialsConfig::Extras& UserCredentialsConfig::extras() const noexcept {
  static const Extras none;
  return extras_ ? *extras_ : none;
}

UserCredentialsConfig::Extras& UserCredentialsConfig::extras_for_writing() {
  auto copy = extras_ ? std::make_shared<Extras>(*extras_) : std::make_shared<Extras>();
  Extras& writable = *copy;
  extras_ = std::move(copy);
  return writable;
}

const std::vector<std::string>& UserCredentialsConfig::requested_scopes() const noexcept {
  static const std::vector<std::string> none;
  if (scopes) return *scopes;
  return default_scopes ? *default_scopes : none;
}

}  // namespace gauth::oauth2::detail
