// The libcurl-multi driver. Rules followed here (see docs/architecture.md):
// - libcurl's socket and timer callbacks only record state and talk to the
//   loop hooks; every libcurl call and every user callback happens from the
//   driver's own code after curl_multi_socket_action has returned;
// - no exception crosses a libcurl callback;
// - completions are collected first and dispatched afterwards.
#include <gauth/curl_driver.hpp>
#include <gauth/version.hpp>

#include "callback.hpp"
#include "curl_global.hpp"
#include "durations.hpp"
#include "epoll_loop.hpp"
#include "loop_queue.hpp"
#include "timer_queue.hpp"
#include "url.hpp"

#include <curl/curl.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gauth {

namespace {

using detail::EpollLoop;
using detail::invoke_user_code;
using detail::LoopQueue;
using detail::Timer;
using detail::TimerQueue;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

Status cancelled_status(const char* why) { return Status(StatusCode::kCancelled, why); }

bool has_line_break(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

namespace detail {

/// One HTTP exchange, from send() until its callback has run.
class Transfer final : public Cancellable, public std::enable_shared_from_this<Transfer> {
 public:
  Transfer(CurlDriver::Impl* driver, std::shared_ptr<LoopQueue> queue, HttpRequest request,
           Transport::ResponseCallback done)
      : driver(driver), queue(std::move(queue)), request(std::move(request)), done(std::move(done)) {}

  void cancel() noexcept override;

  // Set at creation; `driver` is only dereferenced on the loop thread, while it lives.
  CurlDriver::Impl* const driver;
  const std::shared_ptr<LoopQueue> queue;
  HttpRequest request;
  Transport::ResponseCallback done;
  std::atomic<bool> cancel_requested{false};

  // Loop thread only.
  bool completed = false;
  std::shared_ptr<const UrlInfo> url;  // shared with the driver's last-URL cache
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  std::size_t body_cap = 0;
  std::size_t header_bytes = 0;
  bool body_over_cap = false;
  bool headers_over_cap = false;
  bool out_of_memory = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

/// One watch_readable() registration, from the call until its final callback.
class FdWatch final : public Cancellable, public std::enable_shared_from_this<FdWatch> {
 public:
  FdWatch(CurlDriver::Impl* driver, std::shared_ptr<LoopQueue> queue, int fd,
          Transport::ReadyCallback on_ready)
      : driver(driver), queue(std::move(queue)), fd(fd), on_ready(std::move(on_ready)) {}

  void cancel() noexcept override;

  CurlDriver::Impl* const driver;
  const std::shared_ptr<LoopQueue> queue;
  const int fd;
  Transport::ReadyCallback on_ready;  // loop thread only
  std::atomic<bool> cancel_requested{false};
  bool ended = false;  // loop thread only
};

}  // namespace detail

using detail::FdWatch;
using detail::Transfer;

class CurlDriver::Impl {
 public:
  Impl(CurlDriver* owner, CurlDriverOptions options, std::shared_ptr<LoopQueue> queue)
      : owner_(owner), options_(std::move(options)), queue_(std::move(queue)) {
    user_agent_ =
        options_.user_agent.empty() ? std::string("gauth/") + GAUTH_VERSION_STRING : options_.user_agent;
  }

  Status init(LoopHooks hooks, std::unique_ptr<EpollLoop> builtin);
  void shutdown();

  Handle send(HttpRequest request, ResponseCallback done);
  void post(std::function<void()> fn);
  Handle run_after(std::chrono::nanoseconds delay, TimerCallback fn);
  Handle watch_readable(int fd, ReadyCallback on_ready);
  std::shared_ptr<Executor> executor() const { return queue_; }

  void run();
  bool run_once(std::chrono::milliseconds max_wait);
  void stop();
  Status start_thread();
  void join_thread();

  void on_fd_ready(int fd, int events);
  void on_timer();

  CurlDriverStats stats() const noexcept;

  // Called from Transfer::cancel's task, on the loop thread.
  void cancel_transfer(Transfer& transfer);
  bool still_resolving(Transfer& transfer);
  void detach_resolved_orphans();
  // Called from FdWatch::cancel's task, on the loop thread.
  void end_watch(FdWatch& watch, const Status& why);

 private:
  // libcurl callbacks (C frames: noexcept, no libcurl calls).
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data) noexcept;
  static int on_curl_timer(CURLM* multi, long timeout_ms, void* self) noexcept;
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* transfer) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* transfer) noexcept;
  static curl_socket_t on_open_socket(void* self, curlsocktype purpose, curl_sockaddr* address) noexcept;
  static int on_prerequest(void* transfer, char* primary_ip, char* local_ip, int primary_port,
                           int local_port) noexcept;

