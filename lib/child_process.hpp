// gauth: a child process whose output is read without blocking, and that is
// always reaped.
#ifndef GAUTH_LIB_CHILD_PROCESS_HPP
#define GAUTH_LIB_CHILD_PROCESS_HPP

#include "private.hpp"

#include "unique_fd.hpp"

#include <gauth/status.hpp>

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gauth::detail {

/// A child started with stdin on /dev/null and stdout and stderr on two
/// separate non-blocking, close-on-exec pipes, in a process group of its own.
///
/// The child inherits no other fd of the host's (glibc 2.34+).
///
/// The host's SIGCHLD disposition is never touched and only this child's pid
/// is ever waited for. Destroying the object kills the child's process group
/// (SIGKILL) if the child has not been reaped, and reaps it, waiting at most
/// 100 ms: a child that SIGKILL cannot end that fast (uninterruptible sleep)
/// is left to the host rather than blocking the loop. Reap killed children
/// with try_reap() from the loop first (or abandon() them) to avoid even
/// that wait.
class ChildProcess {
 public:
  /// Starts `executable` (searched on PATH when it has no '/') with `args`
  /// as argv[1...], inheriting the environment. Errors: kNotFound when there
  /// is no such executable, kInvalidArgument when it cannot be executed.
  static StatusOr<std::unique_ptr<ChildProcess>> spawn(const std::string& executable,
                                                       const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  int stdout_fd() const noexcept { return stdout_.get(); }
  int stderr_fd() const noexcept { return stderr_.get(); }
  /// A pidfd that becomes readable when the child exits, or -1 where the
  /// kernel has none (then poll try_reap()).
  int exit_fd() const noexcept { return exit_.get(); }

  /// The child's wait status once it has exited (WIFEXITED/WIFSIGNALED), or
  /// nothing while it runs. -1 when somebody else reaped it (a host that
  /// waits for any child), so its status is unknown.
  std::optional<int> try_reap();
  bool reaped() const noexcept { return reaped_; }
  /// Kills the child's process group and gives up on reaping it: the
  /// destructor will not wait. For a child that SIGKILL has not ended after
  /// long polling (stuck in an uninterruptible sleep).
  void abandon() noexcept;
  /// Kills the child's process group. Idempotent; does not reap.
  void kill() noexcept;

 private:
  ChildProcess(pid_t pid, UniqueFd out, UniqueFd err, UniqueFd exit) noexcept;

  pid_t pid_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  UniqueFd exit_;
  bool reaped_ = false;
  bool abandoned_ = false;
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_CHILD_PROCESS_HPP
