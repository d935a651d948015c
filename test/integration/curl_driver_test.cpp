// CurlDriver with its built-in loop, against the loopback test server.
#include "driver_fixture.hpp"
#include "test_server.hpp"

#include <gauth/curl_driver.hpp>
#include <gauth/version.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono_literals;
using Fault = Reply::Fault;

namespace {

void raise_fd_limit(rlim_t wanted) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < wanted) {
    lim.rlim_cur = std::min(wanted, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

StatusOr<HttpResponse> fetch(CurlDriver& driver, HttpRequest request) {
  ResponseOutcome out;
  driver.send(std::move(request), out.callback());
  REQUIRE(run_until(driver, [&] { return out.done(); }));
  CHECK(out.calls == 1);
  return std::move(*out.value);
}

Status fetch_error(CurlDriver& driver, HttpRequest request) {
  auto result = fetch(driver, std::move(request));
  REQUIRE_FALSE(result.ok());
  return result.status();
}

}  // namespace

TEST_CASE("a GET returns the status, headers and body the server sent", "[driver]") {
  TestServer server;
  Reply reply = Reply::json(201, R"({"ok":true})");
  reply.headers.emplace_back("X-Extra", "  padded value  ");
  server.enqueue(reply);
  auto driver = make_driver();
  auto result = fetch(*driver, get(server.url("/path?q=1")));
  REQUIRE(result.ok());
  CHECK(result->status == 201);
  CHECK(result->body == R"({"ok":true})");
  CHECK(result->headers.value_or_empty("content-type") == "application/json");
  CHECK(result->headers.value_or_empty("x-extra") == "padded value");
  REQUIRE(server.request_count() == 1);
  auto recorded = server.requests().front();
  CHECK(recorded.method == "GET");
  CHECK(recorded.target == "/path?q=1");
  CHECK(recorded.header("user-agent") == std::string("gauth/") + GAUTH_VERSION_STRING);
}

TEST_CASE("a POST sends its method, headers and body byte for byte", "[driver]") {
  TestServer server;
  auto driver = make_driver();
  HttpRequest request = post(server.url("/token"), "grant_type=refresh_token&a=%2F+b");
  request.headers.set("X-Goog-Test", "v1");
  request.headers.set("x-empty", "");
  REQUIRE(fetch(*driver, request).ok());
  auto recorded = server.requests().at(0);
  CHECK(recorded.method == "POST");
  CHECK(recorded.target == "/token");
  CHECK(recorded.body == "grant_type=refresh_token&a=%2F+b");
  CHECK(recorded.header("content-type") == "application/x-www-form-urlencoded");
  CHECK(recorded.header("content-length") == "32");
  CHECK(recorded.header("x-goog-test") == "v1");
  CHECK(recorded.header_count("x-empty") == 1);
  CHECK(recorded.header_count("expect") == 0);
  CHECK(recorded.header_count("authorization") == 0);
}

TEST_CASE("other methods carry their body too", "[driver]") {
  TestServer server;
  auto driver = make_driver();
  HttpRequest request = post(server.url("/x"), "payload");
  request.method = "PUT";
  REQUIRE(fetch(*driver, request).ok());
  CHECK(server.requests().at(0).method == "PUT");
  CHECK(server.requests().at(0).body == "payload");
}

TEST_CASE("callbacks run on the loop thread, never inline from send", "[driver][contract]") {
  TestServer server;
  auto driver = make_driver();
  bool send_returned = false;
  bool ran_inline = false;
  std::thread::id callback_thread;
  ResponseOutcome out;
  driver->send(get(server.url()), [&](StatusOr<HttpResponse> r) {
    ran_inline = !send_returned;
    callback_thread = std::this_thread::get_id();
    out.callback()(std::move(r));
  });
  send_returned = true;
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK_FALSE(ran_inline);
  CHECK(callback_thread == std::this_thread::get_id());
}

TEST_CASE("even an immediately refused request completes later, not inline", "[driver][contract]") {
  auto driver = make_driver();
  ResponseOutcome out;
  driver->send(get("ftp://127.0.0.1/file"), out.callback());
  CHECK(out.calls == 0);
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK(out.value->status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("1000 concurrent requests complete exactly once each and reuse connections", "[driver][load]") {
  raise_fd_limit(8192);
  TestServer server;
  server.set_default(Reply::json(200, R"({"access_token":"x"})"));
  CurlDriverOptions options;
  options.connection_cache_size = 2000;  // keep every connection of the first wave
  auto driver = make_driver(options);
  constexpr int kRequests = 1000;
  std::vector<int> calls(kRequests, 0);
  int ok = 0;
  auto batch = [&] {
    for (int i = 0; i < kRequests; ++i) {
      driver->send(post(server.url("/token"), "n=" + std::to_string(i)), [&, i](StatusOr<HttpResponse> r) {
        ++calls[i];
        if (r.ok() && r->status == 200) ++ok;
      });
    }
  };
  batch();
  REQUIRE(run_until(
      *driver, [&] { return driver->stats().requests_pending == 0; }, 60s));
  CHECK(ok == kRequests);
  for (int c : calls) REQUIRE(c == 1);
  std::size_t connections_after_first = server.connection_count();
  CHECK(connections_after_first <= std::size_t(kRequests));

  batch();
  REQUIRE(run_until(
      *driver, [&] { return driver->stats().requests_pending == 0; }, 60s));
  CHECK(ok == 2 * kRequests);
  for (int c : calls) REQUIRE(c == 2);
  // The second wave rides on the pooled connections of the first.
  CHECK(server.connection_count() - connections_after_first < 50);
  CHECK(server.request_count() == 2 * kRequests);
  CHECK(driver->stats().requests_completed == 2 * kRequests);
}

TEST_CASE("sequential requests reuse one connection", "[driver]") {
  TestServer server;
  auto driver = make_driver();
  for (int i = 0; i < 5; ++i) REQUIRE(fetch(*driver, get(server.url())).ok());
  CHECK(server.connection_count() == 1);
}

TEST_CASE("a fresh_connection request opens a new connection and does not pool it", "[driver]") {
  TestServer server;
  auto driver = make_driver();
  REQUIRE(fetch(*driver, get(server.url())).ok());
  HttpRequest fresh = get(server.url());
  fresh.fresh_connection = true;
  REQUIRE(fetch(*driver, fresh).ok());
  REQUIRE(fetch(*driver, get(server.url())).ok());
  CHECK(server.connection_count() == 2);
}

TEST_CASE("max_connections_per_host queues requests over the limit", "[driver]") {
  TestServer server;
  Reply slow = Reply::text(200, "ok");
  slow.delay = 20ms;
  server.set_default(slow);
  CurlDriverOptions options;
  options.max_connections_per_host = 2;
  auto driver = make_driver(options);
  int done = 0;
  for (int i = 0; i < 10; ++i) {
    driver->send(get(server.url()), [&](StatusOr<HttpResponse> r) { done += r.ok(); });
  }
  REQUIRE(run_until(*driver, [&] { return done == 10; }));
  CHECK(server.connection_count() <= 2);
}

TEST_CASE("cancelling before the request starts completes it once with kCancelled and sends nothing",
          "[driver][cancel]") {
  TestServer server;
  auto driver = make_driver();
  ResponseOutcome out;
  Handle handle = driver->send(get(server.url()), out.callback());
  CHECK(handle.active());
  handle.cancel();
  CHECK(out.calls == 0);  // never inline
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  driver->run_once(50ms);
  CHECK(out.calls == 1);
  CHECK(out.value->status().code() == StatusCode::kCancelled);
  CHECK(server.request_count() == 0);
  CHECK_FALSE(handle.active());
}

TEST_CASE("cancelling a request in flight aborts the transfer and completes it once", "[driver][cancel]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kStall));
  auto driver = make_driver();
  ResponseOutcome out;
  Handle handle = driver->send(get(server.url()), out.callback());
  REQUIRE(run_until(*driver, [&] { return server.request_count() == 1; }));
  handle.cancel();
  handle.cancel();  // idempotent
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK(out.value->status().code() == StatusCode::kCancelled);
  // The connection is closed, not left for the stall to hold.
  CHECK(run_until(
      *driver, [&] { return server.open_connection_count() == 0; }, 5s));
  driver->run_once(20ms);
  CHECK(out.calls == 1);
}

TEST_CASE("a request cancelled while queued for a connection slot is never sent", "[driver][cancel]") {
  // By host name, so that cancelling takes the path that waits for the name
  // lookup instead of removing the transfer at once.
  TestServer server;
  Reply slow = Reply::text(200, "ok");
  slow.delay = 300ms;
  server.set_default(slow);
  std::string url = server.url("/");
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  CurlDriverOptions options;
  options.max_connections_per_host = 1;
  auto driver = make_driver(options);
  ResponseOutcome first;
  ResponseOutcome queued;
  driver->send(get(url), first.callback());
  Handle handle = driver->send(get(url), queued.callback());
  REQUIRE(run_until(*driver, [&] { return server.request_count() == 1; }));
  handle.cancel();
  REQUIRE(run_until(*driver, [&] { return first.done() && queued.done(); }));
  CHECK(first.value->ok());
  CHECK(queued.value->status().code() == StatusCode::kCancelled);
  // Long enough for the freed connection to have carried the second request.
  auto until = std::chrono::steady_clock::now() + 400ms;
  while (std::chrono::steady_clock::now() < until) driver->run_once(50ms);
  CHECK(server.request_count() == 1);
  CHECK(queued.calls == 1);
}

TEST_CASE("cancelling after completion does nothing", "[driver][cancel]") {
  TestServer server;
  auto driver = make_driver();
  ResponseOutcome out;
  Handle handle = driver->send(get(server.url()), out.callback());
  REQUIRE(run_until(*driver, [&] { return out.done(); }));
  CHECK_FALSE(handle.active());
  handle.cancel();
  driver->run_once(20ms);
  CHECK(out.calls == 1);
  CHECK(out.value->ok());
}

TEST_CASE("cancelling from another thread while the loop runs completes the request once",
          "[driver][cancel][threads]") {
  TestServer server;
  server.set_default(Reply::with_fault(Fault::kStall));
  auto driver = make_driver();
  constexpr int kRequests = 20;
  std::vector<Handle> handles;
  std::atomic<int> cancelled{0};
  std::atomic<int> calls{0};
  for (int i = 0; i < kRequests; ++i) {
    handles.push_back(driver->send(get(server.url()), [&](StatusOr<HttpResponse> r) {
      ++calls;
      if (r.status().code() == StatusCode::kCancelled) ++cancelled;
    }));
  }
  REQUIRE(run_until(*driver, [&] { return server.request_count() == kRequests; }));
  std::thread canceller([&] {
    for (auto& h : handles) h.cancel();
  });
  REQUIRE(run_until(*driver, [&] { return calls == kRequests; }));
  canceller.join();
  driver->run_once(20ms);
  CHECK(calls == kRequests);
  CHECK(cancelled == kRequests);
}

TEST_CASE("a callback may cancel another request and start a new one", "[driver][cancel][contract]") {
  TestServer server;
  server.set_handler([](const RecordedRequest& r) {
    if (r.target == "/stall") return Reply::with_fault(Fault::kStall);
    Reply reply = Reply::text(200, r.target);
    if (r.target == "/first") reply.delay = 100ms;
    return reply;
  });
  auto driver = make_driver();
  ResponseOutcome stalled_out, third_out;
  Handle stalled = driver->send(get(server.url("/stall")), stalled_out.callback());
  driver->send(get(server.url("/first")), [&](StatusOr<HttpResponse> r) {
    REQUIRE(r.ok());
    stalled.cancel();
    driver->send(get(server.url("/third")), third_out.callback());
  });
  REQUIRE(run_until(*driver, [&] { return stalled_out.done() && third_out.done(); }));
  CHECK(stalled_out.value->status().code() == StatusCode::kCancelled);
  REQUIRE(third_out.value->ok());
  CHECK((*third_out.value)->body == "/third");
}

TEST_CASE("each request has its own deadline", "[driver][deadline]") {
  TestServer server;
  server.set_handler([](const RecordedRequest& r) {
    return r.target == "/stall" ? Reply::with_fault(Fault::kStall) : Reply::text(200, "quick");
  });
  auto driver = make_driver();
  HttpRequest stalled = get(server.url("/stall"));
  stalled.timeout = 200ms;
  HttpRequest patient = get(server.url("/stall"));
  patient.timeout = 5s;
  ResponseOutcome short_out, long_out, quick_out;
  Handle patient_handle = driver->send(patient, long_out.callback());
  auto started = std::chrono::steady_clock::now();
  driver->send(stalled, short_out.callback());
  driver->send(get(server.url("/quick")), quick_out.callback());
  REQUIRE(run_until(*driver, [&] { return short_out.done() && quick_out.done(); }));
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(elapsed >= 200ms);
  Status s = short_out.value->status();
  CHECK(s.code() == StatusCode::kTimeout);
  CHECK(s.retryable());
  CHECK_THAT(s.message(), Catch::Contains("timed out"));
  CHECK_THAT(s.message(), Catch::Contains("GET http://127.0.0.1:"));
  CHECK(quick_out.value->ok());
  CHECK_FALSE(long_out.done());  // its own deadline is much later
  patient_handle.cancel();
  REQUIRE(run_until(*driver, [&] { return long_out.done(); }));
}

TEST_CASE("the default deadline applies to requests without one", "[driver][deadline]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kStall));
  CurlDriverOptions options;
  options.default_timeout = 150ms;
  auto driver = make_driver(options);
  CHECK(fetch_error(*driver, get(server.url())).code() == StatusCode::kTimeout);
}

TEST_CASE("post runs tasks from any thread on the loop thread, in each thread's order", "[driver][threads]") {
  auto driver = make_driver();
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<bool> wrong_thread{false};
  auto loop_thread = std::this_thread::get_id();
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        driver->post([&, t, i] {
          if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
          seen[t].push_back(i);
        });
      }
    });
  }
  auto total = [&] {
    std::size_t n = 0;
    for (auto& s : seen) n += s.size();
    return n;
  };
  REQUIRE(run_until(*driver, [&] { return total() == std::size_t(kThreads * kEach); }));
  for (auto& t : posters) t.join();
  CHECK_FALSE(wrong_thread);
  for (auto& s : seen) {
    REQUIRE(s.size() == std::size_t(kEach));
    CHECK(std::is_sorted(s.begin(), s.end()));
  }
}