  void start(const std::shared_ptr<Transfer>& transfer);
  Status configure(Transfer& transfer);
  std::shared_ptr<Transfer> detach(Transfer& transfer);
  // The transfer's easy handle (back to the idle cache) and header list.
  void release_handles(Transfer& transfer) noexcept;
  void recycle(CURL* easy) noexcept;
  void process_done();
  void fail_everything(const Status& status);
  void complete(Transfer& transfer, StatusOr<HttpResponse> result);
  StatusOr<HttpResponse> result_of(Transfer& transfer, CURLcode code);
  void after_dispatch();
  void rearm_timer();

  CurlDriver* const owner_;
  const CurlDriverOptions options_;
  const std::shared_ptr<LoopQueue> queue_;
  std::string user_agent_;
  LoopHooks hooks_;
  std::unique_ptr<EpollLoop> builtin_;  // null in host-loop mode

  // Loop thread only.
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  std::vector<CURL*> idle_easy_;
  std::unordered_map<Transfer*, std::shared_ptr<Transfer>> active_;
  std::unordered_map<int, Interest> watched_;                        // what libcurl asked us to watch
  std::optional<std::pair<std::string, std::shared_ptr<const detail::UrlInfo>>> last_url_;  // the last URL checked
  std::unordered_map<int, std::shared_ptr<FdWatch>> fd_watches_;     // watch_readable() registrations
  std::vector<Transfer*> resolving_orphans_;  // cancelled while resolving; still in active_
  TimerQueue timers_;
  std::optional<TimePoint> curl_deadline_;
  std::optional<TimePoint> armed_;  // what the loop's timer is set to
  bool shutting_down_ = false;

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> thread_running_{false};
  std::thread thread_;
  std::mutex thread_mutex_;

  std::atomic<std::uint64_t> wakeups_{0};
  std::atomic<std::uint64_t> requests_started_{0};
  std::atomic<std::uint64_t> requests_completed_{0};
  std::atomic<std::uint64_t> requests_pending_{0};
  std::atomic<std::uint64_t> timers_pending_{0};
  std::atomic<std::uint64_t> fd_watches_pending_{0};
};

void FdWatch::cancel() noexcept {
  if (cancel_requested.exchange(true, std::memory_order_acq_rel)) return;
  try {
    queue->push([self = shared_from_this()] {
      self->driver->end_watch(*self, cancelled_status("fd watch cancelled"));
    });
  } catch (...) {
  }
}

void Transfer::cancel() noexcept {
  if (cancel_requested.exchange(true, std::memory_order_acq_rel)) return;
  try {
    queue->push([self = shared_from_this()] { self->driver->cancel_transfer(*self); });
  } catch (...) {
    // Out of memory: the request runs to its own end or deadline instead.
  }
}

// ---- setup and teardown ------------------------------------------------------

Status CurlDriver::Impl::init(LoopHooks hooks, std::unique_ptr<EpollLoop> builtin) {
  if (!hooks.watch || !hooks.set_timer) {
    return Status(StatusCode::kInvalidArgument, "LoopHooks needs both watch and set_timer");
  }
  hooks_ = std::move(hooks);
  builtin_ = std::move(builtin);
  multi_ = curl_multi_init();
  share_ = curl_share_init();
  if (!multi_ || !share_) return Status(StatusCode::kTransportError, "libcurl could not create its handles");
  // One loop thread uses the share, so it needs no lock callbacks. TLS session
  // IDs are per easy handle in libcurl 7.88; sharing them lets every request
  // resume TLS sessions.
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (options_.max_connections_per_host > 0) {
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, long(options_.max_connections_per_host));
  }
  if (options_.connection_cache_size > 0) {
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, long(options_.connection_cache_size));
  }
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::on_curl_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  hooks_.watch(queue_->wake_fd(), Interest::kRead);
  return Status();
}

