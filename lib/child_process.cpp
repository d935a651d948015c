#include "child_process.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

namespace gauth::detail {

namespace {

/// posix_spawn's attributes and file actions, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// How long the destructor waits for a killed child: kReapTries x kReapPause.
constexpr int kReapTries = 100;
constexpr std::chrono::nanoseconds kReapPause = std::chrono::milliseconds(1);

Status errno_status(const std::string& what, int error) {
  return Status(StatusCode::kInvalidArgument, what + ": " + std::strerror(error));
}

/// The file to execute: `executable` itself when it names a path, else the
/// first executable file of that name on PATH. Checked before spawning so that
/// "not found" and "not executable" read the same everywhere (some
/// posix_spawn implementations only report them as exit status 127).
StatusOr<std::string> resolve_executable(const std::string& executable) {
  auto check = [](const std::string& path) -> Status {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      return Status(StatusCode::kNotFound, "\"" + path + "\" does not exist");
    if (S_ISDIR(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
      return errno_status("\"" + path + "\" cannot be executed", S_ISDIR(st.st_mode) ? EISDIR : EACCES);
    }
    return Status();
  };
  if (executable.find('/') != std::string::npos) {
    if (Status s = check(executable); !s.ok()) return s;
    return executable;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  bool found_but_not_executable = false;
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + executable;
    Status s = check(candidate);
    if (s.ok()) return candidate;
    if (s.code() != StatusCode::kNotFound) found_but_not_executable = true;
    start = end + 1;
  }
  if (found_but_not_executable) return errno_status("\"" + executable + "\" cannot be executed", EACCES);
  return Status(StatusCode::kNotFound, "\"" + executable + "\" was not found on PATH");
}

}  // namespace

ChildProcess::ChildProcess(pid_t pid, UniqueFd out, UniqueFd err, UniqueFd exit) noexcept
    : pid_(pid), stdout_(std::move(out)), stderr_(std::move(err)), exit_(std::move(exit)) {}

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const std::string& executable,
                                                            const std::vector<std::string>& args) {
  auto program = resolve_executable(executable);
  if (!program.ok()) return program.status();
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return errno_status("cannot create a pipe", errno);
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return errno_status("cannot create a pipe", errno);
  UniqueFd err_read(err[0]), err_write(err[1]);
  ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);

  SpawnSetup setup;
  // The child's own ends: dup2 clears close-on-exec on fds 1 and 2; every
  // other pipe end is close-on-exec and vanishes at exec.
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // And nothing else of the host's, close-on-exec or not (Python's
  // close_fds=True): a socket or pipe end held by gcloud could keep the host
  // from seeing an EOF it waits for.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
#endif
  // Its own process group (so a timeout can kill what it started too), no
  // blocked signals, and SIGPIPE back to its default even if the host ignores it.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, program->c_str(), &setup.actions, &setup.attr, argv.data(), environ);
  if (rc != 0) return errno_status("cannot start \"" + executable + "\"", rc);
  // A pidfd (Linux 5.3+) lets the loop see the exit like any other fd. Where
  // the kernel (or valgrind) has none, stop asking after the first no.
  static std::atomic<bool> no_pidfd{false};
  int pidfd = -1;
  if (!no_pidfd.load(std::memory_order_relaxed)) {
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0 && errno == ENOSYS) no_pidfd.store(true, std::memory_order_relaxed);
  }
  return std::unique_ptr<ChildProcess>(
      new ChildProcess(pid, std::move(out_read), std::move(err_read), UniqueFd(pidfd)));
}

ChildProcess::~ChildProcess() {
  if (reaped_ || abandoned_) return;
  kill();
  // SIGKILL ends a process within milliseconds, unless it is in an
  // uninterruptible sleep (a hung NFS or FUSE mount): wait that long at most,
  // then leave it to the host (a zombie until reaped) rather than block the loop.
  for (int i = 0; i < kReapTries && !try_reap(); ++i) {
    timespec pause{0, kReapPause.count()};
    ::nanosleep(&pause, nullptr);
  }
}

std::optional<int> ChildProcess::try_reap() {
  if (reaped_) return std::nullopt;
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == 0) return std::nullopt;
  reaped_ = true;
  return r == pid_ ? status : -1;  // ECHILD: reaped by someone else
}

void ChildProcess::abandon() noexcept {
  kill();
  abandoned_ = true;
}

void ChildProcess::kill() noexcept {
  if (reaped_) return;
  if (exit_) {
    // The pidfd names exactly our child, alive or a zombie: while it is
    // either, its pid (and process group id) cannot have been reused. If a
    // host reaped it behind our back, the pid may belong to a stranger now:
    // signal nothing.
    if (::syscall(SYS_pidfd_send_signal, exit_.get(), 0, nullptr, 0) != 0) return;
  } else {
    // Without a pidfd, look (without reaping) whether the pid is still ours.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return;
  }
  ::kill(-pid_, SIGKILL);  // the group the child leads
  ::kill(pid_, SIGKILL);
}

}  // namespace gauth::detail
