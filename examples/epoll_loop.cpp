// gauth example: an application's own epoll loop.
//
//   epoll_loop [CREDENTIALS_FILE [TOKEN_URI]]
//
// The application keeps its epoll set; gauth needs one fd in it.
#include <gauth/adapters/epoll.hpp>
#include <gauth/default_credentials.hpp>

#include <sys/epoll.h>
#include <unistd.h>

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

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);  // the application's loop
  auto adapter = gauth::adapters::EpollDriver::create();
  if (!adapter.ok()) {
    std::cerr << adapter.status() << "\n";
    return 1;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = (*adapter)->fd();
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, (*adapter)->fd(), &ev);

  bool done = false;
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
        done = true;
      });
  while (!done) {
    epoll_event events[16];
    int n = epoll_wait(epoll_fd, events, 16, -1);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == (*adapter)->fd()) (*adapter)->dispatch();
      // ... the application's own fds here ...
    }
  }
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, (*adapter)->fd(), nullptr);
  adapter->reset();
  close(epoll_fd);
  return exit_status;
}