void CurlDriver::Impl::shutdown() {
  join_thread();
  LoopQueue::LoopScope scope(*queue_);
  shutting_down_ = true;
  if (multi_) process_done();  // deliver what already finished
  // Callbacks may start more work; it completes at once as cancelled. Loop
  // until nothing is left.
  for (;;) {
    bool progress = false;
    if (!active_.empty()) {
      fail_everything(cancelled_status("the driver was destroyed before the request completed"));
      progress = true;
    }
    for (auto& timer : timers_.take_all()) {
      timer->complete(cancelled_status("the driver was destroyed before the timer fired"));
      progress = true;
    }
    if (!fd_watches_.empty()) {
      std::vector<std::shared_ptr<FdWatch>> watches;
      for (auto& entry : fd_watches_) watches.push_back(entry.second);
      for (auto& w : watches) end_watch(*w, cancelled_status("the driver was destroyed"));
      progress = true;
    }
    if (queue_->run_pending() > 0) progress = true;
    if (!progress) break;
  }
  queue_->close();
  if (multi_) {
    // Stop the loop watching what libcurl still holds, then silence libcurl:
    // curl_multi_cleanup may still call the socket callback.
    for (auto& entry : watched_) hooks_.watch(entry.first, Interest::kNone);
    watched_.clear();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
    curl_multi_cleanup(multi_);
    multi_ = nullptr;
  }
  for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
  idle_easy_.clear();
  if (share_) curl_share_cleanup(share_);
  share_ = nullptr;
  if (hooks_.watch) hooks_.watch(queue_->wake_fd(), Interest::kNone);
  if (armed_ && hooks_.set_timer) hooks_.set_timer(std::nullopt);
  armed_.reset();
}

// ---- public entry points -----------------------------------------------------

Handle CurlDriver::Impl::send(HttpRequest request, ResponseCallback done) {
  auto transfer = std::make_shared<Transfer>(this, queue_, std::move(request), std::move(done));
  requests_pending_.fetch_add(1, std::memory_order_relaxed);
  queue_->push([this, transfer] { start(transfer); });
  return Handle(transfer);
}

void CurlDriver::Impl::post(std::function<void()> fn) { queue_->post(std::move(fn)); }

Handle CurlDriver::Impl::run_after(std::chrono::nanoseconds delay, TimerCallback fn) {
  auto timer = std::make_shared<Timer>(queue_, std::move(fn), &timers_pending_);
  timers_pending_.fetch_add(1, std::memory_order_relaxed);
  TimePoint now = SteadyClock::now();
  TimePoint deadline = delay >= TimePoint::max() - now ? TimePoint::max() : now + delay;  // no overflow
  queue_->push([this, timer, deadline] {
    if (shutting_down_) {
      timer->complete(cancelled_status("the driver was destroyed before the timer fired"));
    } else if (!timer->done()) {
      timers_.add(deadline, timer);
    }
  });
  return Handle(timer);
}

Handle CurlDriver::Impl::watch_readable(int fd, ReadyCallback on_ready) {
  auto watch = std::make_shared<FdWatch>(this, queue_, fd, std::move(on_ready));
  fd_watches_pending_.fetch_add(1, std::memory_order_relaxed);
  queue_->push([this, watch] {
    if (shutting_down_) {
      end_watch(*watch, cancelled_status("the driver was destroyed"));
    } else if (watch->cancel_requested.load(std::memory_order_acquire)) {
      end_watch(*watch, cancelled_status("fd watch cancelled"));
    } else if (watch->fd < 0) {
      end_watch(*watch, Status(StatusCode::kInvalidArgument,
                               "watch_readable: invalid fd " + std::to_string(watch->fd)));
    } else if (fd_watches_.count(watch->fd) != 0 || watched_.count(watch->fd) != 0 ||
               watch->fd == queue_->wake_fd()) {
      end_watch(*watch, Status(StatusCode::kInvalidArgument,
                               "fd " + std::to_string(watch->fd) + " is already watched by this driver"));
    } else {
      fd_watches_.emplace(watch->fd, watch);
      hooks_.watch(watch->fd, Interest::kRead);
    }
  });
  return Handle(watch);
}

void CurlDriver::Impl::end_watch(FdWatch& watch, const Status& why) {
  if (watch.ended) return;
  watch.ended = true;
  fd_watches_pending_.fetch_sub(1, std::memory_order_relaxed);
  std::shared_ptr<FdWatch> keep;
  if (auto it = fd_watches_.find(watch.fd); it != fd_watches_.end() && it->second.get() == &watch) {
    keep = std::move(it->second);
    fd_watches_.erase(it);
    hooks_.watch(watch.fd, Interest::kNone);
  }
  auto callback = std::move(watch.on_ready);
  watch.on_ready = nullptr;
  invoke_user_code(callback, why);
}

