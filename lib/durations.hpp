// gauth: waits taken from settings, kept within what every timer holds.
#ifndef GAUTH_LIB_DURATIONS_HPP
#define GAUTH_LIB_DURATIONS_HPP

#include "private.hpp"

#include <algorithm>
#include <chrono>

namespace gauth::detail {

/// The longest wait gauth takes from a setting: a year, as good as forever
/// (and milliseconds::max(), counted in nanoseconds, would overflow).
inline constexpr std::chrono::milliseconds kLongestWait = std::chrono::hours(24 * 365);

/// The furthest a loop's timer is armed (LoopHooks::set_timer promises it;
/// epoll_wait takes an int of milliseconds). A later deadline is re-armed.
inline constexpr std::chrono::milliseconds kLongestLoopTimer = std::chrono::hours(24);

/// `wait`, taken to be at least `shortest` and at most kLongestWait.
constexpr std::chrono::milliseconds bounded_wait(std::chrono::milliseconds wait,
                                                 std::chrono::milliseconds shortest) noexcept {
  return std::clamp(wait, shortest, kLongestWait);
}

}  // namespace gauth::detail

#endif  // GAUTH_LIB_DURATIONS_HPP
