// CPU cost of a refresh through gauth, against libcurl's own multi interface
// doing the same POSTs with no library around it. Target: gauth's overhead
// over raw libcurl multi under 25 %, over HTTP and HTTPS, with a thousand
// refreshes in flight.
//
// Both sides run on this thread and are measured with its CPU clock; the
// loopback token server runs on its own thread and is not counted.
#include "bench_util.hpp"
#include "test_server.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/oauth2/credentials.hpp>

#include <curl/curl.h>

#include <sys/epoll.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono;

namespace {

constexpr int kInFlight = 1000;
constexpr int kRounds = 11;
constexpr char kAnswer[] =
    R"({"access_token":"ya29.a0AfB_byC-benchmark-token-0123456789abcdefghijklmnopqrstuvwxyz","expires_in":3599,)"
    R"("scope":"https://www.googleapis.com/auth/cloud-platform","token_type":"Bearer"})";

// ---- baseline: a bare libcurl multi loop over epoll -----------------------------

class RawMulti {
 public:
  RawMulti() {
    multi_ = curl_multi_init();
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &RawMulti::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &RawMulti::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    for (auto& e : easies_) e = curl_easy_init();
  }
  ~RawMulti() {
    for (auto& e : easies_) curl_easy_cleanup(e);
    curl_multi_cleanup(multi_);
    close(epoll_);
  }

  void round(const std::string& url, const std::string& body, const std::string& ca_bundle) {
    curl_slist* headers = curl_slist_append(nullptr, "content-type: application/x-www-form-urlencoded");
    for (int i = 0; i < kInFlight; ++i) {
      CURL* e = easies_[i];
      bodies_[i].clear();
      curl_easy_setopt(e, CURLOPT_URL, url.c_str());
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &RawMulti::on_body);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &bodies_[i]);
      if (!ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_bundle.c_str());
      curl_multi_add_handle(multi_, e);
    }
    int done = 0;
    while (done < kInFlight) {
      int timeout =
          deadline_
              ? int(std::max<long>(0, duration_cast<milliseconds>(*deadline_ - steady_clock::now()).count()))
              : -1;
      epoll_event events[64];
      int n = epoll_wait(epoll_, events, 64, timeout);
      int running = 0;
      for (int i = 0; i < n; ++i) {
        int mask = ((events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                   ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0);
        curl_multi_socket_action(multi_, events[i].data.fd, mask, &running);
      }
      if (deadline_ && *deadline_ <= steady_clock::now()) {
        deadline_.reset();
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        bench::require(m->data.result == CURLE_OK, "raw POST succeeded");
        curl_multi_remove_handle(multi_, m->easy_handle);
        ++done;
      }
    }
    curl_slist_free_all(headers);
  }