void CurlDriver::Impl::run() {
  if (!builtin_) return;
  while (!stop_requested_.exchange(false, std::memory_order_acq_rel)) builtin_->wait(std::nullopt, *owner_);
}

bool CurlDriver::Impl::run_once(std::chrono::milliseconds max_wait) {
  if (!builtin_) return false;
  return builtin_->wait(max_wait, *owner_);
}

void CurlDriver::Impl::stop() {
  stop_requested_.store(true, std::memory_order_release);
  queue_->push([] {});  // wake the loop so that it sees the flag
}

Status CurlDriver::Impl::start_thread() {
  if (!builtin_) {
    return Status(StatusCode::kInvalidArgument, "start_thread needs a driver with the built-in loop");
  }
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (thread_.joinable()) {
    if (thread_running_.load(std::memory_order_acquire)) {
      return Status(StatusCode::kInvalidArgument, "the driver's thread is already running");
    }
    thread_.join();  // it returned after a stop(): start it again
  }
  try {
    thread_running_.store(true, std::memory_order_release);
    thread_ = std::thread([this] {
      run();
      thread_running_.store(false, std::memory_order_release);
    });
  } catch (const std::system_error& e) {
    thread_running_.store(false, std::memory_order_release);
    return Status(StatusCode::kTransportError, std::string("cannot start the driver's thread: ") + e.what());
  }
  return Status();
}

void CurlDriver::Impl::join_thread() {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (!thread_.joinable()) return;
  stop();
  thread_.join();
}

CurlDriverStats CurlDriver::Impl::stats() const noexcept {
  CurlDriverStats s;
  s.wakeups = wakeups_.load(std::memory_order_relaxed);
  s.requests_started = requests_started_.load(std::memory_order_relaxed);
  s.requests_completed = requests_completed_.load(std::memory_order_relaxed);
  s.requests_pending = requests_pending_.load(std::memory_order_relaxed);
  s.timers_pending = timers_pending_.load(std::memory_order_relaxed);
  s.fd_watches = fd_watches_pending_.load(std::memory_order_relaxed);
  return s;
}

// ---- the loop ----------------------------------------------------------------

void CurlDriver::Impl::on_fd_ready(int fd, int events) {
  LoopQueue::LoopScope scope(*queue_);
  wakeups_.fetch_add(1, std::memory_order_relaxed);
  if (fd == queue_->wake_fd()) {
    queue_->acknowledge_wake();
  } else if (auto it = fd_watches_.find(fd); it != fd_watches_.end()) {
    auto watch = it->second;  // the callback may end the watch
    // Not once cancelled, even if the cancellation's task has not run yet.
    if (!watch->cancel_requested.load(std::memory_order_acquire)) invoke_user_code(watch->on_ready, Status());
  } else if (!shutting_down_) {
    int mask = 0;
    if (events & kFdRead) mask |= CURL_CSELECT_IN;
    if (events & kFdWrite) mask |= CURL_CSELECT_OUT;
    if (events & kFdError) mask |= CURL_CSELECT_ERR;
    int running = 0;
    CURLMcode rc = curl_multi_socket_action(multi_, fd, mask, &running);
    if (rc != CURLM_OK) {
      fail_everything(Status(StatusCode::kTransportError,
                             std::string("libcurl failed on a socket event: ") + curl_multi_strerror(rc)));
    } else {
      process_done();
    }
  }
  after_dispatch();
}

void CurlDriver::Impl::on_timer() {
  LoopQueue::LoopScope scope(*queue_);
  wakeups_.fetch_add(1, std::memory_order_relaxed);
  armed_.reset();  // the loop's timer is one-shot
  TimePoint now = SteadyClock::now();
  if (curl_deadline_ && *curl_deadline_ <= now && !shutting_down_) {
    curl_deadline_.reset();
    int running = 0;
    CURLMcode rc = curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    if (rc != CURLM_OK) {
      fail_everything(Status(StatusCode::kTransportError,
                             std::string("libcurl failed on a timeout: ") + curl_multi_strerror(rc)));
    } else {
      process_done();
    }
  }
  for (auto& timer : timers_.take_due(now)) timer->complete(Status());
  after_dispatch();
}

