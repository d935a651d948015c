// Small helpers shared by gauth's benchmarks (run with `meson test --benchmark`).
#ifndef GAUTH_TEST_BENCH_BENCH_UTIL_HPP
#define GAUTH_TEST_BENCH_BENCH_UTIL_HPP

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <utility>

#include <sys/resource.h>
#include <unistd.h>

namespace gauth::bench {

/// CPU time consumed by the calling thread.
inline std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

/// User and system CPU time of the calling thread, in microseconds.
inline std::pair<double, double> thread_user_sys_us() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return {u.ru_utime.tv_sec * 1e6 + u.ru_utime.tv_usec, u.ru_stime.tv_sec * 1e6 + u.ru_stime.tv_usec};
}

/// Resident set size of the process, in bytes.
inline long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

inline void raise_fd_limit(rlim_t wanted) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < wanted) {
    lim.rlim_cur = std::min(wanted, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

/// Ends the benchmark with a message when an invariant does not hold.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark invariant failed: %s\n", what);
    std::exit(1);
  }
}

}  // namespace gauth::bench

#endif  // GAUTH_TEST_BENCH_BENCH_UTIL_HPP
