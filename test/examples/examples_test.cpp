// Every example program, run as a child process against the loopback token
// endpoint, prints the authorization header.
#include "process_runner.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace gauth::test;

TEST_CASE("each example gets a token through its loop", "[examples]") {
  // GAUTH_EXAMPLES: "name=path;name=path;..."
  const char* list = std::getenv("GAUTH_EXAMPLES");
  REQUIRE(list != nullptr);
  char path[] = "/tmp/gauth-example-creds-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path)
      << R"({"type": "authorized_user", "client_id": "id", "client_secret": "secret", "refresh_token": "1//r"})";
  std::stringstream entries(list);
  std::string entry;
  int ran = 0;
  while (std::getline(entries, entry, ';')) {
    if (entry.empty()) continue;
    std::string name = entry.substr(0, entry.find('='));
    std::string program = entry.substr(entry.find('=') + 1);
    TestServer server;
    server.set_default(Reply::json(200, R"({"access_token": "ya29.example-token", "expires_in": 3599})"));
    ProcessResult r =
        run_process(program, {path, server.url("/token")}, {{"GOOGLE_APPLICATION_CREDENTIALS", ""}});
    INFO(name << ": " << r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("authorization: Bearer ya29.example"));
    CHECK(server.request_count() == 1);
    ++ran;
  }
  ::unlink(path);
  CHECK(ran >= 2);
}
