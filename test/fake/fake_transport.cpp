#include "fake_transport.hpp"

#include <algorithm>
#include <atomic>

#include <poll.h>

namespace gauth::test {

/// A timer or an in-flight request: whoever claims it first completes it.
struct FakeTransport::Timer final : Cancellable, std::enable_shared_from_this<FakeTransport::Timer> {
  Timer(FakeTransport& owner, TimerCallback fn) : owner(owner), fn(std::move(fn)) {}
  void cancel() noexcept override {
    if (done.load()) return;
    owner.post([self = shared_from_this()] { self->complete(Status(StatusCode::kCancelled, "cancelled")); });
  }
  void complete(const Status& status) {
    if (done.exchange(true)) return;
    auto f = std::move(fn);
    fn = nullptr;
    if (f) f(status);
  }
  FakeTransport& owner;
  TimerCallback fn;
  std::atomic<bool> done{false};
};

struct FakeTransport::Watch final : Cancellable, std::enable_shared_from_this<FakeTransport::Watch> {
  Watch(FakeTransport& owner, int fd, ReadyCallback fn) : owner(owner), fd(fd), fn(std::move(fn)) {}
  void cancel() noexcept override {
    if (ended.load()) return;
    owner.post([self = shared_from_this()] { self->end(Status(StatusCode::kCancelled, "cancelled")); });
  }
  void end(const Status& status) {
    if (ended.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(owner.mutex_);
      auto& w = owner.watches_;
      w.erase(std::remove(w.begin(), w.end(), shared_from_this()), w.end());
    }
    auto f = std::move(fn);
    fn = nullptr;
    if (f) f(status);
  }
  FakeTransport& owner;
  int fd;
  ReadyCallback fn;
  std::atomic<bool> ended{false};
};

/// The Executor: posts while the transport lives, drops afterwards.
class FakeTransport::Poster final : public Executor {
 public:
  explicit Poster(FakeTransport* owner) : owner_(owner) {}
  bool post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (owner_ == nullptr) return false;
    owner_->post(std::move(fn));
    return true;
  }
  void detach() {
    std::lock_guard<std::mutex> lock(mutex_);
    owner_ = nullptr;
  }

 private:
  std::mutex mutex_;
  FakeTransport* owner_;
};

FakeTransport::FakeTransport(WallTime wall_start)
    : steady_now_(SteadyTime(std::chrono::hours(1000))),
      wall_now_(wall_start),
      executor_(std::make_shared<Poster>(this)) {}

std::shared_ptr<Executor> FakeTransport::executor() { return executor_; }

FakeTransport::~FakeTransport() {
  // Like CurlDriver: every pending callback runs once, with kCancelled.
  for (int round = 0; round < 100; ++round) {
    std::multimap<SteadyTime, std::shared_ptr<Timer>> timers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      timers.swap(timers_);
    }
    for (auto& [when, timer] : timers) timer->complete(Status(StatusCode::kCancelled, "transport destroyed"));
    std::vector<std::shared_ptr<Watch>> watches;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      watches = watches_;
    }
    for (auto& w : watches) w->end(Status(StatusCode::kCancelled, "transport destroyed"));
    if (run() == 0 && timers.empty() && watches.empty()) break;
  }
  executor_->detach();
}

Handle FakeTransport::send(HttpRequest request, ResponseCallback done) {
  std::size_t index;
  std::chrono::nanoseconds latency;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    index = requests_.size();
    requests_.push_back(std::move(request));
    latency = latency_;
  }
  // The answer is looked up when it is delivered, so tests may script it late.
  auto deliver = [this, index, done = std::move(done)](Status fired) {
    if (!fired.ok()) {
      done(fired);
      return;
    }
    StatusOr<HttpResponse> response =
        Status(StatusCode::kTransportError, "FakeTransport: no scripted answer");
    HttpRequest request;
    Responder responder;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      request = requests_[index];
      if (!scripted_.empty()) {
        response = std::move(scripted_.front());
        scripted_.pop_front();
      } else {
        responder = responder_;
      }
    }
    if (responder) response = responder(request);
    done(std::move(response));
  };
  return run_after(latency, std::move(deliver));
}

