// Helpers shared by the CurlDriver integration tests.
#ifndef GAUTH_TEST_INTEGRATION_DRIVER_FIXTURE_HPP
#define GAUTH_TEST_INTEGRATION_DRIVER_FIXTURE_HPP

#include <gauth/curl_driver.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace gauth::test {

/// Runs the built-in loop until `done()` holds or `timeout` passes.
template <typename Done>
bool run_until(CurlDriver& driver, Done done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    driver.run_once(std::chrono::milliseconds(50));
  }
  return true;
}

/// A built-in-loop driver, or the test fails.
inline std::unique_ptr<CurlDriver> make_driver(CurlDriverOptions options = {}) {
  auto driver = CurlDriver::create(std::move(options));
  if (!driver.ok()) throw std::runtime_error(driver.status().message());
  return std::move(driver).value();
}

/// Records the one result of an asynchronous call and how often it arrived.
template <typename T>
struct Outcome {
  std::optional<T> value;
  int calls = 0;
  auto callback() {
    return [this](T v) {
      ++calls;
      value.emplace(std::move(v));
    };
  }
  bool done() const { return calls > 0; }
};

using ResponseOutcome = Outcome<StatusOr<HttpResponse>>;

inline HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

inline HttpRequest post(const std::string& url, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::move(body);
  r.headers.set("content-type", "application/x-www-form-urlencoded");
  return r;
}

/// Number of open file descriptors of this process.
int open_fd_count();

}  // namespace gauth::test

#endif  // GAUTH_TEST_INTEGRATION_DRIVER_FIXTURE_HPP
