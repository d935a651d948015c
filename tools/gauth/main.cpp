// gauth: Google OAuth2 user credentials from the command line (see `gauth --help`).
#include "command_line.hpp"
#include "commands.hpp"
#include "demo.hpp"

#include <gauth/log.hpp>
#include <gauth/version.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

int main(int argc, char** argv) {
  using namespace gauth::tool;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_command_line(args);
  if (auto* error = std::get_if<UsageError>(&parsed)) {
    print_error(error->message);
    return 2;
  }
  const CommandLine& cl = std::get<CommandLine>(parsed);
  if (cl.version) {
    std::cout << "gauth " << gauth::version() << "\n";
    return 0;
  }
  if (cl.help) {
    std::cout << help_text(cl.command);
    return 0;
  }
  // Warnings (such as a missing quota project) go to stderr as one line
  // each; gcloud's deprecation notice does not apply to the tool's --gcloud.
  gauth::set_log_handler([](gauth::LogLevel level, std::string_view message) {
    if (level < gauth::LogLevel::kWarning ||
        message.rfind("UserAccessTokenCredentials is deprecated", 0) == 0)
      return;
    std::fprintf(stderr, "gauth: warning: %.*s\n", static_cast<int>(message.size()), message.data());
  });
  // A closed stdout is an error to report (exit 1), not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  if (*cl.command == Command::kDemo) return run_demo();
  return run_credentials_command(cl);
}
