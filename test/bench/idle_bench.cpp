// An idle driver sleeps: no wake-ups while nothing is pending, in both modes,
// with a pooled connection left open.
#include "bench_util.hpp"
#include "test_server.hpp"

#include <gauth/curl_driver.hpp>

#include <cstdio>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono;

int main() {
  TestServer server;
  auto driver = std::move(CurlDriver::create()).value();
  bool done = false;
  HttpRequest r;
  r.url = server.url("/");
  driver->send(r, [&](StatusOr<HttpResponse> response) { done = response.ok(); });
  while (!done) driver->run_once(milliseconds(100));
  for (int i = 0; i < 10; ++i) driver->run_once(milliseconds(10));  // let libcurl's short timers run out

  auto wakeups_before = driver->stats().wakeups;
  auto cpu_before = bench::thread_cpu_time();
  auto start = steady_clock::now();
  while (steady_clock::now() - start < seconds(2)) driver->run_once(milliseconds(2000));
  auto wakeups = driver->stats().wakeups - wakeups_before;
  double cpu_us = duration<double, std::micro>(bench::thread_cpu_time() - cpu_before).count();
  bench::require(wakeups == 0, "an idle driver is not woken");

  std::printf("idle driver (built-in loop, one pooled connection), 2 s\n");
  std::printf("  wake-ups: %llu\n", static_cast<unsigned long long>(wakeups));
  std::printf("  CPU used: %.0f us\n", cpu_us);
  return 0;
}
