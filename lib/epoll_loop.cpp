#include "epoll_loop.hpp"

#include "durations.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include <sys/epoll.h>
#include <unistd.h>

namespace gauth::detail {

namespace {

std::uint32_t epoll_mask(Interest interest) noexcept {
  std::uint32_t mask = 0;
  if (interest == Interest::kRead || interest == Interest::kReadWrite) mask |= EPOLLIN;
  if (interest == Interest::kWrite || interest == Interest::kReadWrite) mask |= EPOLLOUT;
  return mask;
}

int fd_events(std::uint32_t mask) noexcept {
  int events = 0;
  if (mask & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) events |= kFdRead;
  if (mask & EPOLLOUT) events |= kFdWrite;
  if (mask & EPOLLERR) events |= kFdError | kFdRead | kFdWrite;  // libcurl reads the real error
  return events;
}

}  // namespace

StatusOr<std::unique_ptr<EpollLoop>> EpollLoop::create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    return Status(StatusCode::kTransportError,
                  std::string("cannot create the driver's epoll set: ") + std::strerror(errno));
  }
  return std::unique_ptr<EpollLoop>(new EpollLoop(fd));
}

EpollLoop::~EpollLoop() = default;

LoopHooks EpollLoop::hooks() {
  return LoopHooks{[this](int fd, Interest interest) { watch(fd, interest); },
                   [this](std::optional<std::chrono::milliseconds> delay) { set_timer(delay); }};
}

void EpollLoop::watch(int fd, Interest interest) {
  if (interest == Interest::kNone) {
    watched_.erase(fd);
    // ENOENT/EBADF: the fd was already closed, which removed it from the set.
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
    return;
  }
  epoll_event ev{};
  ev.events = epoll_mask(interest);
  ev.data.fd = fd;
  bool known = watched_.count(fd) != 0;
  watched_[fd] = interest;
  // A known fd number may have been closed and reused without a removal
  // (epoll forgets closed fds), and an unknown one may still be registered:
  // fall back between MOD and ADD.
  if (known) {
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0 || errno != ENOENT) return;
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev);
  } else {
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0 || errno != EEXIST) return;
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &ev);
  }
}

void EpollLoop::set_timer(std::optional<std::chrono::milliseconds> delay) {
  if (!delay) {
    timer_.reset();
    return;
  }
  timer_ = std::chrono::steady_clock::now() + *delay;
}

bool EpollLoop::wait(std::optional<std::chrono::milliseconds> max_wait, CurlDriver& driver) {
  using std::chrono::milliseconds;
  auto now = std::chrono::steady_clock::now();
  int timeout_ms = -1;
  constexpr std::int64_t kLongest = kLongestLoopTimer.count();
  if (max_wait) timeout_ms = int(std::clamp<std::int64_t>(max_wait->count(), 0, kLongest));
  if (timer_) {
    auto left = *timer_ - now;
    // Round up, so that the timer is due when epoll_wait returns.
    auto left_ms = std::chrono::ceil<milliseconds>(left).count();
    int timer_ms = int(std::clamp<std::int64_t>(left_ms, 0, kLongest));
    if (timeout_ms < 0 || timer_ms < timeout_ms) timeout_ms = timer_ms;
  }
  std::array<epoll_event, 64> events;
  int n = ::epoll_wait(epoll_fd_.get(), events.data(), int(events.size()), timeout_ms);
  if (n < 0) n = 0;  // EINTR: let the caller come back
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    // An earlier event in this batch may have stopped watching this fd.
    if (watched_.count(fd) == 0) continue;
    driver.on_fd_ready(fd, fd_events(events[i].events));
  }
  bool timer_fired = false;
  if (timer_ && *timer_ <= std::chrono::steady_clock::now()) {
    timer_.reset();
    timer_fired = true;
    driver.on_timer();
  }
  return n > 0 || timer_fired;
}

}  // namespace gauth::detail
