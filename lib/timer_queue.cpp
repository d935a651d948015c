#include "timer_queue.hpp"

#include "callback.hpp"
#include "loop_queue.hpp"

#include <algorithm>

namespace gauth::detail {

Timer::Timer(std::shared_ptr<LoopQueue> queue, Transport::TimerCallback callback,
             std::atomic<std::uint64_t>* pending_counter) noexcept
    : queue_(std::move(queue)), callback_(std::move(callback)), pending_counter_(pending_counter) {}

void Timer::complete(const Status& status) noexcept {
  if (!claim()) return;
  pending_counter_->fetch_sub(1, std::memory_order_relaxed);
  auto callback = std::move(callback_);
  callback_ = nullptr;
  invoke_user_code(callback, status);
}

void Timer::cancel() noexcept {
  if (done()) return;
  try {
    // The callback must run on the loop thread; the heap entry is dropped lazily.
    queue_->push(
        [self = shared_from_this()] { self->complete(Status(StatusCode::kCancelled, "timer cancelled")); });
  } catch (...) {
    // Out of memory: the timer simply fires at its deadline.
  }
}

void TimerQueue::add(TimePoint deadline, std::shared_ptr<Timer> timer) {
  heap_.push_back(Entry{deadline, next_sequence_++, std::move(timer)});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  // Cancelled timers leave their entries behind until they reach the top;
  // keep them from piling up under heavy cancel churn.
  if (heap_.size() >= 1024 && (heap_.size() & (heap_.size() - 1)) == 0) compact();
}

void TimerQueue::compact() {
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(), [](const Entry& e) { return e.timer->done(); }),
              heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

void TimerQueue::drop_done_top() {
  while (!heap_.empty() && heap_.front().timer->done()) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

std::optional<TimerQueue::TimePoint> TimerQueue::next_deadline() {
  drop_done_top();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline;
}

std::vector<std::shared_ptr<Timer>> TimerQueue::take_due(TimePoint now) {
  std::vector<std::shared_ptr<Timer>> due;
  drop_done_top();
  while (!heap_.empty() && heap_.front().deadline <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    due.push_back(std::move(heap_.back().timer));
    heap_.pop_back();
    drop_done_top();
  }
  return due;
}

std::vector<std::shared_ptr<Timer>> TimerQueue::take_all() {
  std::vector<std::shared_ptr<Timer>> all;
  all.reserve(heap_.size());
  for (auto& e : heap_) all.push_back(std::move(e.timer));
  heap_.clear();
  return all;
}

}  // namespace gauth::detail