TEST_CASE("a post from another thread wakes a loop blocked in run()", "[driver][threads]") {
  auto driver = make_driver();
  std::promise<std::thread::id> ran_on;
  std::thread loop([&] { driver->run(); });
  std::this_thread::sleep_for(50ms);  // let run() block in epoll_wait
  driver->post([&] {
    ran_on.set_value(std::this_thread::get_id());
    driver->stop();
  });
  auto future = ran_on.get_future();
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  CHECK(future.get() == loop.get_id());
  loop.join();
}

TEST_CASE("stop before run makes run return at once", "[driver]") {
  auto driver = make_driver();
  driver->stop();
  driver->run();  // returns
  SUCCEED();
}

TEST_CASE("a driver thread serves requests sent from other threads", "[driver][threads]") {
  TestServer server;
  auto driver = make_driver();
  REQUIRE(driver->start_thread().ok());
  CHECK(driver->start_thread().code() == StatusCode::kInvalidArgument);
  std::promise<StatusOr<HttpResponse>> result;
  driver->send(get(server.url()), [&](StatusOr<HttpResponse> r) { result.set_value(std::move(r)); });
  auto future = result.get_future();
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  CHECK(future.get().ok());
  driver.reset();  // stops and joins the thread
}

TEST_CASE("timers fire in deadline order on the loop thread, never inline", "[driver][timer]") {
  auto driver = make_driver();
  std::vector<std::string> order;
  auto start = std::chrono::steady_clock::now();
  driver->run_after(60ms, [&](Status s) { order.push_back("late:" + std::string(s.ok() ? "ok" : "x")); });
  driver->run_after(10ms, [&](Status s) { order.push_back("early:" + std::string(s.ok() ? "ok" : "x")); });
  driver->run_after(0ms, [&](Status) { order.push_back("zero"); });
  CHECK(order.empty());
  REQUIRE(run_until(*driver, [&] { return order.size() == 3; }));
  CHECK(std::chrono::steady_clock::now() - start >= 60ms);
  CHECK(order == std::vector<std::string>{"zero", "early:ok", "late:ok"});
  CHECK(driver->stats().timers_pending == 0);
}

