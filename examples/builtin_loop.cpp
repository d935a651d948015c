// gauth example: the built-in loop.
//
//   builtin_loop [CREDENTIALS_FILE [TOKEN_URI]]
//
// Loads user credentials (the file, or Application Default Credentials),
// asks for the headers of a request, and prints them with the token cut short.
#include <gauth/curl_driver.hpp>
#include <gauth/default_credentials.hpp>

#include <iostream>

int main(int argc, char** argv) {
  auto credentials =
      argc > 1 ? gauth::load_credentials_from_file(argv[1]) : gauth::load_default_credentials();
  if (!credentials.ok()) {
    std::cerr << credentials.status() << "\n";
    return 2;
  }
  std::shared_ptr<const gauth::oauth2::Credentials> creds = *credentials;
  if (argc > 2) creds = creds->with_token_uri(argv[2]);

  auto driver = gauth::CurlDriver::create();  // the built-in epoll loop
  if (!driver.ok()) {
    std::cerr << driver.status() << "\n";
    return 1;
  }
  int exit_status = 1;
  creds->before_request(**driver, "GET", "https://www.googleapis.com/oauth2/v3/userinfo", {},
                        [&](gauth::StatusOr<gauth::Headers> headers) {
                          if (headers.ok()) {
                            for (const auto& [name, value] : *headers) {
                              std::cout << name << ": " << value.substr(0, 20)
                                        << (value.size() > 20 ? "..." : "") << "\n";
                            }
                            exit_status = 0;
                          } else {
                            std::cerr << headers.status() << "\n";
                          }
                          (*driver)->stop();
                        });
  (*driver)->run();  // until stop()
  return exit_status;
}