 private:
  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* r = static_cast<RawMulti*>(self);
    epoll_event ev{};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
      r->watched_.erase(fd);
      epoll_ctl(r->epoll_, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    bool known = r->watched_.count(fd) != 0;
    r->watched_[fd] = true;
    if (epoll_ctl(r->epoll_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
      epoll_ctl(r->epoll_, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
  }
  static int on_timer(CURLM*, long ms, void* self) {
    auto* r = static_cast<RawMulti*>(self);
    if (ms < 0) {
      r->deadline_.reset();
    } else {
      r->deadline_ = steady_clock::now() + milliseconds(ms);
    }
    return 0;
  }
  static size_t on_body(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }

  CURLM* multi_;
  int epoll_;
  CURL* easies_[kInFlight];
  std::string bodies_[kInFlight];
  std::map<int, bool> watched_;
  std::optional<steady_clock::time_point> deadline_;
};

// ---- gauth: refresh() on a thousand credentials at once -------------------------

struct Measured {
  double raw_us;  // thread CPU time per refresh (user + system)
  double gauth_us;
  double raw_user_us;  // of which in user space
  double gauth_user_us;
};

/// GAUTH_BENCH_ONLY=raw or =gauth runs one side alone, GAUTH_BENCH_HTTP_ONLY
/// skips HTTPS (for profiling).
bool run_side(const char* side) {
  const char* only = std::getenv("GAUTH_BENCH_ONLY");
  return only == nullptr || std::string(only) == side;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// CPU time of one round, per refresh: (thread total, user part), microseconds.
template <typename Round>
std::pair<double, double> timed(Round&& round) {
  auto cpu0 = bench::thread_cpu_time();
  auto us0 = bench::thread_user_sys_us();
  round();
  auto us1 = bench::thread_user_sys_us();
  double total = duration<double, std::micro>(bench::thread_cpu_time() - cpu0).count() / kInFlight;
  return {total, (us1.first - us0.first) / kInFlight};
}

Measured measure(TestServer::Tls tls) {
  TestServer server(tls);
  server.set_default(Reply::json(200, kAnswer));
  std::string ca = tls == TestServer::Tls::kOn ? TestServer::ca_bundle_path() : std::string();
  std::string url = server.url("/token");
  const std::string client_id = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com";
  const std::string client_secret = "GOCSPX-abcdefghijklmnopqrstuvwxyz";
  const std::string refresh_token =
      "1//0abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0123456789-"
      "abcdefghijklmnopqrstuvwxyz01";
  // The body gauth sends, so that both sides put the same bytes on the wire.
  std::string body =
      "grant_type=refresh_token&client_id=" + client_id + "&client_secret=" + client_secret +
      "&refresh_token=1%2F%2F0abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0123456789-"
      "abcdefghijklmnopqrstuvwxyz01";

  RawMulti raw;
  auto raw_round = [&] { raw.round(url, body, ca); };

  CurlDriverOptions options;
  options.ca_bundle = ca;
  auto driver = std::move(CurlDriver::create(options)).value();
  std::vector<std::shared_ptr<const oauth2::Credentials>> creds;
  for (int i = 0; i < kInFlight; ++i) {
    creds.push_back(oauth2::Credentials::Builder()
                        .token_uri(url)
                        .client_id(client_id)
                        .client_secret(client_secret)
                        .refresh_token(refresh_token)
                        .build());
  }
  auto gauth_round = [&] {
    int done = 0;
    for (auto& c : creds) {
      c->refresh(*driver, [&](Status s) {
        bench::require(s.ok(), "gauth refresh succeeded");
        ++done;
      });
    }
    while (done < kInFlight) driver->run_once(milliseconds(100));
  };

  // Warm both up (connections, TLS sessions), then alternate rounds so that
  // drift on the machine hits both sides alike; report medians.
  if (run_side("raw")) raw_round();
  if (run_side("gauth")) gauth_round();
  std::vector<double> raw_total, raw_user, gauth_total, gauth_user;
  for (int r = 0; r < kRounds; ++r) {
    if (run_side("raw")) {
      auto [total, user] = timed(raw_round);
      raw_total.push_back(total);
      raw_user.push_back(user);
    }
    if (run_side("gauth")) {
      auto [total, user] = timed(gauth_round);
      gauth_total.push_back(total);
      gauth_user.push_back(user);
    }
  }
  return {median(raw_total), median(gauth_total), median(raw_user), median(gauth_user)};
}

}  // namespace

int main() {
  bench::raise_fd_limit(16384);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::printf(
      "refresh CPU cost on the loop thread, %d refreshes in flight, median of %d alternating rounds\n",
      kInFlight, kRounds);
  std::printf("  %-6s %14s %14s %10s   %s\n", "", "raw libcurl", "gauth", "overhead",
              "(user-space part: raw / gauth)");
  for (auto tls : {TestServer::Tls::kOff, TestServer::Tls::kOn}) {
    if (tls == TestServer::Tls::kOn && std::getenv("GAUTH_BENCH_HTTP_ONLY")) continue;
    Measured m = measure(tls);
    std::printf("  %-6s %11.1f us %11.1f us %9.1f %%   (%.1f / %.1f us)\n",
                tls == TestServer::Tls::kOn ? "HTTPS" : "HTTP", m.raw_us, m.gauth_us,
                100.0 * (m.gauth_us - m.raw_us) / m.raw_us, m.raw_user_us, m.gauth_user_us);
  }
  return 0;
}
