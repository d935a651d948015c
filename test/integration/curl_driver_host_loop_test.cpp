// CurlDriver in host-loop mode, serviced by a small hand-written epoll loop
// (the kind of loop an application already runs).
#include "driver_fixture.hpp"
#include "test_server.hpp"

#include <gauth/curl_driver.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>
#include <vector>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono_literals;
using Fault = Reply::Fault;

namespace {

/// An application's epoll loop: level-triggered fds plus one timerfd.
class HostLoop {
 public:
  HostLoop() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = timer_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  }
  ~HostLoop() {
    ::close(timer_fd_);
    ::close(epoll_fd_);
  }

  LoopHooks hooks() {
    return LoopHooks{[this](int fd, Interest interest) {
                       ++watch_calls;
                       epoll_event ev{};
                       ev.data.fd = fd;
                       if (interest == Interest::kNone) {
                         watched.erase(fd);
                         ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
                         return;
                       }
                       ev.events =
                           (interest == Interest::kRead || interest == Interest::kReadWrite ? EPOLLIN : 0u) |
                           (interest == Interest::kWrite || interest == Interest::kReadWrite ? EPOLLOUT : 0u);
                       bool known = watched.count(fd) != 0;
                       watched[fd] = interest;
                       if (::epoll_ctl(epoll_fd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
                         ::epoll_ctl(epoll_fd_, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
                       }
                     },
                     [this](std::optional<std::chrono::milliseconds> delay) {
                       ++timer_calls;
                       itimerspec spec{};
                       if (delay) {
                         auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*delay).count();
                         if (ns == 0) ns = 1;  // all zeros would disarm the timerfd
                         spec.it_value.tv_sec = ns / 1'000'000'000;
                         spec.it_value.tv_nsec = ns % 1'000'000'000;
                       }
                       timer_armed = delay.has_value();
                       if (delay) last_timer_delay = *delay;
                       ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
                     }};
  }

  /// One turn: wait up to `max_wait`, dispatch. Returns the number of events.
  int turn(CurlDriver& driver, std::chrono::milliseconds max_wait) {
    epoll_event events[64];
    int n = ::epoll_wait(epoll_fd_, events, 64, int(max_wait.count()));
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == timer_fd_) {
        std::uint64_t expirations;
        if (::read(timer_fd_, &expirations, sizeof expirations) > 0) {
          timer_armed = false;
          driver.on_timer();
        }
        continue;
      }
      if (watched.count(fd) == 0) continue;
      int mask = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP)) mask |= kFdRead;
      if (events[i].events & EPOLLOUT) mask |= kFdWrite;
      if (events[i].events & EPOLLERR) mask |= kFdError;
      driver.on_fd_ready(fd, mask);
    }
    return n < 0 ? 0 : n;
  }

  template <typename Done>
  bool run_until(CurlDriver& driver, Done done, std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      turn(driver, 50ms);
    }
    return true;
  }

  std::map<int, Interest> watched;
  bool timer_armed = false;
  int watch_calls = 0;
  int timer_calls = 0;
  std::chrono::milliseconds last_timer_delay{-1};

 private:
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
};

std::unique_ptr<CurlDriver> make_hosted(HostLoop& loop, CurlDriverOptions options = {}) {
  auto driver = CurlDriver::create(loop.hooks(), std::move(options));
  REQUIRE(driver.ok());
  return std::move(driver).value();
}

}  // namespace

