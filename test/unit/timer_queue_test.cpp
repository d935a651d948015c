#include "timer_queue.hpp"

#include "loop_queue.hpp"

#include <catch2/catch.hpp>

#include <vector>

using gauth::Status;
using gauth::StatusCode;
using gauth::detail::LoopQueue;
using gauth::detail::Timer;
using gauth::detail::TimerQueue;
using namespace std::chrono_literals;

namespace {
struct Fixture {
  std::shared_ptr<LoopQueue> queue = std::move(LoopQueue::create()).value();
  std::atomic<std::uint64_t> pending{0};
  std::shared_ptr<Timer> make(std::vector<std::string>& log, std::string name) {
    pending++;
    return std::make_shared<Timer>(
        queue, [&log, name](Status s) { log.push_back(name + (s.ok() ? ":fired" : ":cancelled")); },
        &pending);
  }
};
}  // namespace

TEST_CASE("timers come due in deadline order, ties in insertion order", "[timer_queue]") {
  Fixture f;
  std::vector<std::string> log;
  TimerQueue timers;
  auto t0 = std::chrono::steady_clock::time_point{};
  timers.add(t0 + 30ms, f.make(log, "c"));
  timers.add(t0 + 10ms, f.make(log, "a"));
  timers.add(t0 + 10ms, f.make(log, "b"));
  REQUIRE(timers.next_deadline() == t0 + 10ms);
  for (auto& t : timers.take_due(t0 + 10ms)) t->complete(Status());
  CHECK(log == std::vector<std::string>{"a:fired", "b:fired"});
  CHECK(timers.next_deadline() == t0 + 30ms);
  CHECK(timers.take_due(t0 + 29ms).empty());
  CHECK(f.pending == 1);
}

TEST_CASE("a cancelled timer runs its callback once with kCancelled and never fires", "[timer_queue]") {
  Fixture f;
  std::vector<std::string> log;
  TimerQueue timers;
  auto t0 = std::chrono::steady_clock::time_point{};
  auto timer = f.make(log, "t");
  timers.add(t0 + 5ms, timer);
  timer->cancel();
  timer->cancel();
  LoopQueue::LoopScope scope(*f.queue);
  f.queue->run_pending();
  CHECK(log == std::vector<std::string>{"t:cancelled"});
  CHECK_FALSE(timers.next_deadline().has_value());  // the dead entry is dropped
  for (auto& t : timers.take_due(t0 + 1s)) t->complete(Status());
  CHECK(log.size() == 1);
  CHECK(f.pending == 0);
}

TEST_CASE("heavy cancel churn does not grow the heap without bound", "[timer_queue]") {
  Fixture f;
  std::vector<std::string> log;
  TimerQueue timers;
  auto t0 = std::chrono::steady_clock::time_point{};
  LoopQueue::LoopScope scope(*f.queue);
  auto keeper = f.make(log, "keeper");
  timers.add(t0, keeper);  // stays at the top, so dead entries cannot be popped
  for (int i = 0; i < 10000; ++i) {
    auto t = f.make(log, "x");
    timers.add(t0 + std::chrono::seconds(1 + i), t);
    t->complete(gauth::Status(StatusCode::kCancelled, "gone"));
  }
  auto all = timers.take_all();
  CHECK(all.size() < 2100);
}
