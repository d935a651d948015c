// gauth: calling user code at a callback boundary.
#ifndef GAUTH_LIB_CALLBACK_HPP
#define GAUTH_LIB_CALLBACK_HPP

#include "private.hpp"

#include <utility>

namespace gauth::detail {

/// Calls `callback` (if set). User callbacks must not throw: gauth could not
/// keep its exactly-once promise to the other callbacks of the same loop turn.
/// noexcept turns a throw into std::terminate here, at the boundary, instead
/// of undefined behaviour deeper down.
template <typename Callback, typename... Args>
void invoke_user_code(Callback& callback, Args&&... args) noexcept {
  if (callback) callback(std::forward<Args>(args)...);
}

}  // namespace gauth::detail

#endif  // GAUTH_LIB_CALLBACK_HPP