void CurlDriver::Impl::after_dispatch() {
  queue_->run_pending();
  if (!resolving_orphans_.empty()) detach_resolved_orphans();
  rearm_timer();
}

void CurlDriver::Impl::rearm_timer() {
  std::optional<TimePoint> next = curl_deadline_;
  if (auto timer = timers_.next_deadline(); timer && (!next || *timer < *next)) next = timer;
  if (next == armed_) return;
  armed_ = next;
  if (!next) {
    hooks_.set_timer(std::nullopt);
    return;
  }
  // A far deadline is armed a day at a time (the loop's timer may not hold
  // more): when it fires early, nothing is due and it is armed again.
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - SteadyClock::now());
  hooks_.set_timer(std::clamp(left, std::chrono::milliseconds(0), detail::kLongestLoopTimer));
}

// ---- libcurl callbacks -------------------------------------------------------

int CurlDriver::Impl::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) noexcept {
  auto* impl = static_cast<Impl*>(self);
  Interest interest = Interest::kNone;
  switch (what) {
    case CURL_POLL_IN: interest = Interest::kRead; break;
    case CURL_POLL_OUT: interest = Interest::kWrite; break;
    case CURL_POLL_INOUT: interest = Interest::kReadWrite; break;
    default: break;  // CURL_POLL_REMOVE: not "closed"; the fd may come back
  }
  try {
    if (interest == Interest::kNone) {
      impl->watched_.erase(fd);
    } else {
      impl->watched_[fd] = interest;
    }
    impl->hooks_.watch(fd, interest);
  } catch (...) {
    // Out of memory, or a hook that threw: the transfer will hit its deadline.
  }
  return 0;  // -1 would abort every transfer of the multi handle
}

int CurlDriver::Impl::on_curl_timer(CURLM*, long timeout_ms, void* self) noexcept {
  auto* impl = static_cast<Impl*>(self);
  if (timeout_ms < 0) {
    impl->curl_deadline_.reset();
  } else {
    impl->curl_deadline_ = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  }
  try {
    impl->rearm_timer();
  } catch (...) {
  }
  return 0;
}

int CurlDriver::Impl::on_prerequest(void* p, char*, char*, int, int) noexcept {
  // A cancelled transfer left in the multi handle (see cancel_transfer) may
  // still get a connection: it must not send its request on it.
  return static_cast<Transfer*>(p)->completed ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

std::size_t CurlDriver::Impl::on_body(char* data, std::size_t size, std::size_t count, void* p) noexcept {
  auto* t = static_cast<Transfer*>(p);
  std::size_t len = size * count;
  if (t->response.body.size() + len > t->body_cap) {
    t->body_over_cap = true;
    return CURL_WRITEFUNC_ERROR;
  }
  try {
    t->response.body.append(data, len);
  } catch (...) {
    t->out_of_memory = true;
    return CURL_WRITEFUNC_ERROR;
  }
  return len;
}

std::size_t CurlDriver::Impl::on_header(char* data, std::size_t size, std::size_t count, void* p) noexcept {
  auto* t = static_cast<Transfer*>(p);
  std::size_t len = size * count;
  t->header_bytes += len;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_over_cap = true;
    return CURL_WRITEFUNC_ERROR;
  }
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  try {
    if (line.substr(0, 5) == "HTTP/") {
      t->response.headers.clear();  // a new response (after 100 Continue, say)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      t->response.headers.add(std::string(line.substr(0, colon)), std::string(value));
    }
  } catch (...) {
    t->out_of_memory = true;
    return CURL_WRITEFUNC_ERROR;
  }
  return len;
}

