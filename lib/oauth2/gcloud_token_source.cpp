#include "gcloud_token_source.hpp"

#include "../ascii.hpp"
#include "../child_process.hpp"
#include "../durations.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/wait.h>
#include <unistd.h>

namespace gauth::oauth2::detail {

using gauth::detail::ChildProcess;
using gauth::detail::TokenGrant;
using gauth::detail::TokenSource;

namespace {

constexpr char kPrefix[] = "Failed to obtain access token: ";
constexpr std::size_t kMaxStderrKept = 8 * 1024;
constexpr std::size_t kMaxStderrShown = 1000;
constexpr auto kReapPollInterval = std::chrono::milliseconds(5);
constexpr int kMaxReapPolls = 2000;  // 10 s for a killed child to die

Status failure(const std::string& why) { return Status(StatusCode::kUserAccessTokenError, kPrefix + why); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && gauth::detail::ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && gauth::detail::ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

/// One run of gcloud: its pipes and its exit watched by the loop, bounded by
/// a timeout. \context The loop thread only (cancel() is called from a task
/// the Fetch posts to this loop).
class GcloudRun final : public Cancellable, public std::enable_shared_from_this<GcloudRun> {
 public:
  GcloudRun(Transport& transport, const UserAccessTokenOptions& options, TokenSource::Done done)
      : transport_(transport), options_(options), done_(std::move(done)) {}

  void start(const std::vector<std::string>& args) {
    auto child = ChildProcess::spawn(options_.gcloud, args);
    if (!child.ok()) {
      // Not inline: the caller is still inside fetch().
      finished_ = true;
      transport_.post([done = std::move(done_),
                       error = failure("cannot run gcloud: " + child.status().message())] { done(error); });
      return;
    }
    child_ = std::move(*child);
    watch(child_->stdout_fd(), Stream::kStdout);
    watch(child_->stderr_fd(), Stream::kStderr);
    if (child_->exit_fd() >= 0) watch(child_->exit_fd(), Stream::kExit);
    auto timeout = gauth::detail::bounded_wait(options_.timeout, std::chrono::milliseconds(1));
    auto ms = timeout.count();
    timer_ = transport_.run_after(timeout, [self = shared_from_this(), ms](Status fired) {
      if (!fired.ok()) {
        self->on_ended(false);  // cancelled by finish(), or the transport is going away
        return;
      }
      self->finish(failure("gcloud did not finish within " + std::to_string(ms) + " ms and was killed")
                       .with_retryable(true));
    });
  }

  void cancel() noexcept override { finish(Status(StatusCode::kCancelled, "gcloud run cancelled")); }

 private:
  enum class Stream { kStdout, kStderr, kExit };

  void watch(int fd, Stream stream) {
    ++open_watches_;
    watches_[index(stream)] = transport_.watch_readable(fd, [self = shared_from_this(), stream](Status s) {
      if (s.ok()) {
        self->on_readable(stream);
      } else {
        --self->open_watches_;
        self->on_ended(self->finished_ || self->ended_[index(stream)]);
      }
    });
  }

  /// Stops watching a stream that has nothing more to say (EOF; for the
  /// pidfd, the exit).
  void stop_watching(Stream stream) {
    ended_[index(stream)] = true;
    watches_[index(stream)].cancel();
  }

  static std::size_t index(Stream stream) { return static_cast<std::size_t>(stream); }

  void on_readable(Stream stream) {
    if (finished_) return;
    if (stream == Stream::kExit) {
      stop_watching(stream);  // a pidfd stays readable
      maybe_complete();
      return;
    }
    int fd = stream == Stream::kStdout ? child_->stdout_fd() : child_->stderr_fd();
    std::string& sink = stream == Stream::kStdout ? out_ : err_;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        if (stream == Stream::kStdout && out_.size() + std::size_t(n) > options_.max_output_bytes) {
          finish(failure("gcloud printed more than " + std::to_string(options_.max_output_bytes) + " bytes"));
          return;
        }
        // stderr is drained to the end (so the child never blocks on it) but
        // only its beginning is kept.
        if (stream == Stream::kStdout || sink.size() < kMaxStderrKept) {
          sink.append(buf,
                      std::min(std::size_t(n),
                               stream == Stream::kStdout ? std::size_t(n) : kMaxStderrKept - sink.size()));
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      // End of file (or an error, which ends the stream just the same).
      stop_watching(stream);  // an fd at EOF stays readable
      maybe_complete();
      return;
    }
  }

  /// Once both pipes are closed and the child has exited: the result.
  void maybe_complete() {
    if (finished_ || !ended_[index(Stream::kStdout)] || !ended_[index(Stream::kStderr)]) return;
    if (child_->exit_fd() >= 0 && !ended_[index(Stream::kExit)]) return;  // the pidfd will tell
    std::optional<int> status = child_->try_reap();
    if (!status) {
      // No pidfd (an old kernel): look again shortly.
      reap_poll_ = transport_.run_after(kReapPollInterval, [self = shared_from_this()](Status fired) {
        if (fired.ok()) {
          self->maybe_complete();
        } else {
          self->on_ended(false);
        }
      });
      return;
    }
    finish(result(*status));
  }

  StatusOr<TokenGrant> result(int status) const {
    std::string err = gauth::detail::printable_excerpt(err_, kMaxStderrShown);
    std::string detail = err.empty() ? "" : ": " + err;
    if (status != -1 && WIFSIGNALED(status)) {
      int sig = WTERMSIG(status);
      return failure("gcloud was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")" +
                     detail);
    }
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      return failure("gcloud exited with status " + std::to_string(WEXITSTATUS(status)) + detail);
    }
    auto token = token_from_gcloud_output(out_);
    if (!token.ok()) return Status(token.status().code(), token.status().message() + detail);
    TokenGrant grant;
    grant.access_token = std::move(*token);
    if (options_.cache_lifetime) {
      // Fresh for cache_lifetime, then stale for the refresh threshold.
      auto longest = std::chrono::duration_cast<std::chrono::seconds>(gauth::detail::kLongestWait);
      grant.lifetime =
          std::clamp(*options_.cache_lifetime, std::chrono::seconds(0), longest) + kRefreshThreshold;
    }
    return grant;
  }

