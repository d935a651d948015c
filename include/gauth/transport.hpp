// gauth: the Transport interface (HTTP, posting, timers, clocks) and cancellation handles.
#ifndef GAUTH_TRANSPORT_HPP
#define GAUTH_TRANSPORT_HPP

#include <gauth/clock.hpp>
#include <gauth/export.hpp>
#include <gauth/http.hpp>
#include <gauth/status.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace gauth {

/// Something that can be asked to stop: an HTTP exchange, a timer, a waiter.
class GAUTH_EXPORT Cancellable {
 public:
  /// Asks the operation to stop. Idempotent; a no-op once it has completed.
  virtual void cancel() noexcept = 0;

 protected:
  ~Cancellable() = default;
};

/// A weak reference to a running operation, returned by every asynchronous call.
///
/// Dropping a Handle does not cancel anything. cancel() on a finished
/// operation does nothing. When cancel() wins the race, the operation's
/// callback still runs exactly once, with StatusCode::kCancelled; when it
/// loses, the callback runs with the real result.
/// \context Thread-safe.
class GAUTH_EXPORT Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(std::weak_ptr<Cancellable> operation) noexcept : op_(std::move(operation)) {}

  /// Asks the operation to stop; never runs its callback inline.
  void cancel() const noexcept;
  /// A hint for diagnostics: true while the transport still keeps a record of
  /// the operation, which may outlive its callback a little; false for an
  /// empty Handle (an operation that had nothing to cancel, such as a fresh
  /// token's before_request). Completion is told by the callback, not by this.
  bool active() const noexcept { return !op_.expired(); }

 private:
  std::weak_ptr<Cancellable> op_;
};

/// Posts work to a transport's loop thread, and outlives the transport: once
/// the transport is destroyed, post() drops the work and returns false. An
/// operation that may finish after its transport is gone (an application's
/// refresh handler, a waiter on another driver) reaches the loop through it.
class GAUTH_EXPORT Executor {
 public:
  virtual ~Executor();
  /// Runs `fn` on the loop thread, as Transport::post does; returns false,
  /// dropping `fn`, once the transport is gone. `fn` must not throw.
  /// \context Thread-safe.
  virtual bool post(std::function<void()> fn) = 0;
};

/// What gauth needs from the outside world: HTTP exchanges, a loop thread to
/// run work on, timers, and (as a Clock) the time they follow.
///
/// CurlDriver is the real implementation. Every asynchronous callback runs
/// exactly once, on the transport's loop thread, never inline from the call
/// that started it, and never while a gauth lock is held. Callbacks must not
/// throw: an exception escaping one terminates the program (std::terminate),
/// since the promise to the other callbacks could not be kept otherwise.
class GAUTH_EXPORT Transport : public Clock {
 public:
  using ResponseCallback = std::function<void(StatusOr<HttpResponse>)>;
  using TimerCallback = std::function<void(Status)>;
  using ReadyCallback = std::function<void(Status)>;

  virtual ~Transport();

  /// Starts an HTTP exchange.
  /// \context Thread-safe.
  /// `done` runs exactly once on the loop thread: with the response (any HTTP
  /// status), or with kTransportError, kTimeout, kInvalidArgument (a refused
  /// URL), or kCancelled (cancelled through the Handle, or the transport was
  /// destroyed first).
  virtual Handle send(HttpRequest request, ResponseCallback done) = 0;

  /// Runs `fn` on the loop thread, soon, in posting order.
  /// \context Thread-safe.
  /// `fn` runs exactly once: on the loop, or while the transport is destroyed.
  virtual void post(std::function<void()> fn) = 0;

  /// Starts a one-shot timer.
  /// \context Thread-safe.
  /// `fn` runs exactly once on the loop thread: with an OK status after
  /// `delay`, or with kCancelled when cancelled first or when the transport is
  /// destroyed.
  /// `delay` is measured on now().
  virtual Handle run_after(std::chrono::nanoseconds delay, TimerCallback fn) = 0;

  /// Watches `fd` (a pipe, a pidfd: anything pollable) for readability.
  /// \context Thread-safe.
  /// `on_ready` runs on the loop thread with an OK status each time `fd` is
  /// readable (level-triggered: read until EAGAIN, or be called again), until
  /// the Handle is cancelled; then it runs exactly once more, with kCancelled,
  /// once the loop no longer watches `fd` (also when the transport is
  /// destroyed, or with kInvalidArgument if `fd` is already watched). Keep
  /// `fd` open until that last call; the transport never reads or closes it,
  /// but its loop may put it in non-blocking mode (libuv and Asio do).
  virtual Handle watch_readable(int fd, ReadyCallback on_ready) = 0;

  /// This transport's Executor, valid as long as anyone holds it.
  /// \context Thread-safe.
  virtual std::shared_ptr<Executor> executor() = 0;
};

}  // namespace gauth

#endif  // GAUTH_TRANSPORT_HPP