curl_socket_t CurlDriver::Impl::on_open_socket(void*, curlsocktype, curl_sockaddr* address) noexcept {
  // libcurl 7.88 never sets close-on-exec; a host that forks and execs must
  // not leak our connections into its children.
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// ---- transfers ---------------------------------------------------------------

void CurlDriver::Impl::start(const std::shared_ptr<Transfer>& transfer) {
  Transfer& t = *transfer;
  if (shutting_down_) {
    complete(t, cancelled_status("the driver was destroyed before the request started"));
    return;
  }
  if (t.cancel_requested.load(std::memory_order_acquire)) {
    complete(t, cancelled_status("request cancelled"));
    return;
  }
  requests_started_.fetch_add(1, std::memory_order_relaxed);
  // Token requests go to one URL over and over: remember the last verdict.
  if (!last_url_ || last_url_->first != t.request.url) {
    auto url = detail::check_request_url(t.request.url);
    if (!url) {
      complete(t, url.status());
      return;
    }
    last_url_.emplace(t.request.url, std::make_shared<const detail::UrlInfo>(std::move(*url)));
  }
  t.url = last_url_->second;
  if (has_line_break(t.request.method) || t.request.method.empty() ||
      t.request.method.find(' ') != std::string::npos) {
    complete(t, Status(StatusCode::kInvalidArgument, "invalid HTTP method \"" + t.request.method + "\""));
    return;
  }
  for (const auto& field : t.request.headers) {
    if (field.first.empty() || has_line_break(field.first) || has_line_break(field.second) ||
        field.first.find(':') != std::string::npos) {
      complete(t,
               Status(StatusCode::kInvalidArgument,
                      "invalid header field name or value (empty name, ':' in the name, or a line break)"));
      return;
    }
  }
  if (!idle_easy_.empty()) {
    t.easy = idle_easy_.back();
    idle_easy_.pop_back();
  } else {
    t.easy = curl_easy_init();
  }
  Status configured =
      t.easy ? configure(t) : Status(StatusCode::kTransportError, "libcurl could not create a handle");
  if (configured.ok()) {
    CURLMcode rc = curl_multi_add_handle(multi_, t.easy);
    if (rc != CURLM_OK) {
      configured = Status(StatusCode::kTransportError,
                          std::string("libcurl refused the request: ") + curl_multi_strerror(rc));
    }
  }
  if (!configured.ok()) {
    release_handles(t);
    complete(t, configured);
    return;
  }
  active_.emplace(&t, transfer);
}

Status CurlDriver::Impl::configure(Transfer& t) {
  CURL* e = t.easy;
  const HttpRequest& r = t.request;
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  t.body_cap = r.max_response_bytes ? r.max_response_bytes : options_.max_response_bytes;
  auto timeout = r.timeout.count() > 0 ? r.timeout : options_.default_timeout;

  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, t.url->scheme == "http" ? "http" : "https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_SSLVERSION, long(CURL_SSLVERSION_TLSv1_2));
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_bundle.empty()) set(CURLOPT_CAINFO, options_.ca_bundle.c_str());
  set(CURLOPT_OPENSOCKETFUNCTION, &Impl::on_open_socket);
  set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
  set(CURLOPT_CONNECTTIMEOUT_MS, long(options_.connect_timeout.count()));
  set(CURLOPT_TIMEOUT_MS, long(timeout.count()));
  set(CURLOPT_MAXFILESIZE_LARGE, curl_off_t(t.body_cap));
  set(CURLOPT_PREREQFUNCTION, &Impl::on_prerequest);
  set(CURLOPT_PREREQDATA, static_cast<void*>(&t));
  set(CURLOPT_WRITEFUNCTION, &Impl::on_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_HEADERFUNCTION, &Impl::on_header);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_ERRORBUFFER, t.error_buffer);
  set(CURLOPT_USERAGENT, user_agent_.c_str());
  set(CURLOPT_SHARE, share_);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  if (t.url->loopback) set(CURLOPT_PROXY, "");  // loopback never goes through a proxy
  if (r.fresh_connection) {
    set(CURLOPT_FRESH_CONNECT, 1L);
    set(CURLOPT_FORBID_REUSE, 1L);
  }
  if (r.method == "GET" && r.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    if (r.method != "POST") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
    // The body lives in the Transfer until the handle is detached, so libcurl
    // need not copy it.
    set(CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(r.body.size()));
    set(CURLOPT_POSTFIELDS, r.body.data());
  }
  std::string line;
  for (const auto& [name, value] : r.headers) {
    // "Name;" is libcurl's spelling of a header with an empty value.
    line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* next = curl_slist_append(t.header_list, line.c_str());
    if (!next) return Status(StatusCode::kTransportError, "out of memory building request headers");
    t.header_list = next;
  }
  if (!r.headers.contains("expect")) {
    curl_slist* next = curl_slist_append(t.header_list, "Expect:");
    if (next) t.header_list = next;
  }
  set(CURLOPT_HTTPHEADER, t.header_list);
  if (rc != CURLE_OK) {
    return Status(StatusCode::kTransportError,
                  std::string("libcurl refused an option: ") + curl_easy_strerror(rc));
  }
  return Status();
}

