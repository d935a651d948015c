// Test kit: runs a program as a child process and collects what it prints.
#ifndef GAUTH_TEST_SUPPORT_PROCESS_RUNNER_HPP
#define GAUTH_TEST_SUPPORT_PROCESS_RUNNER_HPP

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace gauth::test {

struct ProcessResult {
  int status = -1;  // the exit status, or 128 + the signal that killed it
  std::string out;
  std::string err;
};

/// Runs `program` with `args` (argv[1...]), stdin on /dev/null, the
/// environment changed by `env` (an empty value unsets a variable), and waits
/// for it, killing it after `timeout`.
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace gauth::test

#endif  // GAUTH_TEST_SUPPORT_PROCESS_RUNNER_HPP
