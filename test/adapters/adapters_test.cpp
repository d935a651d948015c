// The event-loop adapters (epoll, libuv, Asio), each driving the real
// CurlDriver against the loopback server: the same tests for every loop.
#include "test_server.hpp"

#include <gauth/adapters/epoll.hpp>
#if GAUTH_TEST_HAVE_UV
#  include <gauth/adapters/uv.hpp>
#endif
#if GAUTH_TEST_HAVE_ASIO
#  include <gauth/adapters/asio.hpp>
#endif

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono_literals;

namespace {

using SteadyClock = std::chrono::steady_clock;

/// A hand-written epoll loop with the EpollDriver's one fd in it.
class EpollHarness {
 public:
  static constexpr const char* kName = "epoll";
  EpollHarness() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    adapter_ = std::move(adapters::EpollDriver::create()).value();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = adapter_->fd();
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, adapter_->fd(), &ev);
  }
  ~EpollHarness() {
    destroy();
    ::close(epoll_fd_);
  }
  CurlDriver& driver() { return adapter_->driver(); }
  /// One turn of the loop, waiting at most `wait`; returns the events served.
  int turn(std::chrono::milliseconds wait) {
    epoll_event events[8];
    int n = ::epoll_wait(epoll_fd_, events, 8, int(wait.count()));
    if (n > 0) adapter_->dispatch();
    return n < 0 ? 0 : n;
  }
  void destroy() {
    if (!adapter_) return;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, adapter_->fd(), nullptr);
    adapter_.reset();
  }

 private:
  int epoll_fd_ = -1;
  std::unique_ptr<adapters::EpollDriver> adapter_;
};

