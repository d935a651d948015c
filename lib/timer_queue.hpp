// gauth: the one-shot timers of a driver (Transport::run_after), kept in a heap.
#ifndef GAUTH_LIB_TIMER_QUEUE_HPP
#define GAUTH_LIB_TIMER_QUEUE_HPP

#include "private.hpp"

#include <gauth/transport.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace gauth::detail {

class LoopQueue;

/// One run_after() timer. Whoever flips `state` from pending first (fire on
/// the loop thread, or cancel from any thread) owns the callback, so it runs
/// exactly once.
class Timer final : public Cancellable, public std::enable_shared_from_this<Timer> {
 public:
  Timer(std::shared_ptr<LoopQueue> queue, Transport::TimerCallback callback,
        std::atomic<std::uint64_t>* pending_counter) noexcept;

  /// Runs the callback with `status` if nobody did yet. \context The loop thread.
  void complete(const Status& status) noexcept;
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  /// From any thread: the callback runs with kCancelled on the loop thread.
  void cancel() noexcept override;

 private:
  bool claim() noexcept { return !done_.exchange(true, std::memory_order_acq_rel); }

  std::shared_ptr<LoopQueue> queue_;
  Transport::TimerCallback callback_;
  std::atomic<std::uint64_t>* pending_counter_;
  std::atomic<bool> done_{false};
};

/// Min-heap of timers by deadline. \context The loop thread only.
class TimerQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  void add(TimePoint deadline, std::shared_ptr<Timer> timer);
  /// The earliest deadline of a live timer.
  std::optional<TimePoint> next_deadline();
  /// Removes and returns the timers due at `now`, earliest first.
  std::vector<std::shared_ptr<Timer>> take_due(TimePoint now);
  /// Removes and returns every timer.
  std::vector<std::shared_ptr<Timer>> take_all();
  bool empty() const noexcept { return heap_.empty(); }

 private:
  struct Entry {
    TimePoint deadline;
    std::uint64_t sequence;
    std::shared_ptr<Timer> timer;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.sequence > b.sequence;
    }
  };
  void drop_done_top();
  void compact();

  std::vector<Entry> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_TIMER_QUEUE_HPP
