// Compiles against the public headers only and links libgauth.so only.
#include <gauth/curl_driver.hpp>
#include <gauth/http.hpp>
#include <gauth/status.hpp>
#include <gauth/transport.hpp>
#include <gauth/version.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("the version macros match the library's version", "[abi]") {
  CHECK(std::string(gauth::version()) == GAUTH_VERSION_STRING);
  CHECK(std::string(GAUTH_VERSION_STRING) == std::to_string(GAUTH_VERSION_MAJOR) + "." +
                                                 std::to_string(GAUTH_VERSION_MINOR) + "." +
                                                 std::to_string(GAUTH_VERSION_PATCH));
}

TEST_CASE("a driver can be created, post a task, run it and be destroyed through the public API", "[abi]") {
  auto driver = gauth::CurlDriver::create();
  REQUIRE(driver.ok());
  bool ran = false;
  (*driver)->post([&] {
    ran = true;
    (*driver)->stop();
  });
  (*driver)->run();
  CHECK(ran);
}
