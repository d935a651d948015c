// The synchronous fast path: try_apply on a fresh token, one thread and all cores.
// Target: tens of nanoseconds, no allocation beyond the header string, no
// contention between threads.
#include "bench_util.hpp"

#include <gauth/oauth2/credentials.hpp>

#include <atomic>
#include <cstdio>
#include <new>
#include <thread>
#include <vector>

namespace {
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace gauth;
using namespace std::chrono;

int main() {
  auto creds = oauth2::Credentials::Builder()
                   .token(std::string("ya29.") + std::string(215, 'a'))  // a typical 220-byte access token
                   .expiry(system_clock::now() + hours(1))
                   .client_id("123.apps.googleusercontent.com")
                   .client_secret("secret")
                   .refresh_token("1//refresh")
                   .build();
  constexpr int kIterations = 5'000'000;

  // One thread. The header exists already (a reused Headers object), so the
  // only allocation is the new value string.
  Headers headers;
  bench::require(creds->try_apply(headers), "fresh token applied");
  std::size_t before = allocations;
  auto start = steady_clock::now();
  for (int i = 0; i < kIterations; ++i) {
    if (!creds->try_apply(headers)) std::abort();
  }
  double ns = duration<double, std::nano>(steady_clock::now() - start).count() / kIterations;
  double allocs = double(allocations - before) / kIterations;
  bench::require(allocs <= 1.0, "at most one allocation (the header value) per apply");

  // Every core at once, on the same credentials.
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<double> per_thread(threads);
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Headers h;
      creds->try_apply(h);
      while (!go.load()) {
      }
      auto s = steady_clock::now();
      for (int i = 0; i < kIterations; ++i) {
        if (!creds->try_apply(h)) std::abort();
      }
      per_thread[t] = duration<double, std::nano>(steady_clock::now() - s).count() / kIterations;
    });
  }
  go = true;
  for (auto& w : workers) w.join();
  double worst = 0;
  for (double v : per_thread) worst = std::max(worst, v);

  std::printf("fast path (try_apply, fresh 220-byte token)\n");
  std::printf("  1 thread:   %.1f ns per apply, %.2f allocations per apply\n", ns, allocs);
  std::printf("  %u threads: %.1f ns per apply (slowest thread)\n", threads, worst);
  return 0;
}
