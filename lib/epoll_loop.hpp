// gauth: the built-in event loop, an epoll set serving the same LoopHooks a host loop would.
#ifndef GAUTH_LIB_EPOLL_LOOP_HPP
#define GAUTH_LIB_EPOLL_LOOP_HPP

#include "private.hpp"

#include "unique_fd.hpp"

#include <gauth/curl_driver.hpp>

#include <chrono>
#include <optional>
#include <unordered_map>

namespace gauth::detail {

/// A level-triggered epoll set plus one one-shot timer. The driver talks to it
/// through LoopHooks exactly as it talks to a host loop, so both modes share
/// one code path. \context One thread at a time (the loop thread).
class EpollLoop {
 public:
  static StatusOr<std::unique_ptr<EpollLoop>> create();
  ~EpollLoop();
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  /// Hooks bound to this loop; valid while it lives.
  LoopHooks hooks();

  void watch(int fd, Interest interest);
  void set_timer(std::optional<std::chrono::milliseconds> delay);

  /// Waits up to `max_wait` (forever when nullopt, but never past the timer)
  /// and reports what happened through `driver`. Returns whether anything did.
  bool wait(std::optional<std::chrono::milliseconds> max_wait, CurlDriver& driver);

 private:
  explicit EpollLoop(int epoll_fd) noexcept : epoll_fd_(epoll_fd) {}

  const UniqueFd epoll_fd_;
  std::unordered_map<int, Interest> watched_;
  std::optional<std::chrono::steady_clock::time_point> timer_;
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_EPOLL_LOOP_HPP
