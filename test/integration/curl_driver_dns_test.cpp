// Cancelling a request whose host name is still being resolved must not block
// the loop: libcurl 7.88's threaded resolver makes curl_multi_remove_handle
// wait for getaddrinfo. This binary slows getaddrinfo down for one name.
#include "driver_fixture.hpp"

#include <gauth/curl_driver.hpp>

#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <netdb.h>

#include <cstring>
#include <thread>

using namespace gauth;
using namespace gauth::test;
using namespace std::chrono_literals;

namespace {
constexpr char kSlowHost[] = "slow-dns.gauth.invalid";
constexpr auto kLookupTime = 1500ms;
}  // namespace

// Interposes libc's getaddrinfo for this executable (and libcurl's resolver
// threads in it): the slow name takes kLookupTime and then does not exist.
extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                           struct addrinfo** res) {
  using Real = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);
  static Real real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  if (node != nullptr && std::strcmp(node, kSlowHost) == 0) {
    std::this_thread::sleep_for(kLookupTime);
    return EAI_NONAME;
  }
  return real(node, service, hints, res);
}

TEST_CASE("cancelling a request stuck in name lookup completes it at once, without blocking the loop",
          "[driver][dns][cancel]") {
  auto driver = make_driver();
  ResponseOutcome out;
  Handle h = driver->send(get(std::string("https://") + kSlowHost + "/token"), out.callback());
  driver->run_once(100ms);  // the lookup is running on libcurl's resolver thread
  h.cancel();
  auto start = std::chrono::steady_clock::now();
  REQUIRE(run_until(
      *driver, [&] { return out.done(); }, 5s));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(out.value->status().code() == StatusCode::kCancelled);
  CHECK(took < 500ms);  // not the rest of the 1.5 s lookup
  // Once the lookup is over the transfer is detached; the driver then stops cleanly.
  std::this_thread::sleep_for(kLookupTime);
  for (int i = 0; i < 10; ++i) driver->run_once(20ms);
  CHECK(out.calls == 1);
  auto stop = std::chrono::steady_clock::now();
  driver.reset();
  CHECK(std::chrono::steady_clock::now() - stop < 500ms);
}

TEST_CASE("a request to a name that does not resolve fails with a clear, retryable error", "[driver][dns]") {
  auto driver = make_driver();
  ResponseOutcome out;
  driver->send(get(std::string("https://") + kSlowHost + "/token"), out.callback());
  REQUIRE(run_until(
      *driver, [&] { return out.done(); }, 10s));
  REQUIRE_FALSE(out.value->ok());
  CHECK(out.value->status().code() == StatusCode::kTransportError);
  CHECK(out.value->status().retryable());
  CHECK_THAT(out.value->status().message(), Catch::Contains(kSlowHost));
}
