// gauth: CurlDriver, the libcurl-multi event driver behind every HTTP exchange.
#ifndef GAUTH_CURL_DRIVER_HPP
#define GAUTH_CURL_DRIVER_HPP

#include <gauth/export.hpp>
#include <gauth/transport.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace gauth {

/// Settings shared by every request of one driver.
struct CurlDriverOptions {
  /// PEM file of trusted CA certificates; empty means the system store.
  /// TLS verification is always on.
  std::string ca_bundle;
  /// Deadline of a request that sets none of its own.
  std::chrono::milliseconds default_timeout{30'000};
  /// Deadline for establishing a connection (DNS, TCP, TLS).
  std::chrono::milliseconds connect_timeout{10'000};
  /// Largest accepted response body of a request that sets none of its own.
  std::size_t max_response_bytes = 64 * 1024;
  /// User-Agent header; empty means "gauth/<version>".
  std::string user_agent;
  /// Most connections open at once to one host (0: no limit). Requests over
  /// the limit wait for a free connection, and the wait counts against their
  /// deadline.
  std::size_t max_connections_per_host = 0;
  /// How many idle connections to keep for reuse (0: libcurl's default, four
  /// for each request in progress, so the pool shrinks after a burst).
  std::size_t connection_cache_size = 0;
  /// How many finished libcurl handles to keep for reuse (about 14 KB each).
  /// Reusing them keeps their TLS session and DNS caches and spares
  /// setting them up again: with 1,000 requests in flight, a cache of 1,024
  /// saves about 7 % of the CPU of each refresh over keeping 64.
  std::size_t idle_handle_cache = 1024;
};

/// What a host loop is asked to watch a file descriptor for.
enum class Interest : std::uint8_t { kNone = 0, kRead = 1, kWrite = 2, kReadWrite = 3 };

/// Readiness bits passed to CurlDriver::on_fd_ready. Pass an error as
/// kFdError | kFdRead | kFdWrite, so that libcurl reads the real error.
enum FdEvent : int { kFdRead = 1, kFdWrite = 2, kFdError = 4 };

/// How a driver in host-loop mode asks the application's loop for service.
///
/// Both hooks are called on the loop thread, from inside a driver call
/// (create, on_fd_ready, on_timer, run/run_once, the destructor). They must
/// only record the request with the loop and return; they must not call back
/// into the driver, and must not throw.
struct LoopHooks {
  /// Watch `fd` for `interest`, replacing whatever was watched before;
  /// kNone means stop watching (the fd may be closed right after, and its
  /// number reused). Readiness must be level-triggered. The driver does not
  /// own the loop's watch objects and never closes them itself.
  std::function<void(int fd, Interest interest)> watch;
  /// Arm the single one-shot timer to call on_timer() after `delay`,
  /// replacing any earlier arming; std::nullopt disarms it. A zero delay means
  /// "on the next turn of the loop", never from inside this call. `delay` is
  /// never negative and never over 24 hours (a later deadline is re-armed).
  std::function<void(std::optional<std::chrono::milliseconds> delay)> set_timer;
};

/// Counters for tests, benchmarks and monitoring. \context Thread-safe.
struct CurlDriverStats {
  /// Times the driver was woken: fd events, timer expiries, loop turns with work.
  std::uint64_t wakeups = 0;
  std::uint64_t requests_started = 0;
  std::uint64_t requests_completed = 0;
  /// Requests accepted but not completed yet.
  std::uint64_t requests_pending = 0;
  /// Timers armed and not yet fired or cancelled.
  std::uint64_t timers_pending = 0;
  /// watch_readable() watches not yet ended.
  std::uint64_t fd_watches = 0;
};

/// The libcurl-multi event driver: a Transport that never blocks its loop.
///
/// One driver owns one libcurl multi handle; connections (and TLS sessions)
/// are reused across its requests, and any number of requests run at once.
///
/// It runs in one of two modes, chosen when it is created:
/// - built-in loop: create(options); the application calls run(),
///   run_once() or start_thread(); the driver waits on its own epoll set.
/// - host loop: create(hooks, options); the application's loop watches the
///   fds and the timer that the hooks ask for, and calls on_fd_ready() and
///   on_timer().
///
/// The loop thread is the thread that runs the loop (run/run_once, or the
/// thread calling on_fd_ready/on_timer). Every callback runs there, exactly
/// once, never inline from the call that started it, never with a driver
/// lock held. Callbacks may call the driver again (send, post, cancel).
///
/// Destroying the driver completes every pending request and timer once with
/// kCancelled and runs every posted function. Destroy it on the loop thread
/// (or after its thread has stopped), never from inside one of its callbacks.
class GAUTH_EXPORT CurlDriver final : public Transport {
 public:
  /// A driver with a built-in loop. \context Thread-safe.
  static StatusOr<std::unique_ptr<CurlDriver>> create(CurlDriverOptions options = {});
  /// A driver serviced by the application's loop through `hooks`. The
  /// constructor already calls hooks.watch() for the driver's wake-up fd.
  /// \context Call on the loop thread.
  static StatusOr<std::unique_ptr<CurlDriver>> create(LoopHooks hooks, CurlDriverOptions options = {});

  ~CurlDriver() override;
  CurlDriver(const CurlDriver&) = delete;
  CurlDriver& operator=(const CurlDriver&) = delete;

  /// \name Transport (see Transport for the contract of each)
  /// \context Thread-safe.
  ///@{
  Handle send(HttpRequest request, ResponseCallback done) override;
  void post(std::function<void()> fn) override;
  Handle run_after(std::chrono::nanoseconds delay, TimerCallback fn) override;
  Handle watch_readable(int fd, ReadyCallback on_ready) override;
  std::shared_ptr<Executor> executor() override;
  /// The real clocks.
  SteadyTime now() const override;
  WallTime wall_now() const override;
  ///@}

  /// Built-in loop: runs until stop() is called. \context The loop thread.
  void run();
  /// Built-in loop: waits up to `max_wait` for something to do, does it, and
  /// returns whether anything was done. \context The loop thread.
  bool run_once(std::chrono::milliseconds max_wait);
  /// Built-in loop: makes run() return after its current turn (or at once,
  /// if called before run()). \context Thread-safe.
  void stop();
  /// Built-in loop: runs the loop on a thread owned by the driver until the
  /// driver is destroyed (or stop() is called; then it may be started again).
  /// Fails if the driver is in host-loop mode or its thread is running.
  /// \context Thread-safe.
  Status start_thread();

  /// Host loop: `fd` is ready; `events` is a mask of FdEvent bits.
  /// \context The loop thread.
  void on_fd_ready(int fd, int events);
  /// Host loop: the timer armed through LoopHooks::set_timer has expired.
  /// \context The loop thread.
  void on_timer();

  /// Counters of the driver's work so far. \context Thread-safe.
  CurlDriverStats stats() const noexcept;

  class Impl;

 private:
  explicit CurlDriver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gauth

#endif  // GAUTH_CURL_DRIVER_HPP
