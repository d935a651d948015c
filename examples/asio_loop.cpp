// gauth example: an Asio io_context (standalone Asio; define
// GAUTH_ADAPTERS_BOOST_ASIO for Boost.Asio).
//
//   asio_loop [CREDENTIALS_FILE [TOKEN_URI]]
#include <gauth/adapters/asio.hpp>
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

  asio::io_context io;
  auto adapter = gauth::adapters::AsioDriver::create(io);
  if (!adapter.ok()) {
    std::cerr << adapter.status() << "\n";
    return 1;
  }
  int exit_status = 1;
  creds->before_request(
      (*adapter)->driver(), "GET", "https://www.googleapis.com/oauth2/v3/userinfo", {},
      [&](gauth::StatusOr<gauth::Headers> headers) {
        if (headers.ok()) {
          std::cout << "authorization: " << headers->value_or_empty("authorization").substr(0, 20) << "...\n";
          exit_status = 0;
        } else {
          std::cerr << headers.status() << "\n";
        }
        io.stop();
      });
  io.run();
  adapter->reset();
  return exit_status;
}