void FakeTransport::post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  tasks_.push_back(std::move(fn));
}

Handle FakeTransport::run_after(std::chrono::nanoseconds delay, TimerCallback fn) {
  auto timer = std::make_shared<Timer>(*this, std::move(fn));
  std::lock_guard<std::mutex> lock(mutex_);
  timers_.emplace(steady_now_ + delay, timer);
  return Handle(timer);
}

Handle FakeTransport::watch_readable(int fd, ReadyCallback on_ready) {
  auto watch = std::make_shared<Watch>(*this, fd, std::move(on_ready));
  std::lock_guard<std::mutex> lock(mutex_);
  watches_.push_back(watch);
  return Handle(watch);
}

bool FakeTransport::poll_watches() {
  std::vector<std::shared_ptr<Watch>> watches;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    watches = watches_;
  }
  bool any = false;
  for (auto& w : watches) {
    pollfd p{w->fd, POLLIN, 0};
    if (!w->ended.load() && ::poll(&p, 1, 0) == 1 && w->fn) {
      any = true;
      w->fn(Status());
    }
  }
  return any;
}

Clock::SteadyTime FakeTransport::now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return steady_now_;
}

Clock::WallTime FakeTransport::wall_now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wall_now_;
}

void FakeTransport::enqueue(StatusOr<HttpResponse> response) {
  std::lock_guard<std::mutex> lock(mutex_);
  scripted_.push_back(std::move(response));
}

void FakeTransport::enqueue_json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.set("content-type", "application/json");
  r.body = std::move(body);
  enqueue(std::move(r));
}

void FakeTransport::set_responder(Responder responder) {
  std::lock_guard<std::mutex> lock(mutex_);
  responder_ = std::move(responder);
}

void FakeTransport::set_latency(std::chrono::nanoseconds latency) {
  std::lock_guard<std::mutex> lock(mutex_);
  latency_ = latency;
}

void FakeTransport::fire_due() {
  for (;;) {
    std::shared_ptr<Timer> timer;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = timers_.begin();
      if (it == timers_.end() || it->first > steady_now_) return;
      timer = std::move(it->second);
      timers_.erase(it);
    }
    timer->complete(Status());
  }
}

std::size_t FakeTransport::run() {
  std::size_t ran = 0;
  for (;;) {
    std::function<void()> task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!tasks_.empty()) {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
    }
    if (task) {
      task();
      ++ran;
      continue;
    }
    bool due;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      due = !timers_.empty() && timers_.begin()->first <= steady_now_;
    }
    if (!due) {
      if (!poll_watches()) return ran;
      ++ran;
      continue;
    }
    fire_due();
    ++ran;
  }
}

void FakeTransport::advance(std::chrono::nanoseconds d) {
  SteadyTime target;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    target = steady_now_ + d;
  }
  run();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = timers_.begin();
      // Skip timers cancelled already: they complete through their task.
      if (it == timers_.end() || it->first > target) {
        wall_now_ += target - steady_now_;
        steady_now_ = target;
        break;
      }
      wall_now_ += it->first - steady_now_;
      steady_now_ = it->first;
    }
    run();
  }
  run();
}

void FakeTransport::jump_wall_clock(std::chrono::nanoseconds d) {
  std::lock_guard<std::mutex> lock(mutex_);
  wall_now_ += std::chrono::duration_cast<WallTime::duration>(d);
}

std::vector<HttpRequest> FakeTransport::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::size_t FakeTransport::request_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size();
}

std::size_t FakeTransport::pending_timers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t n = 0;
  for (auto& [when, timer] : timers_) n += !timer->done.load();
  return n;
}

}  // namespace gauth::test