TEST_CASE("a cancelled timer runs once with kCancelled, promptly", "[driver][timer][cancel]") {
  auto driver = make_driver();
  Outcome<Status> out;
  Handle h = driver->run_after(10s, out.callback());
  h.cancel();
  CHECK(out.calls == 0);
  REQUIRE(run_until(
      *driver, [&] { return out.done(); }, 2s));
  CHECK(out.value->code() == StatusCode::kCancelled);
  driver->run_once(20ms);
  CHECK(out.calls == 1);
}

TEST_CASE("destroying the driver completes every request, timer and post exactly once",
          "[driver][teardown]") {
  int fds_before = open_fd_count();
  auto server = std::make_unique<TestServer>();
  server->set_default(Reply::with_fault(Fault::kStall));
  constexpr int kRequests = 50;
  std::vector<int> request_calls(kRequests, 0);
  std::vector<StatusCode> codes(kRequests, StatusCode::kOk);
  int timer_calls = 0, post_calls = 0, late_calls = 0;
  StatusCode timer_code = StatusCode::kOk, late_code = StatusCode::kOk;
  {
    auto driver = make_driver();
    for (int i = 0; i < kRequests; ++i) {
      driver->send(get(server->url()), [&, i, d = driver.get()](StatusOr<HttpResponse> r) {
        ++request_calls[i];
        codes[i] = r.status().code();
        if (i == 0) {
          // Work started from a callback during teardown is cancelled too.
          d->send(get(server->url()), [&](StatusOr<HttpResponse> r2) {
            ++late_calls;
            late_code = r2.status().code();
          });
        }
      });
    }
    driver->run_after(1h, [&](Status s) {
      ++timer_calls;
      timer_code = s.code();
    });
    REQUIRE(run_until(*driver, [&] { return server->request_count() == kRequests; }));
    driver->post([&] { ++post_calls; });
  }
  for (int i = 0; i < kRequests; ++i) {
    CHECK(request_calls[i] == 1);
    CHECK(codes[i] == StatusCode::kCancelled);
  }
  CHECK(timer_calls == 1);
  CHECK(timer_code == StatusCode::kCancelled);
  CHECK(post_calls == 1);
  CHECK(late_calls == 1);
  CHECK(late_code == StatusCode::kCancelled);
  // Every connection, the epoll set and the eventfd are closed (the server's
  // ends too, once it is gone).
  server.reset();
  CHECK(open_fd_count() <= fds_before);
}

