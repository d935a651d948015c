#include "loop_queue.hpp"

#include "callback.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <sys/eventfd.h>
#include <unistd.h>

namespace gauth::detail {

namespace {
thread_local const LoopQueue* tls_loop_queue = nullptr;
}  // namespace

StatusOr<std::shared_ptr<LoopQueue>> LoopQueue::create() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    return Status(StatusCode::kTransportError,
                  std::string("cannot create the driver's wake-up eventfd: ") + std::strerror(errno));
  }
  return std::shared_ptr<LoopQueue>(new LoopQueue(fd));
}

LoopQueue::~LoopQueue() = default;

LoopQueue::LoopScope::LoopScope(const LoopQueue& queue) noexcept : previous_(tls_loop_queue) {
  tls_loop_queue = &queue;
}

LoopQueue::LoopScope::~LoopScope() { tls_loop_queue = previous_; }

bool LoopQueue::push(Task task) {
  if (closed_.load(std::memory_order_acquire)) return false;
  if (tls_loop_queue == this) {
    local_.push_back(std::move(task));
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_.load(std::memory_order_relaxed)) return false;
    remote_.push_back(std::move(task));
  }
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) wake();
  return true;
}

void LoopQueue::wake() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the loop is awake anyway.
  while (::write(wake_fd_.get(), &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void LoopQueue::acknowledge_wake() noexcept {
  std::uint64_t count;
  while (::read(wake_fd_.get(), &count, sizeof count) < 0 && errno == EINTR) {
  }
}

std::size_t LoopQueue::run_pending() {
  // Clear the flag before taking the batch: a push racing with us then either
  // lands in this batch or writes the eventfd again. The eventfd itself is
  // only read when the loop reports it readable (acknowledge_wake), so a
  // late write costs one spurious wake-up, never a lost one or a spin.
  wake_pending_.exchange(false, std::memory_order_acq_rel);
  // Remote tasks first: a task the loop thread pushed outside a loop turn
  // went there, and was posted before anything pushed during this turn.
  std::vector<Task> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(remote_);
  }
  for (auto& task : local_) batch.push_back(std::move(task));
  local_.clear();
  for (auto& task : batch) invoke_user_code(task);
  std::size_t ran = batch.size();
  // Tasks pushed by those tasks from this thread: one more round, then yield
  // (what is left goes behind everything queued so far).
  if (!local_.empty()) {
    batch.clear();
    batch.swap(local_);
    for (auto& task : batch) invoke_user_code(task);
    ran += batch.size();
    if (!local_.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& task : local_) remote_.push_back(std::move(task));
      local_.clear();
      if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) wake();
    }
  }
  return ran;
}

bool LoopQueue::post(std::function<void()> fn) { return push(std::move(fn)); }

bool LoopQueue::has_pending() const {
  if (!local_.empty()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  return !remote_.empty();
}

void LoopQueue::close() {
  std::vector<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_.store(true, std::memory_order_release);
    dropped.swap(remote_);
  }
  local_.clear();
  // `dropped` is destroyed here, outside the lock: a task's captures may run
  // arbitrary destructors.
}

}  // namespace gauth::detail
