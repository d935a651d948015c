// gauth: a CurlDriver for a hand-written epoll loop (header-only adapter).
#ifndef GAUTH_ADAPTERS_EPOLL_HPP
#define GAUTH_ADAPTERS_EPOLL_HPP

#include <gauth/curl_driver.hpp>

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace gauth::adapters {

/// A CurlDriver that an epoll loop serves through one file descriptor.
///
/// The adapter keeps its own (nested) epoll set with the driver's sockets and
/// a timerfd; your loop watches only fd(), level-triggered for EPOLLIN, and
/// calls dispatch() when it is readable. Nothing else is needed: no timer on
/// your side, no per-socket bookkeeping. While the driver has nothing to do,
/// fd() is not readable and your loop is not woken.
///
/// Teardown: destroy the EpollDriver (the driver goes first, completing its
/// callbacks with kCancelled, then the adapter's fds), after removing fd()
/// from your epoll set. \context Create, dispatch and destroy on the loop
/// thread; driver() is a Transport, thread-safe as any.
class EpollDriver {
 public:
  static StatusOr<std::unique_ptr<EpollDriver>> create(CurlDriverOptions options = {}) {
    std::unique_ptr<EpollDriver> self(new EpollDriver());
    self->epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    self->timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (self->epoll_fd_ < 0 || self->timer_fd_ < 0) {
      return Status(StatusCode::kTransportError, std::string("EpollDriver: ") + std::strerror(errno));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = self->timer_fd_;
    ::epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, self->timer_fd_, &ev);
    EpollDriver* raw = self.get();
    LoopHooks hooks{[raw](int fd, Interest interest) { raw->watch(fd, interest); },
                    [raw](std::optional<std::chrono::milliseconds> delay) { raw->set_timer(delay); }};
    auto driver = CurlDriver::create(std::move(hooks), std::move(options));
    if (!driver.ok()) return driver.status();
    self->driver_ = std::move(driver).value();
    return self;
  }

  ~EpollDriver() {
    driver_.reset();  // unwatches everything through the hooks
    if (timer_fd_ >= 0) ::close(timer_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }
  EpollDriver(const EpollDriver&) = delete;
  EpollDriver& operator=(const EpollDriver&) = delete;

  /// The fd to add to your epoll set (EPOLLIN, level-triggered).
  int fd() const noexcept { return epoll_fd_; }

  /// Serves what is ready. Call when fd() is readable.
  void dispatch() {
    epoll_event events[64];
    int n = ::epoll_wait(epoll_fd_, events, 64, 0);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == timer_fd_) {
        std::uint64_t expirations;
        if (::read(timer_fd_, &expirations, sizeof expirations) > 0) driver_->on_timer();
        continue;
      }
      int mask = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) mask |= kFdRead;
      if (events[i].events & EPOLLOUT) mask |= kFdWrite;
      if (events[i].events & EPOLLERR) mask |= kFdError | kFdRead | kFdWrite;  // libcurl looks at the socket
      driver_->on_fd_ready(fd, mask);
    }
  }

  CurlDriver& driver() noexcept { return *driver_; }

 private:
  EpollDriver() = default;

  void watch(int fd, Interest interest) {
    if (interest == Interest::kNone) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // ENOENT/EBADF: already gone
      return;
    }
    epoll_event ev{};
    ev.data.fd = fd;
    if (interest == Interest::kRead || interest == Interest::kReadWrite) ev.events |= EPOLLIN;
    if (interest == Interest::kWrite || interest == Interest::kReadWrite) ev.events |= EPOLLOUT;
    // A known number may be a new fd (closed and reused): MOD, else ADD.
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void set_timer(std::optional<std::chrono::milliseconds> delay) {
    itimerspec spec{};
    if (delay) {
      long long ms = delay->count();
      if (ms <= 0) {
        spec.it_value.tv_nsec = 1;  // all zeros would disarm: "now" is 1 ns
      } else {
        spec.it_value.tv_sec = ms / 1000;
        spec.it_value.tv_nsec = (ms % 1000) * 1'000'000;
      }
    }
    ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
  }

  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  std::unique_ptr<CurlDriver> driver_;
};

}  // namespace gauth::adapters

#endif  // GAUTH_ADAPTERS_EPOLL_HPP