TEST_CASE("TLS with the right CA bundle is accepted", "[driver][tls]") {
  TestServer server(TestServer::Tls::kOn);
  server.enqueue(Reply::text(200, "secure"));
  CurlDriverOptions options;
  options.ca_bundle = TestServer::ca_bundle_path();
  auto driver = make_driver(options);
  auto result = fetch(*driver, get(server.url("/s")));
  REQUIRE(result.ok());
  CHECK(result->body == "secure");
  CHECK(server.requests().at(0).target == "/s");
}

TEST_CASE("TLS with an unknown CA is refused with a clear, non-retryable error", "[driver][tls]") {
  TestServer server(TestServer::Tls::kOn);
  CurlDriverOptions options;
  options.ca_bundle = TestServer::other_ca_bundle_path();
  auto driver = make_driver(options);
  Status s = fetch_error(*driver, get(server.url()));
  CHECK(s.code() == StatusCode::kTransportError);
  CHECK_FALSE(s.retryable());
  CHECK_THAT(s.message(), Catch::Contains("TLS verification failed"));
  CHECK(server.request_count() == 0);
}

TEST_CASE("TLS against the system store refuses the test CA", "[driver][tls]") {
  TestServer server(TestServer::Tls::kOn);
  auto driver = make_driver();
  Status s = fetch_error(*driver, get(server.url()));
  CHECK(s.code() == StatusCode::kTransportError);
  CHECK(server.request_count() == 0);
}

