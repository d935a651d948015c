// gauth test kit: the loopback server: listening socket, the epoll loop
// thread, its timers, and the state shared with the test thread.
#include "test_server.hpp"

#include "server_connection.hpp"
#include "server_stream.hpp"
#include "tls_fixtures.hpp"
#include "tls_server_context.hpp"
#include "unique_fd.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <queue>
#include <system_error>
#include <thread>
#include <unordered_map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gauth::test {

namespace {

using Clock = std::chrono::steady_clock;
using detail::ServerConnection;
using detail::UniqueFd;

// epoll keys: connection ids count from 1, so neither collides with one.
constexpr std::uint64_t kListenerKey = 0;
constexpr std::uint64_t kWakeKey = UINT64_MAX;
// Out of file descriptors: stop accepting for a moment rather than spin on
// a listening socket that stays readable.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(20);

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), std::string("TestServer: ") + what);
}

UniqueFd check(int fd, const char* what) {
  if (fd < 0) throw_errno(what);
  return UniqueFd(fd);
}

/// Writes the embedded PEM files to a private directory once per process
/// (libcurl reads a CA bundle from a file); removed when the process exits.
class PemFiles {
 public:
  static const PemFiles& get() {
    static const PemFiles files;
    return files;
  }
  ~PemFiles() {
    ::unlink(ca.c_str());
    ::unlink(other_ca.c_str());
    ::rmdir(directory_.c_str());
  }
  std::string ca;
  std::string other_ca;

 private:
  PemFiles() {
    char dir[] = "/tmp/gauth-testing-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw_errno("mkdtemp");
    directory_ = dir;
    ca = write("ca.pem", detail::kTestCaPem);
    other_ca = write("other-ca.pem", detail::kOtherCaPem);
  }
  std::string write(const char* name, std::string_view pem) {
    std::string path = directory_ + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw_errno("cannot write a CA bundle");
    std::fwrite(pem.data(), 1, pem.size(), f);
    std::fclose(f);
    return path;
  }
  std::string directory_;
};

}  // namespace

class TestServer::Impl final : private detail::ReplySource {
 public:
  explicit Impl(Tls tls);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  int port() const noexcept { return port_; }
  bool tls() const noexcept { return tls_ != nullptr; }

  void enqueue(Reply reply);
  void set_default(Reply reply);
  void set_handler(std::function<Reply(const RecordedRequest&)> handler);
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;
  std::size_t connection_count() const;
  std::size_t open_connection_count() const;
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Watched {
    std::unique_ptr<ServerConnection> connection;
    std::uint32_t registered_events = 0;
    std::optional<Clock::time_point> armed_deadline;  // latest deadline pushed to timers_
  };
  // Timers are never removed, only outdated: one that fires for a closed
  // connection or a deadline that moved is ignored.
  struct Timer {
    Clock::time_point at;
    std::uint64_t connection_id;
    bool operator>(const Timer& other) const noexcept { return at > other.at; }
  };
  using Connections = std::unordered_map<std::uint64_t, Watched>;

  Reply reply_for(const RecordedRequest& request) override;

  void run() noexcept;
  void accept_clients();
  void pause_accepting(Clock::time_point now);
  void fire_timers(Clock::time_point now);
  int wait_timeout_ms(Clock::time_point now) const;
  void settle(Connections::iterator watched);
  void watch_listener(std::uint32_t events);

  // Set up before the loop thread starts, read-only afterwards.
  std::unique_ptr<detail::TlsServerContext> tls_;
  UniqueFd listener_;
  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd: the destructor's "stop now" to the loop thread
  int port_ = 0;

  // Loop thread only.
  Connections connections_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::optional<Clock::time_point> resume_accepting_at_;

  // Shared with the test thread, behind mutex_.
  mutable std::mutex mutex_;
  mutable std::condition_variable request_recorded_;
  std::vector<RecordedRequest> requests_;
  std::deque<Reply> queue_;
  Reply default_reply_;
  std::function<Reply(const RecordedRequest&)> handler_;
  std::size_t accepted_ = 0;
  std::size_t open_ = 0;