std::shared_ptr<Transfer> CurlDriver::Impl::detach(Transfer& t) {
  if (!resolving_orphans_.empty()) {
    resolving_orphans_.erase(std::remove(resolving_orphans_.begin(), resolving_orphans_.end(), &t),
                             resolving_orphans_.end());
  }
  auto it = active_.find(&t);
  std::shared_ptr<Transfer> keep = std::move(it->second);
  active_.erase(it);
  curl_multi_remove_handle(multi_, t.easy);
  release_handles(t);
  return keep;
}

void CurlDriver::Impl::release_handles(Transfer& t) noexcept {
  if (t.easy) recycle(t.easy);
  t.easy = nullptr;
  curl_slist_free_all(t.header_list);
  t.header_list = nullptr;
}

void CurlDriver::Impl::recycle(CURL* easy) noexcept {
  // A reset handle keeps its TLS session and DNS caches.
  if (idle_easy_.size() < options_.idle_handle_cache && !shutting_down_) {
    curl_easy_reset(easy);
    try {
      idle_easy_.push_back(easy);
      return;
    } catch (...) {
    }
  }
  curl_easy_cleanup(easy);
}

void CurlDriver::Impl::process_done() {
  struct Done {
    Transfer* transfer;
    CURLcode code;
  };
  std::vector<Done> done;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* p = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
    done.push_back(Done{static_cast<Transfer*>(p), msg->data.result});
  }
  if (done.empty()) return;
  // Finish libcurl's bookkeeping for all of them before any user code runs:
  // a callback may send, cancel, or drop the last reference to anything.
  std::vector<std::pair<std::shared_ptr<Transfer>, StatusOr<HttpResponse>>> finished;
  finished.reserve(done.size());
  for (const Done& d : done) {
    StatusOr<HttpResponse> result = result_of(*d.transfer, d.code);
    finished.emplace_back(detach(*d.transfer), std::move(result));
  }
  for (auto& [transfer, result] : finished) complete(*transfer, std::move(result));
}

void CurlDriver::Impl::fail_everything(const Status& status) {
  // A failed curl_multi_socket_action leaves every transfer in doubt.
  std::vector<Transfer*> transfers;
  for (auto& entry : active_) transfers.push_back(entry.first);
  std::vector<std::shared_ptr<Transfer>> failed;
  for (Transfer* t : transfers) failed.push_back(detach(*t));
  for (auto& t : failed) complete(*t, status);
}

void CurlDriver::Impl::cancel_transfer(Transfer& t) {
  if (t.completed) return;
  if (t.easy) {
    if (still_resolving(t)) {
      // libcurl 7.88's threaded resolver makes curl_multi_remove_handle wait
      // for getaddrinfo to return, which could block the loop for seconds:
      // report the cancellation now, detach the transfer once its name is
      // resolved (or it ends). A transfer queued for a connection slot looks
      // the same; if it gets one first, on_prerequest stops its request.
      complete(t, cancelled_status("request cancelled"));
      resolving_orphans_.push_back(&t);
      return;
    }
    // libcurl queues no completion for a removed handle: we report it.
    auto keep = detach(t);
    complete(t, cancelled_status("request cancelled"));
  }
  // Not started yet: start() sees cancel_requested and completes it.
}

bool CurlDriver::Impl::still_resolving(Transfer& t) {
  if (t.url->host_is_address) return false;
  curl_off_t name_lookup = 0;
  curl_easy_getinfo(t.easy, CURLINFO_NAMELOOKUP_TIME_T, &name_lookup);
  return name_lookup == 0;
}

void CurlDriver::Impl::detach_resolved_orphans() {
  for (std::size_t i = 0; i < resolving_orphans_.size();) {
    Transfer* t = resolving_orphans_[i];
    if (still_resolving(*t)) {
      ++i;
    } else {
      detach(*t);  // also takes it off this list (one that ended is off it already)
    }
  }
}

void CurlDriver::Impl::complete(Transfer& t, StatusOr<HttpResponse> result) {
  if (t.completed) return;
  t.completed = true;
  requests_pending_.fetch_sub(1, std::memory_order_relaxed);
  requests_completed_.fetch_add(1, std::memory_order_relaxed);
  auto callback = std::move(t.done);
  t.done = nullptr;
  invoke_user_code(callback, std::move(result));
}