TEST_CASE("plain http to a non-loopback host is refused before any connection", "[driver][security]") {
  auto driver = make_driver();
  Status s = fetch_error(*driver, get("http://oauth2.googleapis.com/token"));
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("only https is allowed"));
  CHECK(driver->stats().requests_completed == 1);
}

TEST_CASE("redirects are not followed: the 3xx comes back as it is", "[driver][security]") {
  TestServer target;
  TestServer server;
  server.enqueue(Reply::redirect(302, target.url("/stolen")));
  auto driver = make_driver();
  auto result = fetch(*driver, post(server.url("/token"), "secret=1"));
  REQUIRE(result.ok());
  CHECK(result->status == 302);
  CHECK(result->headers.value_or_empty("location") == target.url("/stolen"));
  driver->run_once(50ms);
  CHECK(target.request_count() == 0);
}

TEST_CASE("header fields with line breaks are refused", "[driver][security]") {
  TestServer server;
  auto driver = make_driver();
  HttpRequest r = get(server.url());
  r.headers.set("x-bad", "a\r\nInjected: yes");
  Status s = fetch_error(*driver, r);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(server.request_count() == 0);
}

TEST_CASE("a body over the size cap is refused", "[driver][limits]") {
  TestServer server;
  server.enqueue(Reply::huge(100 * 1024));
  auto driver = make_driver();
  Status s = fetch_error(*driver, get(server.url()));
  CHECK(s.code() == StatusCode::kTransportError);
  CHECK_FALSE(s.retryable());
  CHECK_THAT(s.message(), Catch::Contains("exceeds the 65536-byte limit"));
}