  std::atomic<bool> stopping_{false};
  std::thread loop_;  // started last in the constructor, joined first in the destructor
};

TestServer::Impl::Impl(Tls tls) {
  if (tls == Tls::kOn) {
    tls_ = std::make_unique<detail::TlsServerContext>(detail::kServerCertificatePem, detail::kServerKeyPem);
  }
  listener_ = check(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // ephemeral
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_errno("bind");
  if (::listen(listener_.get(), SOMAXCONN) != 0) throw_errno("listen");
  socklen_t length = sizeof address;
  if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw_errno("getsockname");
  }
  port_ = ntohs(address.sin_port);

  epoll_ = check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
  wake_ = check(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenerKey;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &event) != 0) throw_errno("epoll_ctl");
  event.data.u64 = kWakeKey;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0) throw_errno("epoll_ctl");

  loop_ = std::thread([this] { run(); });
}

TestServer::Impl::~Impl() {
  stopping_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  // Cannot fail short of a bug: the counter is far from overflowing.
  [[maybe_unused]] ssize_t written = ::write(wake_.get(), &one, sizeof one);
  loop_.join();
}

void TestServer::Impl::run() noexcept {
  // SSL_write reaches the socket through write(2), which raises SIGPIPE when
  // the client has gone. Block it in this thread only; the process's
  // disposition is the test's business. (A pending SIGPIPE dies with the thread.)
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

  std::array<epoll_event, 256> ready{};
  while (!stopping_.load(std::memory_order_acquire)) {
    int count = ::epoll_wait(epoll_.get(), ready.data(), int(ready.size()), wait_timeout_ms(Clock::now()));
    if (count < 0) {
      if (errno == EINTR) continue;
      break;  // EBADF/EINVAL: a bug; the destructor still joins
    }
    for (int i = 0; i < count; ++i) {
      const std::uint64_t key = ready[std::size_t(i)].data.u64;
      if (key == kListenerKey) {
        accept_clients();
      } else if (key == kWakeKey) {
        std::uint64_t ignored;
        [[maybe_unused]] ssize_t n = ::read(wake_.get(), &ignored, sizeof ignored);
      } else if (auto watched = connections_.find(key); watched != connections_.end()) {
        // Not found: closed earlier in this batch.
        watched->second.connection->on_events(ready[std::size_t(i)].events);
        settle(watched);
      }
    }
    fire_timers(Clock::now());
  }

  // Stopping: every connection, stalled or not, is simply closed.
  connections_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  open_ = 0;
}

void TestServer::Impl::accept_clients() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pause_accepting(Clock::now());
      }
      return;  // EAGAIN: all accepted
    }
    UniqueFd socket(fd);
    // Replies go out in one write, but a drip or a stalled head must not wait on Nagle.
    const int on = 1;
    ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

    std::size_t id;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      id = ++accepted_;
      ++open_;
    }
    detail::ReplySource& replies = *this;
    auto connection = std::make_unique<ServerConnection>(
        id, detail::ServerStream(std::move(socket), tls_ ? tls_->get() : nullptr), replies);
    epoll_event event{};
    event.events = connection->wanted_events();
    event.data.u64 = id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, connection->fd(), &event) != 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      --open_;
      continue;  // the connection closes as it goes out of scope
    }
    connections_.emplace(id, Watched{std::move(connection), event.events, std::nullopt});
  }
}

void TestServer::Impl::pause_accepting(Clock::time_point now) {
  watch_listener(0);
  resume_accepting_at_ = now + kAcceptBackoff;
}

void TestServer::Impl::watch_listener(std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = kListenerKey;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listener_.get(), &event);
}

// Brings epoll and the timers in line with what the connection now wants, or
// forgets it once closed.
void TestServer::Impl::settle(Connections::iterator watched) {
  Watched& entry = watched->second;
  const ServerConnection& connection = *entry.connection;
  if (connection.closed()) {
    connections_.erase(watched);  // its fd is closed already, which also left the epoll set
    std::lock_guard<std::mutex> lock(mutex_);
    --open_;
    return;
  }
  const std::uint32_t events = connection.wanted_events();
  if (events != entry.registered_events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = watched->first;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, connection.fd(), &event);
    entry.registered_events = events;
  }
  const std::optional<Clock::time_point> deadline = connection.deadline();
  if (deadline && deadline != entry.armed_deadline) {
    timers_.push(Timer{*deadline, watched->first});
    entry.armed_deadline = deadline;
  }
}

