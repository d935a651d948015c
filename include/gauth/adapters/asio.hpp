// gauth: a CurlDriver served by an Asio io_context (header-only adapter).
//
// Standalone Asio by default (`#include <asio.hpp>`); define
// GAUTH_ADAPTERS_BOOST_ASIO before including this header for Boost.Asio.
#ifndef GAUTH_ADAPTERS_ASIO_HPP
#define GAUTH_ADAPTERS_ASIO_HPP

#include <gauth/curl_driver.hpp>

#if defined(GAUTH_ADAPTERS_BOOST_ASIO)
#  include <boost/asio.hpp>
#else
#  include <asio.hpp>
#endif

#include <memory>
#include <unordered_map>

namespace gauth::adapters {

#if defined(GAUTH_ADAPTERS_BOOST_ASIO)
namespace asio_ns = ::boost::asio;
using asio_error_code = ::boost::system::error_code;
#else
namespace asio_ns = ::asio;
using asio_error_code = ::asio::error_code;
#endif

/// A CurlDriver attached to an Asio `io_context`: each watched fd is a
/// `posix::stream_descriptor` waited on with `async_wait` (re-armed after
/// every event while the interest lasts, which makes readiness
/// level-triggered), and one `steady_timer` serves the driver's timer.
///
/// The fds belong to libcurl: the adapter never closes them, but Asio puts
/// them in non-blocking mode. On unwatch it
/// `release()`s the descriptor (pending waits end with operation_aborted and
/// do nothing). A timer of 0 ms completes on a later turn of the io_context,
/// never from inside the hook. Cross-thread posts wake the io_context through
/// the driver's own eventfd, watched like any other fd.
///
/// Teardown: destroy the AsioDriver on the io_context's thread (the driver
/// completes its callbacks with kCancelled first); pending handlers then end
/// without effect (operation_aborted, or a timer that had already expired
/// finding itself stale) when the io_context next runs.
/// \context Create, use and destroy on the thread running the io_context;
/// driver() is a Transport, thread-safe as any.
class AsioDriver {
 public:
  static StatusOr<std::unique_ptr<AsioDriver>> create(asio_ns::io_context& io,
                                                      CurlDriverOptions options = {}) {
    std::unique_ptr<AsioDriver> self(new AsioDriver(io));
    AsioDriver* raw = self.get();
    LoopHooks hooks{[raw](int fd, Interest interest) { raw->watch(fd, interest); },
                    [raw](std::optional<std::chrono::milliseconds> delay) { raw->set_timer(delay); }};
    auto driver = CurlDriver::create(std::move(hooks), std::move(options));
    if (!driver.ok()) return driver.status();
    self->driver_ = std::move(driver).value();
    return self;
  }

  ~AsioDriver() {
    driver_.reset();  // unwatches every fd and disarms the timer through the hooks
    for (auto& entry : watches_) release(*entry.second);
    ++*timer_generation_;  // a completion already queued finds itself stale
    timer_.cancel();
  }
  AsioDriver(const AsioDriver&) = delete;
  AsioDriver& operator=(const AsioDriver&) = delete;

  CurlDriver& driver() noexcept { return *driver_; }

 private:
  explicit AsioDriver(asio_ns::io_context& io) : io_(io), timer_(io) {}

  struct Watch {
    Watch(asio_ns::io_context& io, int fd) : descriptor(io), fd(fd) {}
    asio_ns::posix::stream_descriptor descriptor;
    int fd;
    Interest interest = Interest::kNone;
    bool reading = false;
    bool writing = false;
    bool removed = false;
  };

  static bool wants_read(Interest i) { return i == Interest::kRead || i == Interest::kReadWrite; }
  static bool wants_write(Interest i) { return i == Interest::kWrite || i == Interest::kReadWrite; }

  static void release(Watch& w) {
    w.removed = true;
    w.descriptor.release();  // libcurl owns the fd: never close it
  }

  void watch(int fd, Interest interest) {
    auto it = watches_.find(fd);
    if (interest == Interest::kNone) {
      if (it != watches_.end()) {
        release(*it->second);
        watches_.erase(it);
      }
      return;
    }
    if (it == watches_.end()) {
      auto w = std::make_shared<Watch>(io_, fd);
      // A hook must not throw: an fd Asio cannot register (one another Asio
      // object already holds) is left unwatched, and the transfer (or watch)
      // waits for its own deadline, as with libuv.
      asio_error_code error;
      w->descriptor.assign(fd, error);
      if (error) return;
      it = watches_.emplace(fd, std::move(w)).first;
    }
    it->second->interest = interest;
    arm(it->second);
  }

  void arm(const std::shared_ptr<Watch>& w) {
    if (wants_read(w->interest) && !w->reading) {
      w->reading = true;
      w->descriptor.async_wait(asio_ns::posix::stream_descriptor::wait_read, [this, w](const auto& error) {
        w->reading = false;
        if (error || w->removed || !wants_read(w->interest)) return;
        driver_->on_fd_ready(w->fd, kFdRead);
        if (!w->removed) arm(w);
      });
    }
    if (wants_write(w->interest) && !w->writing) {
      w->writing = true;
      w->descriptor.async_wait(asio_ns::posix::stream_descriptor::wait_write, [this, w](const auto& error) {
        w->writing = false;
        if (error || w->removed || !wants_write(w->interest)) return;
        driver_->on_fd_ready(w->fd, kFdWrite);
        if (!w->removed) arm(w);
      });
    }
  }

  // cancel() cannot take back a completion that is already queued: it still
  // runs, with success, possibly after this adapter is gone. The generation
  // it carries, checked against the shared counter, tells it it is stale.
  void set_timer(std::optional<std::chrono::milliseconds> delay) {
    std::uint64_t generation = ++*timer_generation_;
    if (!delay) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(*delay);  // cancels an earlier wait
    timer_.async_wait([this, current = timer_generation_, generation](const auto& error) {
      if (error || generation != *current) return;
      driver_->on_timer();
    });
  }

  asio_ns::io_context& io_;
  asio_ns::steady_timer timer_;
  std::shared_ptr<std::uint64_t> timer_generation_ = std::make_shared<std::uint64_t>(0);
  std::unordered_map<int, std::shared_ptr<Watch>> watches_;
  std::unique_ptr<CurlDriver> driver_;
};

}  // namespace gauth::adapters

#endif  // GAUTH_ADAPTERS_ASIO_HPP
