// gauth: the clocks that deadlines, timers and token expiry follow.
#ifndef GAUTH_CLOCK_HPP
#define GAUTH_CLOCK_HPP

#include <gauth/export.hpp>

#include <chrono>

namespace gauth {

/// A monotonic clock for deadlines and a wall clock for expiry times.
///
/// gauth reads both through this interface so that tests can run the token
/// state machine on virtual time. Expiry times arrive as wall-clock values
/// (a file's "expiry", a server's "expires_in"); gauth anchors them to the
/// monotonic clock when it learns them, so a wall-clock jump does not make a
/// token look fresh or expired.
/// \context Thread-safe.
class GAUTH_EXPORT Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock();
  /// The monotonic clock. \context Thread-safe.
  virtual SteadyTime now() const = 0;
  /// The wall clock. \context Thread-safe.
  virtual WallTime wall_now() const = 0;

  /// The real clocks (std::chrono::steady_clock and system_clock). \context Thread-safe.
  static const Clock& system() noexcept;
};

}  // namespace gauth

#endif  // GAUTH_CLOCK_HPP
