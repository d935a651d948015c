// A consumer of gauth: public headers and the library only.
#include <gauth/curl_driver.hpp>
#include <gauth/oauth2/credentials.hpp>
#include <gauth/version.hpp>

#include <cstdio>
#include <string>

int main() {
  if (std::string(gauth::version()) != GAUTH_VERSION_STRING) return 1;
  auto driver = gauth::CurlDriver::create();
  if (!driver.ok()) return 2;
  bool posted = false;
  (*driver)->post([&] {
    posted = true;
    (*driver)->stop();
  });
  (*driver)->run();
  auto creds = gauth::oauth2::Credentials::from_authorized_user_info(
      R"({"client_id": "id", "client_secret": "secret", "refresh_token": "1//r", "token": "ya29.t",
          "expiry": "2100-01-01T00:00:00Z"})");
  if (!creds.ok()) return 3;
  gauth::Headers headers;
  if (!(*creds)->try_apply(headers) || headers.value_or_empty("authorization") != "Bearer ya29.t") return 4;
  std::printf("consumer: gauth %s, driver posted: %s, token applied\n", gauth::version(),
              posted ? "yes" : "no");
  return posted ? 0 : 5;
}