StatusOr<HttpResponse> CurlDriver::Impl::result_of(Transfer& t, CURLcode code) {
  if (code == CURLE_OK && !t.body_over_cap && !t.headers_over_cap && !t.out_of_memory) {
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = int(status);
    return std::move(t.response);
  }
  const std::string what = t.request.method + " " + t.url->printable;
  if (t.body_over_cap || code == CURLE_FILESIZE_EXCEEDED) {
    return Status(StatusCode::kTransportError,
                  what + ": the response body exceeds the " + std::to_string(t.body_cap) + "-byte limit");
  }
  if (t.headers_over_cap) {
    return Status(StatusCode::kTransportError, what + ": the response headers exceed the " +
                                                   std::to_string(kMaxHeaderBytes) + "-byte limit");
  }
  if (t.out_of_memory) return Status(StatusCode::kTransportError, what + ": out of memory");
  std::string detail = t.error_buffer[0] ? t.error_buffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status(StatusCode::kTimeout, what + ": timed out (" + detail + ")").with_retryable(true);
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Status(StatusCode::kTransportError, what + " failed: " + detail).with_retryable(true);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return Status(StatusCode::kTransportError, what + ": TLS verification failed (" + detail +
                                                     "); for a private CA, set CurlDriverOptions::ca_bundle");
    case CURLE_URL_MALFORMAT: return Status(StatusCode::kInvalidArgument, what + ": " + detail);
    default: return Status(StatusCode::kTransportError, what + " failed: " + detail);
  }
}

// ---- CurlDriver ----------------------------------------------------------------

StatusOr<std::unique_ptr<CurlDriver>> CurlDriver::create(CurlDriverOptions options) {
  if (Status s = detail::ensure_curl_initialised(); !s.ok()) return s;
  auto loop = EpollLoop::create();
  if (!loop) return loop.status();
  auto queue = LoopQueue::create();
  if (!queue) return queue.status();
  std::unique_ptr<CurlDriver> driver(new CurlDriver(nullptr));
  driver->impl_ = std::make_unique<Impl>(driver.get(), std::move(options), std::move(*queue));
  LoopHooks hooks = (*loop)->hooks();
  if (Status s = driver->impl_->init(std::move(hooks), std::move(*loop)); !s.ok()) return s;
  return driver;
}

StatusOr<std::unique_ptr<CurlDriver>> CurlDriver::create(LoopHooks hooks, CurlDriverOptions options) {
  if (Status s = detail::ensure_curl_initialised(); !s.ok()) return s;
  auto queue = LoopQueue::create();
  if (!queue) return queue.status();
  std::unique_ptr<CurlDriver> driver(new CurlDriver(nullptr));
  driver->impl_ = std::make_unique<Impl>(driver.get(), std::move(options), std::move(*queue));
  if (Status s = driver->impl_->init(std::move(hooks), nullptr); !s.ok()) return s;
  return driver;
}

CurlDriver::CurlDriver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CurlDriver::~CurlDriver() {
  if (impl_) impl_->shutdown();
}

Handle CurlDriver::send(HttpRequest request, ResponseCallback done) {
  return impl_->send(std::move(request), std::move(done));
}
void CurlDriver::post(std::function<void()> fn) { impl_->post(std::move(fn)); }
Handle CurlDriver::run_after(std::chrono::nanoseconds delay, TimerCallback fn) {
  return impl_->run_after(delay, std::move(fn));
}
std::shared_ptr<Executor> CurlDriver::executor() { return impl_->executor(); }
Handle CurlDriver::watch_readable(int fd, ReadyCallback on_ready) {
  return impl_->watch_readable(fd, std::move(on_ready));
}
Clock::SteadyTime CurlDriver::now() const { return std::chrono::steady_clock::now(); }
Clock::WallTime CurlDriver::wall_now() const { return std::chrono::system_clock::now(); }
void CurlDriver::run() { impl_->run(); }
bool CurlDriver::run_once(std::chrono::milliseconds max_wait) { return impl_->run_once(max_wait); }
void CurlDriver::stop() { impl_->stop(); }
Status CurlDriver::start_thread() { return impl_->start_thread(); }
void CurlDriver::on_fd_ready(int fd, int events) { impl_->on_fd_ready(fd, events); }
void CurlDriver::on_timer() { impl_->on_timer(); }
CurlDriverStats CurlDriver::stats() const noexcept { return impl_->stats(); }

}  // namespace gauth
