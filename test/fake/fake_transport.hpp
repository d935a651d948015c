// A Transport on virtual time for unit tests of the token state machine:
// scripted HTTP answers, a task queue, and timers that fire when the test
// advances the clock. Single loop thread (the test's); post/send/run_after
// may be called from any thread.
#ifndef GAUTH_TEST_FAKE_FAKE_TRANSPORT_HPP
#define GAUTH_TEST_FAKE_FAKE_TRANSPORT_HPP

#include <gauth/transport.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace gauth::test {

class FakeTransport final : public Transport {
 public:
  using Responder = std::function<StatusOr<HttpResponse>(const HttpRequest&)>;

  /// Virtual time starts at `wall_start` (and an arbitrary monotonic origin).
  explicit FakeTransport(WallTime wall_start = WallTime(std::chrono::seconds(1'767'225'600)));  // 2026-01-01
  /// Completes everything still pending with kCancelled, as a driver does.
  ~FakeTransport() override;

  Handle send(HttpRequest request, ResponseCallback done) override;
  void post(std::function<void()> fn) override;
  Handle run_after(std::chrono::nanoseconds delay, TimerCallback fn) override;
  /// Watched fds are polled (without waiting) by run().
  Handle watch_readable(int fd, ReadyCallback on_ready) override;
  std::shared_ptr<Executor> executor() override;
  SteadyTime now() const override;
  WallTime wall_now() const override;

  /// Answers, in order, for the next requests; then the responder is asked.
  void enqueue(StatusOr<HttpResponse> response);
  void enqueue_json(int status, std::string body);
  void set_responder(Responder responder);
  /// Virtual time between a request and its answer.
  void set_latency(std::chrono::nanoseconds latency);

  /// Runs posted tasks and timers due now until nothing is left to do.
  /// Returns how many callbacks ran.
  std::size_t run();
  /// Moves virtual time forward by `d`, firing timers in deadline order.
  void advance(std::chrono::nanoseconds d);
  /// Moves the wall clock alone (a clock jump); the monotonic clock stays.
  void jump_wall_clock(std::chrono::nanoseconds d);

  std::vector<HttpRequest> requests() const;
  std::size_t request_count() const;
  std::size_t pending_timers() const;

 private:
  struct Timer;
  struct Watch;
  class Poster;
  void fire_due();
  bool poll_watches();

  mutable std::mutex mutex_;
  SteadyTime steady_now_;
  WallTime wall_now_;
  std::deque<std::function<void()>> tasks_;
  std::multimap<SteadyTime, std::shared_ptr<Timer>> timers_;
  std::vector<std::shared_ptr<Watch>> watches_;
  std::deque<StatusOr<HttpResponse>> scripted_;
  Responder responder_;
  std::chrono::nanoseconds latency_{0};
  std::vector<HttpRequest> requests_;
  std::shared_ptr<Poster> executor_;
};

}  // namespace gauth::test

#endif  // GAUTH_TEST_FAKE_FAKE_TRANSPORT_HPP
