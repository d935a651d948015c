#include <gauth/transport.hpp>

namespace gauth {

void Handle::cancel() const noexcept {
  if (auto op = op_.lock()) op->cancel();
}

Transport::~Transport() = default;

Executor::~Executor() = default;

}  // namespace gauth