#if GAUTH_TEST_HAVE_UV
class UvHarness {
 public:
  static constexpr const char* kName = "libuv";
  UvHarness() {
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &guard_);
    adapter_ = std::move(adapters::UvDriver::create(&loop_)).value();
  }
  ~UvHarness() {
    destroy();
    uv_close(reinterpret_cast<uv_handle_t*>(&guard_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);  // finish closing every handle
    CHECK(uv_loop_close(&loop_) == 0);
  }
  CurlDriver& driver() { return adapter_->driver(); }
  int turn(std::chrono::milliseconds wait) {
    // A guard timer bounds the wait; it is not the driver's.
    fired_ = 0;
    uv_timer_start(
        &guard_, [](uv_timer_t*) {}, static_cast<std::uint64_t>(wait.count()), 0);
    uv_run(&loop_, UV_RUN_ONCE);
    uv_timer_stop(&guard_);
    return 1;
  }
  void destroy() {
    if (!adapter_) return;
    adapter_.reset();
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  /// libuv's own view: how long the loop would sleep (-1: until an fd wakes it).
  int backend_timeout() { return uv_backend_timeout(&loop_); }

 private:
  uv_loop_t loop_{};
  uv_timer_t guard_{};
  int fired_ = 0;
  std::unique_ptr<adapters::UvDriver> adapter_;
};
#endif

#if GAUTH_TEST_HAVE_ASIO
class AsioHarness {
 public:
#  if defined(GAUTH_ADAPTERS_BOOST_ASIO)
  static constexpr const char* kName = "boost.asio";
#  else
  static constexpr const char* kName = "asio";
#  endif
  AsioHarness() { adapter_ = std::move(adapters::AsioDriver::create(io_)).value(); }
  ~AsioHarness() {
    destroy();
    io_.restart();
    io_.poll();  // let aborted handlers run
  }
  CurlDriver& driver() { return adapter_->driver(); }
  /// At most one handler (a turn of the loop), waiting at most `wait`.
  int turn(std::chrono::milliseconds wait) {
    io_.restart();
    return int(io_.run_one_for(wait));
  }
  void destroy() { adapter_.reset(); }

 private:
  adapters::asio_ns::io_context io_;
  std::unique_ptr<adapters::AsioDriver> adapter_;
};
#endif

template <typename Harness, typename Done>
bool run_until(Harness& h, Done done, std::chrono::milliseconds timeout = 30s) {
  auto deadline = SteadyClock::now() + timeout;
  while (!done()) {
    if (SteadyClock::now() > deadline) return false;
    h.turn(50ms);
  }
  return true;
}

HttpRequest token_post(const TestServer& server, int i) {
  HttpRequest r;
  r.method = "POST";
  r.url = server.url("/token");
  r.headers.set("content-type", "application/x-www-form-urlencoded");
  r.body = "grant_type=refresh_token&n=" + std::to_string(i);
  return r;
}

void raise_fd_limit() {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 8192) {
    lim.rlim_cur = std::min<rlim_t>(8192, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

#if GAUTH_TEST_HAVE_UV && GAUTH_TEST_HAVE_ASIO
#  define GAUTH_HARNESSES EpollHarness, UvHarness, AsioHarness
#elif GAUTH_TEST_HAVE_UV
#  define GAUTH_HARNESSES EpollHarness, UvHarness
#elif GAUTH_TEST_HAVE_ASIO
#  define GAUTH_HARNESSES EpollHarness, AsioHarness
#else
#  define GAUTH_HARNESSES EpollHarness
#endif

TEMPLATE_TEST_CASE("adapter: 1,000 concurrent token requests each complete once", "[adapters]",
                   GAUTH_HARNESSES) {
  raise_fd_limit();
  TestServer server;
  server.set_default(Reply::json(200, R"({"access_token":"t","expires_in":3599})"));
  TestType loop;
  constexpr int kRequests = 1000;
  std::vector<int> calls(kRequests, 0);
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) {
    loop.driver().send(token_post(server, i), [&, i](StatusOr<HttpResponse> r) {
      ++calls[i];
      ok += r.ok() && r->status == 200;
    });
  }
  REQUIRE(run_until(
      loop, [&] { return loop.driver().stats().requests_pending == 0; }, 60s));
  INFO(TestType::kName);
  CHECK(ok == kRequests);
  for (int c : calls) REQUIRE(c == 1);
  CHECK(server.request_count() == std::size_t(kRequests));
}

TEMPLATE_TEST_CASE("adapter: cancel in flight", "[adapters]", GAUTH_HARNESSES) {
  TestServer server;
  server.set_default(Reply::with_fault(Reply::Fault::kStall));
  TestType loop;
  std::optional<StatusOr<HttpResponse>> result;
  Handle h =
      loop.driver().send(token_post(server, 0), [&](StatusOr<HttpResponse> r) { result = std::move(r); });
  REQUIRE(run_until(loop, [&] { return server.request_count() == 1; }));
  h.cancel();
  REQUIRE(run_until(loop, [&] { return result.has_value(); }));
  CHECK(result->status().code() == StatusCode::kCancelled);
}

TEMPLATE_TEST_CASE("adapter: teardown with requests in flight cancels each once", "[adapters]",
                   GAUTH_HARNESSES) {
  TestServer server;
  server.set_default(Reply::with_fault(Reply::Fault::kStall));
  TestType loop;
  int cancelled = 0, calls = 0;
  for (int i = 0; i < 20; ++i) {
    loop.driver().send(token_post(server, i), [&](StatusOr<HttpResponse> r) {
      ++calls;
      cancelled += r.status().code() == StatusCode::kCancelled;
    });
  }
  REQUIRE(run_until(loop, [&] { return server.request_count() == 20; }));
  loop.destroy();
  CHECK(calls == 20);
  CHECK(cancelled == 20);
}

TEMPLATE_TEST_CASE("adapter: a post from another thread wakes the loop", "[adapters]", GAUTH_HARNESSES) {
  TestType loop;
  std::atomic<bool> ran{false};
  std::thread::id ran_on;
  std::thread poster([&] {
    std::this_thread::sleep_for(50ms);
    loop.driver().post([&] {
      ran_on = std::this_thread::get_id();
      ran = true;
    });
  });
  auto start = SteadyClock::now();
  while (!ran && SteadyClock::now() - start < 5s) loop.turn(2000ms);
  poster.join();
  CHECK(ran);
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(SteadyClock::now() - start < 1500ms);  // woken by the post, not by a wait running out
}

TEMPLATE_TEST_CASE("adapter: an idle driver does not wake the loop", "[adapters][idle]", GAUTH_HARNESSES) {
  TestServer server;
  TestType loop;
  bool done = false;
  loop.driver().send(token_post(server, 0), [&](StatusOr<HttpResponse> r) { done = r.ok(); });
  REQUIRE(run_until(loop, [&] { return done; }));
  for (int i = 0; i < 5; ++i) loop.turn(20ms);  // libcurl's short timers after a transfer run out
  auto wakeups = loop.driver().stats().wakeups;
  loop.turn(300ms);
  CHECK(loop.driver().stats().wakeups == wakeups);
}

#if GAUTH_TEST_HAVE_UV
TEST_CASE("libuv adapter: with nothing pending the loop would sleep until an fd wakes it",
          "[adapters][idle]") {
  TestServer server;
  UvHarness loop;
  bool done = false;
  HttpRequest r;
  r.url = server.url();
  loop.driver().send(r, [&](StatusOr<HttpResponse> resp) { done = resp.ok(); });
  REQUIRE(run_until(loop, [&] { return done; }));
  for (int i = 0; i < 5; ++i) loop.turn(20ms);
  CHECK(loop.backend_timeout() == -1);  // no timer armed: no polling
}
#endif

#if GAUTH_TEST_HAVE_ASIO
TEST_CASE("asio adapter: an idle io_context runs no handler", "[adapters][idle]") {
  AsioHarness loop;
  for (int i = 0; i < 3; ++i) loop.turn(20ms);
  CHECK(loop.turn(300ms) == 0);
}

TEST_CASE("asio adapter: an fd Asio refuses to register is left unwatched, without a throw", "[adapters]") {
  // Another Asio object of the same io_context already holds the fd: Asio
  // refuses a second registration (EEXIST). Hooks must not throw.
  adapters::asio_ns::io_context io;
  auto adapter = std::move(adapters::AsioDriver::create(io)).value();
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  adapters::asio_ns::posix::stream_descriptor holder(io, fds[0]);
  std::optional<Status> ended;
  int ready = 0;
  Handle watch = adapter->driver().watch_readable(fds[0], [&](Status s) {
    if (s.ok()) {
      ++ready;
    } else {
      ended = s;
    }
  });
  REQUIRE(::write(fds[1], "x", 1) == 1);
  CHECK_NOTHROW(io.poll());  // the hook runs here
  CHECK(ready == 0);
  watch.cancel();
  io.restart();
  io.poll();
  REQUIRE(ended);
  CHECK(ended->code() == StatusCode::kCancelled);
  holder.release();
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("asio adapter: destroyed while an expired timer's completion is queued", "[adapters][teardown]") {
  // cancel() cannot take back a completion the reactor has already queued:
  // it runs after the adapter is gone and must touch nothing of it (ASan
  // reports the use after free this guards against).
  adapters::asio_ns::io_context io;
  auto adapter = std::move(adapters::AsioDriver::create(io)).value();
  std::optional<Status> fired;
  // Long enough not to expire during the first poll, even under valgrind.
  adapter->driver().run_after(200ms, [&](Status s) { fired = s; });
  io.poll();  // arms the steady_timer
  REQUIRE_FALSE(fired);
  std::this_thread::sleep_for(300ms);
  adapters::asio_ns::post(io, [&] { adapter.reset(); });
  io.poll();  // the destroying handler runs first, then the timer's completion
  io.restart();
  io.poll();
  REQUIRE(fired);
  CHECK(fired->code() == StatusCode::kCancelled);
}
#endif