void TestServer::Impl::fire_timers(Clock::time_point now) {
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer timer = timers_.top();
    timers_.pop();
    auto watched = connections_.find(timer.connection_id);
    if (watched == connections_.end()) continue;
    if (watched->second.armed_deadline == timer.at) watched->second.armed_deadline.reset();
    watched->second.connection->on_deadline(now);
    settle(watched);
  }
  if (resume_accepting_at_ && *resume_accepting_at_ <= now) {
    resume_accepting_at_.reset();
    watch_listener(EPOLLIN);
  }
}

int TestServer::Impl::wait_timeout_ms(Clock::time_point now) const {
  std::optional<Clock::time_point> next = resume_accepting_at_;
  if (!timers_.empty() && (!next || timers_.top().at < *next)) next = timers_.top().at;
  if (!next) return -1;
  if (*next <= now) return 0;
  // Rounded up: waking before the deadline would only spin through another wait.
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return int(std::min<decltype(wait)>(wait, INT_MAX));
}

Reply TestServer::Impl::reply_for(const RecordedRequest& request) {
  std::function<Reply(const RecordedRequest&)> handler;
  Reply reply;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(request);
    if (handler_) {
      handler = handler_;
    } else if (!queue_.empty()) {
      reply = std::move(queue_.front());
      queue_.pop_front();
    } else {
      reply = default_reply_;
    }
  }
  request_recorded_.notify_all();
  if (!handler) return reply;
  // Outside the lock, so the handler may call back into the server. An
  // exception must not escape into the loop thread; it becomes a 500.
  try {
    return handler(request);
  } catch (const std::exception& error) {
    return Reply::text(500, std::string("TestServer handler threw: ") + error.what() + "\n");
  } catch (...) {
    return Reply::text(500, "TestServer handler threw\n");
  }
}

void TestServer::Impl::enqueue(Reply reply) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(std::move(reply));
}

void TestServer::Impl::set_default(Reply reply) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_reply_ = std::move(reply);
}

void TestServer::Impl::set_handler(std::function<Reply(const RecordedRequest&)> handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  handler_ = std::move(handler);
}

std::vector<RecordedRequest> TestServer::Impl::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::size_t TestServer::Impl::request_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size();
}

std::size_t TestServer::Impl::connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return accepted_;
}

std::size_t TestServer::Impl::open_connection_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_;
}

bool TestServer::Impl::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return request_recorded_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

// ---------------------------------------------------------------------------

TestServer::TestServer(Tls tls) : impl_(std::make_unique<Impl>(tls)) {}
TestServer::~TestServer() = default;

int TestServer::port() const { return impl_->port(); }

std::string TestServer::url(const std::string& path) const {
  // The certificate names localhost; plain HTTP uses the address itself so no resolver is involved.
  std::string origin = impl_->tls() ? "https://localhost:" : "http://127.0.0.1:";
  return origin + std::to_string(impl_->port()) + path;
}

void TestServer::enqueue(Reply reply) { impl_->enqueue(std::move(reply)); }
void TestServer::set_default(Reply reply) { impl_->set_default(std::move(reply)); }
void TestServer::set_handler(std::function<Reply(const RecordedRequest&)> handler) {
  impl_->set_handler(std::move(handler));
}
std::vector<RecordedRequest> TestServer::requests() const { return impl_->requests(); }
std::size_t TestServer::request_count() const { return impl_->request_count(); }
std::size_t TestServer::connection_count() const { return impl_->connection_count(); }
std::size_t TestServer::open_connection_count() const { return impl_->open_connection_count(); }
bool TestServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->wait_for_requests(n, timeout);
}

std::string TestServer::ca_bundle_path() { return PemFiles::get().ca; }
std::string TestServer::other_ca_bundle_path() { return PemFiles::get().other_ca; }

}  // namespace gauth::test
