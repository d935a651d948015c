// gauth: a CurlDriver served by a libuv loop (header-only adapter).
#ifndef GAUTH_ADAPTERS_UV_HPP
#define GAUTH_ADAPTERS_UV_HPP

#include <gauth/curl_driver.hpp>

#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace gauth::adapters {

/// A CurlDriver attached to a `uv_loop_t`: one `uv_poll_t` per watched fd,
/// one `uv_timer_t`. Cross-thread posts wake the loop through the driver's
/// own eventfd, which is watched like any other fd (no uv_async needed).
///
/// libuv puts every watched fd in non-blocking mode (uv_poll_init does).
///
/// libuv specifics followed here: a poll handle is stopped synchronously when
/// its fd is unwatched (the fd may be closed, and its number reused, right
/// after), and freed in its close callback; a timer of 0 ms runs on the next
/// loop iteration, never from inside the hook.
///
/// Teardown: destroy the UvDriver on the loop thread (its callbacks complete
/// with kCancelled), then let the loop run once more (uv_run with
/// UV_RUN_NOWAIT, or until it ends) so libuv can finish closing the handles
/// and free them. \context Create, use and destroy on the loop's thread;
/// driver() is a Transport, thread-safe as any.
class UvDriver {
 public:
  static StatusOr<std::unique_ptr<UvDriver>> create(uv_loop_t* loop, CurlDriverOptions options = {}) {
    std::unique_ptr<UvDriver> self(new UvDriver(loop));
    self->timer_ = new uv_timer_t;
    uv_timer_init(loop, self->timer_);
    self->timer_->data = self.get();
    UvDriver* raw = self.get();
    LoopHooks hooks{[raw](int fd, Interest interest) { raw->watch(fd, interest); },
                    [raw](std::optional<std::chrono::milliseconds> delay) { raw->set_timer(delay); }};
    auto driver = CurlDriver::create(std::move(hooks), std::move(options));
    if (!driver.ok()) return driver.status();
    self->driver_ = std::move(driver).value();
    return self;
  }

  ~UvDriver() {
    driver_.reset();  // unwatches every fd and disarms the timer through the hooks
    for (auto& entry : polls_) close_poll(entry.second);
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  UvDriver(const UvDriver&) = delete;
  UvDriver& operator=(const UvDriver&) = delete;

  CurlDriver& driver() noexcept { return *driver_; }

 private:
  explicit UvDriver(uv_loop_t* loop) : loop_(loop) {}

  struct Poll {
    uv_poll_t handle;
    UvDriver* owner;
    int fd;
  };

  static void close_poll(Poll* p) {
    uv_poll_stop(&p->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
             [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
  }

  void watch(int fd, Interest interest) {
    auto it = polls_.find(fd);
    if (interest == Interest::kNone) {
      if (it != polls_.end()) {
        close_poll(it->second);  // stopped now: the fd may be closed and reused at once
        polls_.erase(it);
      }
      return;
    }
    Poll* p;
    if (it == polls_.end()) {
      p = new Poll{{}, this, fd};
      if (uv_poll_init(loop_, &p->handle, fd) != 0) {
        // libuv refuses only an fd epoll cannot watch (a regular file) or one
        // another handle of this loop already polls: the hook has no way to
        // fail, so the transfer (or watch) waits for its own deadline.
        delete p;
        return;
      }
      p->handle.data = p;
      polls_.emplace(fd, p);
    } else {
      p = it->second;
    }
    int events = 0;
    if (interest == Interest::kRead || interest == Interest::kReadWrite) events |= UV_READABLE;
    if (interest == Interest::kWrite || interest == Interest::kReadWrite) events |= UV_WRITABLE;
    uv_poll_start(&p->handle, events, [](uv_poll_t* h, int status, int ready) {
      auto* poll = static_cast<Poll*>(h->data);
      int mask = 0;
      if (status < 0) {
        mask = kFdError | kFdRead | kFdWrite;  // let libcurl find out what happened
      } else {
        if (ready & (UV_READABLE | UV_DISCONNECT)) mask |= kFdRead;
        if (ready & UV_WRITABLE) mask |= kFdWrite;
      }
      poll->owner->driver_->on_fd_ready(poll->fd, mask);
    });
  }

  void set_timer(std::optional<std::chrono::milliseconds> delay) {
    if (!delay) {
      uv_timer_stop(timer_);
      return;
    }
    auto ms = delay->count() < 0 ? 0 : static_cast<std::uint64_t>(delay->count());
    uv_timer_start(
        timer_, [](uv_timer_t* t) { static_cast<UvDriver*>(t->data)->driver_->on_timer(); }, ms, 0);
  }

  uv_loop_t* loop_;
  uv_timer_t* timer_ = nullptr;
  std::unordered_map<int, Poll*> polls_;
  std::unique_ptr<CurlDriver> driver_;
};

}  // namespace gauth::adapters

#endif  // GAUTH_ADAPTERS_UV_HPP