TEST_CASE("host loop: a request is served through the application's epoll loop", "[host-loop]") {
  TestServer server;
  server.enqueue(Reply::text(200, "hosted"));
  HostLoop loop;
  auto driver = make_hosted(loop);
  CHECK(loop.watched.size() == 1);  // the driver's wake-up eventfd
  ResponseOutcome out;
  driver->send(get(server.url()), out.callback());
  REQUIRE(loop.run_until(*driver, [&] { return out.done(); }));
  REQUIRE(out.value->ok());
  CHECK((*out.value)->body == "hosted");
  CHECK(driver->run_once(10ms) == false);  // the built-in loop is not there
  CHECK(driver->start_thread().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("host loop: hooks without both functions are refused", "[host-loop]") {
  LoopHooks hooks;
  hooks.watch = [](int, Interest) {};
  auto driver = CurlDriver::create(hooks);
  REQUIRE_FALSE(driver.ok());
  CHECK(driver.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("host loop: 1000 concurrent requests each complete once", "[host-loop][load]") {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 8192) {
    lim.rlim_cur = std::min<rlim_t>(8192, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  TestServer server;
  HostLoop loop;
  auto driver = make_hosted(loop);
  constexpr int kRequests = 1000;
  std::vector<int> calls(kRequests, 0);
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    driver->send(post(server.url("/token"), "i=" + std::to_string(i)), [&, i](StatusOr<HttpResponse> r) {
      ++calls[i];
      ok += r.ok() && r->status == 200;
    });
  }
  REQUIRE(loop.run_until(
      *driver, [&] { return driver->stats().requests_pending == 0; }, 60s));
  CHECK(ok == kRequests);
  for (int c : calls) REQUIRE(c == 1);
}

TEST_CASE("host loop: cancel in flight", "[host-loop][cancel]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kStall));
  HostLoop loop;
  auto driver = make_hosted(loop);
  ResponseOutcome out;
  Handle h = driver->send(get(server.url()), out.callback());
  REQUIRE(loop.run_until(*driver, [&] { return server.request_count() == 1; }));
  h.cancel();
  REQUIRE(loop.run_until(*driver, [&] { return out.done(); }));
  CHECK(out.value->status().code() == StatusCode::kCancelled);
  // Only the wake-up fd is left once libcurl dropped the aborted connection.
  CHECK(loop.watched.size() == 1);
}

TEST_CASE("host loop: a post from another thread wakes the application's loop", "[host-loop][threads]") {
  HostLoop loop;
  auto driver = make_hosted(loop);
  std::atomic<bool> ran{false};
  std::thread poster([&] {
    std::this_thread::sleep_for(50ms);
    driver->post([&] { ran = true; });
  });
  auto start = std::chrono::steady_clock::now();
  while (!ran && std::chrono::steady_clock::now() - start < 5s) loop.turn(*driver, 5000ms);
  poster.join();
  CHECK(ran);
  CHECK(std::chrono::steady_clock::now() - start < 4s);  // woken, not timed out
}

TEST_CASE("host loop: timers are served by the application's one timer", "[host-loop][timer]") {
  HostLoop loop;
  auto driver = make_hosted(loop);
  std::vector<int> order;
  driver->run_after(30ms, [&](Status) { order.push_back(2); });
  driver->run_after(10ms, [&](Status) { order.push_back(1); });
  REQUIRE(loop.run_until(*driver, [&] { return order.size() == 2; }));
  CHECK(order == std::vector<int>{1, 2});
  CHECK_FALSE(loop.timer_armed);
}

TEST_CASE("host loop: a timer far away is armed at most a day ahead, and never overflows",
          "[host-loop][timer]") {
  HostLoop loop;
  auto driver = make_hosted(loop);
  std::optional<Status> forever;
  Handle handle = driver->run_after(std::chrono::nanoseconds::max(), [&](Status s) { forever = s; });
  loop.turn(*driver, 0ms);
  loop.turn(*driver, 0ms);
  REQUIRE(loop.timer_armed);
  CHECK(loop.last_timer_delay > 23h);
  CHECK(loop.last_timer_delay <= 24h);
  handle.cancel();
  REQUIRE(loop.run_until(*driver, [&] { return forever.has_value(); }));
  CHECK(forever->code() == StatusCode::kCancelled);
}

TEST_CASE("host loop: teardown cancels everything and unwatches every fd", "[host-loop][teardown]") {
  TestServer server;
  server.set_default(Reply::with_fault(Fault::kStall));
  HostLoop loop;
  int cancelled = 0;
  {
    auto driver = make_hosted(loop);
    for (int i = 0; i < 20; ++i) {
      driver->send(get(server.url()), [&](StatusOr<HttpResponse> r) {
        cancelled += r.status().code() == StatusCode::kCancelled;
      });
    }
    driver->run_after(1h, [&](Status s) { cancelled += s.code() == StatusCode::kCancelled; });
    REQUIRE(loop.run_until(*driver, [&] { return server.request_count() == 20; }));
    CHECK(loop.watched.size() > 20);
  }
  CHECK(cancelled == 21);
  CHECK(loop.watched.empty());
  CHECK_FALSE(loop.timer_armed);
}

TEST_CASE("host loop: an idle driver asks for no wake-ups", "[host-loop][idle]") {
  TestServer server;
  HostLoop loop;
  auto driver = make_hosted(loop);
  ResponseOutcome out;
  driver->send(get(server.url()), out.callback());
  REQUIRE(loop.run_until(*driver, [&] { return out.done(); }));
  for (int i = 0; i < 5; ++i) loop.turn(*driver, 20ms);
  auto wakeups = driver->stats().wakeups;
  CHECK_FALSE(loop.timer_armed);
  CHECK(loop.turn(*driver, 300ms) == 0);
  CHECK(driver->stats().wakeups == wakeups);
}

TEST_CASE("host loop: fd watches go through the application's loop and are unwatched at the end",
          "[host-loop][fd-watch]") {
  HostLoop loop;
  auto driver = make_hosted(loop);
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  bool readable = false;
  std::optional<Status> ended;
  Handle h = driver->watch_readable(fds[0], [&](Status s) {
    if (!s.ok()) {
      ended = s;
      return;
    }
    char c;
    while (::read(fds[0], &c, 1) > 0) readable = true;
  });
  REQUIRE(loop.run_until(*driver, [&] { return loop.watched.count(fds[0]) == 1; }));
  REQUIRE(::write(fds[1], "x", 1) == 1);
  REQUIRE(loop.run_until(*driver, [&] { return readable; }));
  h.cancel();
  REQUIRE(loop.run_until(*driver, [&] { return ended.has_value(); }));
  CHECK(loop.watched.count(fds[0]) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
}
