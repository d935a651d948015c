#include "loop_queue.hpp"

#include <catch2/catch.hpp>

#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

using gauth::detail::LoopQueue;

namespace {
bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
}  // namespace

TEST_CASE("a push from another thread wakes the loop once per batch", "[loop_queue]") {
  auto queue = LoopQueue::create();
  REQUIRE(queue.ok());
  auto& q = **queue;
  CHECK_FALSE(readable(q.wake_fd()));
  int ran = 0;
  std::thread([&] {
    q.push([&] { ++ran; });
    q.push([&] { ++ran; });
  }).join();
  CHECK(readable(q.wake_fd()));
  LoopQueue::LoopScope scope(q);
  q.acknowledge_wake();
  CHECK_FALSE(readable(q.wake_fd()));
  CHECK(q.run_pending() == 2);
  CHECK(ran == 2);
  CHECK_FALSE(q.has_pending());
}

TEST_CASE("a push from the loop thread skips the eventfd and runs in the same turn", "[loop_queue]") {
  auto q = std::move(LoopQueue::create()).value();
  LoopQueue::LoopScope scope(*q);
  std::vector<int> order;
  q->push([&] {
    order.push_back(1);
    q->push([&] { order.push_back(3); });
  });
  q->push([&] { order.push_back(2); });
  CHECK_FALSE(readable(q->wake_fd()));
  q->run_pending();
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("a task that keeps re-posting itself yields to the loop instead of spinning", "[loop_queue]") {
  auto q = std::move(LoopQueue::create()).value();
  LoopQueue::LoopScope scope(*q);
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    q->push(again);
  };
  q->push(again);
  q->run_pending();
  CHECK(runs == 2);  // the task, and one round of what it pushed
  CHECK(q->has_pending());
  CHECK(readable(q->wake_fd()));  // the loop is woken for the rest
}

TEST_CASE("after close every push is dropped", "[loop_queue]") {
  auto q = std::move(LoopQueue::create()).value();
  q->close();
  bool ran = false;
  CHECK_FALSE(q->push([&] { ran = true; }));
  LoopQueue::LoopScope scope(*q);
  CHECK(q->run_pending() == 0);
  CHECK_FALSE(ran);
}

TEST_CASE("concurrent producers lose no task", "[loop_queue]") {
  auto q = std::move(LoopQueue::create()).value();
  std::atomic<int> ran{0};
  constexpr int kThreads = 4, kEach = 5000;
  std::vector<std::thread> producers;
  for (int i = 0; i < kThreads; ++i) {
    producers.emplace_back([&] {
      for (int j = 0; j < kEach; ++j) q->push([&] { ran.fetch_add(1); });
    });
  }
  LoopQueue::LoopScope scope(*q);
  while (ran.load() < kThreads * kEach) {
    pollfd p{q->wake_fd(), POLLIN, 0};
    if (::poll(&p, 1, 1000) == 1) q->acknowledge_wake();
    q->run_pending();
  }
  for (auto& t : producers) t.join();
  q->run_pending();
  CHECK(ran.load() == kThreads * kEach);
}