TEST_CASE("an endless chunked body is cut off at the cap", "[driver][limits]") {
  TestServer server;
  server.enqueue(Reply::with_fault(Fault::kEndlessBody));
  auto driver = make_driver();
  Status s = fetch_error(*driver, get(server.url()));
  CHECK(s.code() == StatusCode::kTransportError);
  CHECK_THAT(s.message(), Catch::Contains("exceeds the 65536-byte limit"));
}

TEST_CASE("a request may raise its own size cap", "[driver][limits]") {
  TestServer server;
  server.enqueue(Reply::huge(100 * 1024));
  auto driver = make_driver();
  HttpRequest r = get(server.url());
  r.max_response_bytes = 200 * 1024;
  auto result = fetch(*driver, r);
  REQUIRE(result.ok());
  CHECK(result->body.size() == 100 * 1024);
}

TEST_CASE("every fault of the test server ends in a clear Status", "[driver][faults]") {
  TestServer server;
  auto driver = make_driver();
  HttpRequest r = get(server.url("/f"));
  r.timeout = 2s;

  SECTION("truncated body") {
    Reply reply = Reply::text(200, std::string(1000, 'a'));
    reply.fault = Fault::kTruncate;
    reply.bytes = 100;
    server.enqueue(reply);
    Status s = fetch_error(*driver, r);
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK(s.retryable());
    CHECK_THAT(s.message(), Catch::Contains("GET http://127.0.0.1:"));
  }
  SECTION("connection reset mid-body") {
    Reply reply = Reply::text(200, std::string(1000, 'a'));
    reply.fault = Fault::kReset;
    reply.bytes = 200;
    server.enqueue(reply);
    Status s = fetch_error(*driver, r);
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK(s.retryable());
  }
  SECTION("closed without a response") {
    server.enqueue(Reply::with_fault(Fault::kCloseWithoutResponse));
    Status s = fetch_error(*driver, r);
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK(s.retryable());
  }
  SECTION("garbage instead of HTTP") {
    Reply reply = Reply::with_fault(Fault::kGarbage);
    reply.body = "SSH-2.0-OpenSSH_9.2\r\n";
    server.enqueue(reply);
    Status s = fetch_error(*driver, r);
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK_FALSE(s.message().empty());
  }
  SECTION("stall before the response") {
    server.enqueue(Reply::with_fault(Fault::kStall));
    r.timeout = 300ms;
    CHECK(fetch_error(*driver, r).code() == StatusCode::kTimeout);
  }
  SECTION("stall after the headers") {
    Reply reply = Reply::text(200, "never sent");
    reply.fault = Fault::kStallAfterHeaders;
    server.enqueue(reply);
    r.timeout = 300ms;
    CHECK(fetch_error(*driver, r).code() == StatusCode::kTimeout);
  }
  SECTION("slow drip still arrives whole") {
    Reply reply = Reply::text(200, "drip");
    reply.fault = Fault::kSlowDrip;
    reply.drip_interval = 2ms;
    server.enqueue(reply);
    auto result = fetch(*driver, r);
    REQUIRE(result.ok());
    CHECK(result->body == "drip");
  }
  SECTION("a delayed answer arrives") {
    Reply reply = Reply::text(200, "late");
    reply.delay = 100ms;
    server.enqueue(reply);
    auto result = fetch(*driver, r);
    REQUIRE(result.ok());
    CHECK(result->body == "late");
  }
  SECTION("nobody listening") {
    int port = server.port();
    {
      TestServer closed;
      port = closed.port();
    }
    Status s = fetch_error(*driver, get("http://127.0.0.1:" + std::to_string(port) + "/"));
    CHECK(s.code() == StatusCode::kTransportError);
    CHECK(s.retryable());
  }
}

