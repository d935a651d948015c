#include <gauth/clock.hpp>

namespace gauth {

Clock::~Clock() = default;

namespace {
class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};
}  // namespace

const Clock& Clock::system() noexcept {
  static const SystemClock clock;
  return clock;
}

}  // namespace gauth