  /// Completes the fetch once; the child is killed if it still runs.
  void finish(StatusOr<TokenGrant> result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    reap_poll_.cancel();
    for (auto& watch : watches_) watch.cancel();
    if (child_) child_->kill();  // no-op once reaped
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
    on_ended(true);
  }

  /// A watch or timer ended (`expected`: because this run stopped it). When
  /// the transport ends one on its own (it is being destroyed), the run ends
  /// with kCancelled. Once the loop watches none of the child's fds any more,
  /// they are closed and the child is reaped.
  void on_ended(bool expected) {
    if (!finished_ && !expected) {
      finish(Status(StatusCode::kCancelled, "gcloud run abandoned: the driver was destroyed"));
      return;
    }
    if (finished_ && open_watches_ == 0) reap();
  }

  /// Reaps the child (killed by finish() unless it had exited), looking again
  /// on a timer while it is still dying: the loop never waits for it. Past
  /// kMaxReapPolls it is abandoned to the host; when the transport goes away,
  /// ~ChildProcess waits for it a little.
  void reap() {
    if (!child_ || reaping_) return;
    if (child_->try_reap() || child_->reaped()) {
      child_.reset();
      return;
    }
    reaping_ = true;
    reap_poll_ = transport_.run_after(kReapPollInterval, [self = shared_from_this()](Status fired) {
      self->reaping_ = false;
      if (!fired.ok()) {
        self->child_.reset();
      } else if (++self->reap_polls_ < kMaxReapPolls) {
        self->reap();
      } else {
        self->child_->abandon();
        self->child_.reset();
      }
    });
  }

  Transport& transport_;
  const UserAccessTokenOptions options_;
  TokenSource::Done done_;
  std::unique_ptr<ChildProcess> child_;
  std::string out_;
  std::string err_;
  Handle watches_[3];                      // by Stream
  bool ended_[3] = {false, false, false};  // by Stream: stopped watching, having seen the end
  Handle timer_, reap_poll_;
  int open_watches_ = 0;
  int reap_polls_ = 0;
  bool reaping_ = false;
  bool finished_ = false;
};

}  // namespace

std::vector<std::string> gcloud_arguments(const std::optional<std::string>& account) {
  std::vector<std::string> args = {"auth", "print-access-token"};
  if (account && !account->empty()) args.push_back("--account=" + *account);
  return args;
}

StatusOr<std::string> token_from_gcloud_output(std::string_view output) {
  std::string_view token = trim(output);
  if (token.empty()) return failure("gcloud printed no access token");
  bool one_word = std::all_of(token.begin(), token.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
  if (!one_word) {
    // Never quoted: it may hold a token.
    auto lines = std::count(token.begin(), token.end(), '\n') + 1;
    return failure("gcloud printed something that is not an access token (" + std::to_string(lines) +
                   (lines == 1 ? " line)" : " lines)"));
  }
  return std::string(token);
}

Handle GcloudTokenSource::fetch(Transport& transport, const gauth::detail::FetchInput&, Done done) const {
  auto run = std::make_shared<GcloudRun>(transport, options_, std::move(done));
  run->start(gcloud_arguments(account_));
  return Handle(run);
}

}  // namespace gauth::oauth2::detail