TEST_CASE("the driver's connection sockets are close-on-exec", "[driver][security]") {
  TestServer server;
  server.set_default(Reply::with_fault(Fault::kStall));
  auto driver = make_driver();
  ResponseOutcome a, b;
  Handle ha = driver->send(get(server.url()), a.callback());
  Handle hb = driver->send(get(server.url()), b.callback());
  REQUIRE(run_until(*driver, [&] { return server.request_count() == 2; }));
  // The client ends of the connections are the sockets whose peer is the
  // server's port. (libcurl 7.88's own wake-up socketpair, made inside
  // curl_multi_init, is out of gauth's reach: docs/architecture.md.)
  int client_sockets = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir);
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    int fd = std::atoi(entry->d_name);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 || peer.sin_family != AF_INET ||
        ntohs(peer.sin_port) != server.port()) {
      continue;
    }
    ++client_sockets;
    CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
  }
  ::closedir(dir);
  CHECK(client_sockets == 2);
  ha.cancel();
  hb.cancel();
  REQUIRE(run_until(*driver, [&] { return a.done() && b.done(); }));
}

TEST_CASE("an idle driver is not woken", "[driver][idle]") {
  TestServer server;
  auto driver = make_driver();
  REQUIRE(fetch(*driver, get(server.url())).ok());  // leaves a pooled connection
  // Let libcurl's own short timers after the transfer run out.
  for (int i = 0; i < 5; ++i) driver->run_once(20ms);
  auto before = driver->stats().wakeups;
  CHECK_FALSE(driver->run_once(300ms));
  CHECK(driver->stats().wakeups == before);
}

TEST_CASE("watch_readable reports a readable pipe until cancelled, then once with kCancelled",
          "[driver][fd-watch]") {
  auto driver = make_driver();
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  std::string received;
  int ready_calls = 0;
  std::optional<Status> final_status;
  Handle watch = driver->watch_readable(fds[0], [&](Status s) {
    if (!s.ok()) {
      final_status = s;
      return;
    }
    ++ready_calls;
    char buf[64];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) received.append(buf, std::size_t(n));
  });
  CHECK(driver->stats().fd_watches == 1);
  driver->run_once(20ms);
  CHECK(ready_calls == 0);  // nothing to read yet: not woken
  REQUIRE(::write(fds[1], "hello", 5) == 5);
  REQUIRE(run_until(*driver, [&] { return received == "hello"; }));
  REQUIRE(::write(fds[1], " world", 6) == 6);
  REQUIRE(run_until(*driver, [&] { return received == "hello world"; }));
  CHECK(ready_calls >= 2);
  watch.cancel();
  CHECK_FALSE(final_status);  // never inline
  REQUIRE(run_until(*driver, [&] { return final_status.has_value(); }));
  CHECK(final_status->code() == StatusCode::kCancelled);
  CHECK(driver->stats().fd_watches == 0);
  int calls_before = ready_calls;
  REQUIRE(::write(fds[1], "more", 4) == 4);
  driver->run_once(50ms);
  CHECK(ready_calls == calls_before);  // no longer watched
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("watching an fd twice is refused; the driver's teardown ends every watch", "[driver][fd-watch]") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  std::optional<Status> first_end, second_end;
  {
    auto driver = make_driver();
    driver->watch_readable(fds[0], [&](Status s) {
      if (!s.ok()) first_end = s;
    });
    driver->watch_readable(fds[0], [&](Status s) {
      if (!s.ok()) second_end = s;
    });
    REQUIRE(run_until(*driver, [&] { return second_end.has_value(); }));
    CHECK(second_end->code() == StatusCode::kInvalidArgument);
    CHECK_FALSE(first_end);
  }
  REQUIRE(first_end);
  CHECK(first_end->code() == StatusCode::kCancelled);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("a driver thread stopped with stop() can be started again", "[driver][threads]") {
  TestServer server;
  auto driver = make_driver();
  REQUIRE(driver->start_thread().ok());
  driver->stop();
  Status again;
  for (int i = 0; i < 200; ++i) {  // the thread notices the stop on its next turn
    again = driver->start_thread();
    if (again.ok()) break;
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(again.ok());
  std::promise<bool> done;
  driver->send(get(server.url()), [&](StatusOr<HttpResponse> r) { done.set_value(r.ok()); });
  auto f = done.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  CHECK(f.get());
}
