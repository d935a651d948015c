// gauth: the queue of work handed to a driver's loop thread, with its wake-up eventfd.
#ifndef GAUTH_LIB_LOOP_QUEUE_HPP
#define GAUTH_LIB_LOOP_QUEUE_HPP

#include "private.hpp"

#include "unique_fd.hpp"

#include <gauth/status.hpp>
#include <gauth/transport.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace gauth::detail {

/// Multi-producer, single-consumer queue of tasks for one loop thread.
///
/// Any thread may push; pushing from another thread writes the wake-up
/// eventfd once per batch (the loop watches it like any other fd). Pushing
/// from the loop thread while it runs the loop (inside a LoopScope) skips the
/// syscall: the task goes to a local list that run_pending() drains before the
/// loop turn ends. The queue is shared (shared_ptr) with every object that may
/// push after the driver is gone (cancellation handles); once closed, pushes
/// are dropped.
class LoopQueue final : public Executor {
 public:
  using Task = std::function<void()>;

  static StatusOr<std::shared_ptr<LoopQueue>> create();
  ~LoopQueue() override;
  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;

  /// The fd to watch for readability. \context Any thread.
  int wake_fd() const noexcept { return wake_fd_.get(); }

  /// Queues `task`; returns false (dropping it) once the queue is closed.
  /// Tasks, gauth's and users' alike, must not throw (a throw terminates).
  /// \context Any thread.
  bool push(Task task);
  /// Executor: the same as push().
  bool post(std::function<void()> fn) override;

  /// Consumes a readiness event of wake_fd(). \context The loop thread.
  void acknowledge_wake() noexcept;

  /// Runs the queued tasks, and those they push from the loop thread, for one
  /// round; if tasks keep arriving it wakes itself instead of spinning, so the
  /// loop can serve other fds first. Returns how many tasks ran.
  /// \context The loop thread, inside a LoopScope.
  std::size_t run_pending();

  /// True when a task is waiting. \context The loop thread.
  bool has_pending() const;

  /// Drops every later push. \context The loop thread.
  void close();

  /// Marks the current thread as this queue's loop thread for its lifetime.
  class LoopScope {
   public:
    explicit LoopScope(const LoopQueue& queue) noexcept;
    ~LoopScope();
    LoopScope(const LoopScope&) = delete;
    LoopScope& operator=(const LoopScope&) = delete;

   private:
    const LoopQueue* previous_;
  };

 private:
  explicit LoopQueue(int wake_fd) noexcept : wake_fd_(wake_fd) {}
  void wake() noexcept;

  const UniqueFd wake_fd_;
  mutable std::mutex mutex_;
  std::vector<Task> remote_;  // guarded by mutex_
  std::vector<Task> local_;   // loop thread only
  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> closed_{false};
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_LOOP_QUEUE_HPP
