#include "refresh_grant.hpp"

#include "token_request.hpp"

#include "../callback.hpp"

#include "../url.hpp"

#include <atomic>
#include <cmath>
#include <random>

namespace gauth::oauth2::detail {

using gauth::detail::FetchInput;
using gauth::detail::TokenGrant;
using gauth::detail::TokenSource;

namespace {

constexpr char kNecessaryFields[] =
    "The credentials do not contain the necessary fields need to refresh the access token. You must specify "
    "refresh_token, token_uri, client_id, and client_secret.";

Status universe_domain_error(const std::string& universe_domain) {
  return Status(
      StatusCode::kRefreshError,
      "User credential refresh is only supported in the default googleapis.com universe domain, but the "
      "current universe domain is " +
          universe_domain +
          ". If you created the credential with an access token, it's likely that the provided token is "
          "expired now, please update your code with a valid token.");
}

double uniform(double low, double high) {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(low, high)(engine);
}

/// Completes `done` with `result` on the loop, not inline.
void post_result(Transport& transport, TokenSource::Done done, StatusOr<TokenGrant> result) {
  transport.post([done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

/// The attempts of one refresh-token grant: each a POST with what is left of
/// the shared deadline, retried on timers as Python's retry policy says.
/// \context Loop thread only, cancel() included: its Handle never leaves the
/// token cache, whose Fetch cancels it from a task posted to this loop.
class GrantRun final : public Cancellable, public std::enable_shared_from_this<GrantRun> {
 public:
  GrantRun(Transport& transport, RefreshGrantRequest request, RetryPolicy policy,
           std::chrono::milliseconds timeout, bool fresh_connection, TokenSource::Done done)
      : transport_(transport),
        request_(std::move(request)),
        policy_(policy),
        timeout_(timeout),
        fresh_connection_(fresh_connection),
        done_(std::move(done)) {}

  void start() {
    deadline_ = transport_.now() + timeout_;
    attempt();
  }

  void cancel() noexcept override {
    if (finished_) return;
    cancelled_ = true;
    http_.cancel();
    timer_.cancel();
  }

 private:
  void attempt() {
    ++attempts_;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - transport_.now());
    HttpRequest http = refresh_grant_http_request(request_);
    http.timeout = std::max(left, std::chrono::milliseconds(1));
    http.fresh_connection = fresh_connection_;
    http_ = transport_.send(std::move(http), [self = shared_from_this()](StatusOr<HttpResponse> r) {
      self->on_answer(std::move(r));
    });
  }

  void on_answer(StatusOr<HttpResponse> response) {
    if (cancelled_) {
      finish(Status(StatusCode::kCancelled, "token refresh cancelled"));
      return;
    }
    TokenAnswer answer;
    if (response.ok()) {
      answer = read_token_answer(std::move(*response), request_, transport_.wall_now());
    } else if (response.status().code() == StatusCode::kTimeout && transport_.now() >= deadline_) {
      finish(Status(StatusCode::kTimeout,
                    "token refresh timed out after " + std::to_string(timeout_.count()) + " ms (" +
                        std::to_string(attempts_) + (attempts_ == 1 ? " attempt): " : " attempts): ") +
                        response.status().message())
                 .with_retryable(true));
      return;
    } else {
      // A failed connection, a reset, or a timeout short of the refresh's own
      // deadline (connecting took too long): worth another attempt.
      answer.kind = response.status().retryable() ? TokenAnswer::Kind::kRetryable : TokenAnswer::Kind::kFinal;
      answer.error = response.status();
    }
    switch (answer.kind) {
      case TokenAnswer::Kind::kGrant: finish(std::move(answer.grant)); return;
      case TokenAnswer::Kind::kFinal: finish(answer.error); return;
      case TokenAnswer::Kind::kRetryable: retry_later(answer); return;
    }
  }

  void retry_later(const TokenAnswer& answer) {
    if (attempts_ >= policy_.max_attempts) {
      finish(answer.error);
      return;
    }
    double base = double(policy_.initial_wait.count()) * std::pow(policy_.multiplier, attempts_ - 1);
    auto wait =
        std::chrono::milliseconds(std::llround(base * uniform(1.0 - policy_.jitter, 1.0 + policy_.jitter)));
    if (answer.retry_after) wait = std::max<std::chrono::milliseconds>(wait, *answer.retry_after);
    if (transport_.now() + wait >= deadline_) {
      finish(answer.error);  // no time left to wait as the server asked
      return;
    }
    timer_ = transport_.run_after(wait, [self = shared_from_this()](Status fired) {
      if (!fired.ok() || self->cancelled_) {
        self->finish(Status(StatusCode::kCancelled, "token refresh cancelled"));
      } else {
        self->attempt();
      }
    });
  }

  void finish(StatusOr<TokenGrant> result) {
    if (finished_) return;
    finished_ = true;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  Transport& transport_;
  const RefreshGrantRequest request_;
  const RetryPolicy policy_;
  const std::chrono::milliseconds timeout_;
  const bool fresh_connection_;
  TokenSource::Done done_;
  Clock::SteadyTime deadline_{};
  int attempts_ = 0;
  bool cancelled_ = false;
  bool finished_ = false;
  Handle http_;
  Handle timer_;
};

/// One call of the application's refresh handler, bounded by the refresh timeout.
class HandlerRun final : public Cancellable, public std::enable_shared_from_this<HandlerRun> {
 public:
  HandlerRun(Transport& transport, std::shared_ptr<const RefreshGrantSource> source, TokenSource::Done done)
      : transport_(transport),
        source_(std::move(source)),
        config_(source_->config()),
        done_(std::move(done)) {}

  void start() {
    auto ms = config_.refresh_timeout.count();
    timer_ = transport_.run_after(config_.refresh_timeout, [self = shared_from_this(), ms](Status fired) {
      if (fired.ok()) {
        self->finish(Status(StatusCode::kTimeout,
                            "the refresh_handler did not supply a token within " + std::to_string(ms) + " ms")
                         .with_retryable(true));
      } else {
        // finish() cancelled it (then this does nothing), or the driver is
        // being destroyed: the run ends now, whatever the handler does later.
        self->finish(
            Status(StatusCode::kCancelled, "the driver was destroyed before the refresh_handler answered"));
      }
    });
    // The handler may answer from any thread, at any time (even after the
    // driver is gone), even twice: the answer is brought to the loop through
    // the Executor, which drops it once the driver is gone, and only the
    // first answer counts.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto answer = [self = shared_from_this(), executor = transport_.executor(),
                   answered](StatusOr<RefreshHandlerResult> result) {
      if (answered->exchange(true)) return;
      executor->post([self, result = std::move(result)]() mutable { self->on_answer(std::move(result)); });
    };
    gauth::detail::invoke_user_code(config_.extras().refresh_handler, transport_, config_.requested_scopes(),
                                    std::move(answer));
  }

  void cancel() noexcept override { finish(Status(StatusCode::kCancelled, "token refresh cancelled")); }

 private:
  void on_answer(StatusOr<RefreshHandlerResult> result) {
    if (finished_) return;  // timed out, or cancelled, first
    if (!result.ok()) {
      finish(result.status());
      return;
    }
    if (!result->token) {
      finish(Status(StatusCode::kRefreshError, "The refresh_handler returned token is not a string."));
      return;
    }
    if (!result->expiry) {
      finish(
          Status(StatusCode::kRefreshError, "The refresh_handler returned expiry is not a datetime object."));
      return;
    }
    if (transport_.wall_now() >= *result->expiry - kRefreshThreshold) {
      finish(Status(StatusCode::kRefreshError,
                    "The credentials returned by the refresh_handler are already expired."));
      return;
    }
    TokenGrant grant;
    grant.access_token = std::move(*result->token);
    grant.expiry = result->expiry;
    finish(std::move(grant));
  }

  /// \context The loop thread, never inside fetch() (as GrantRun::finish).
  void finish(StatusOr<TokenGrant> result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  Transport& transport_;
  const std::shared_ptr<const RefreshGrantSource> source_;  // keeps config_ alive
  const UserCredentialsConfig& config_;
  TokenSource::Done done_;
  bool finished_ = false;
  Handle timer_;
};

}  // namespace

Handle RefreshGrantSource::fetch(Transport& transport, const FetchInput& input, Done done) const {
  const UserCredentialsConfig& c = config_;
  if (c.universe_domain != kDefaultUniverseDomain) {
    post_result(transport, std::move(done), universe_domain_error(c.universe_domain));
    return Handle();
  }
  if (!input.refresh_token && c.extras().refresh_handler)
    return fetch_from_handler(transport, std::move(done));
  if (!input.refresh_token || !c.token_uri || !c.client_id || !c.client_secret) {
    post_result(transport, std::move(done), Status(StatusCode::kRefreshError, kNecessaryFields));
    return Handle();
  }
  // The secrets go only where the transport rules allow (https, or http to
  // loopback), whatever Transport is in use. Nearly every credential has the
  // same token_uri: the last one found good is remembered per thread (not per
  // credential, which would cost memory on each).
  thread_local std::string last_good_token_uri;
  if (*c.token_uri != last_good_token_uri) {
    if (auto url = gauth::detail::check_request_url(*c.token_uri); !url.ok()) {
      post_result(
          transport, std::move(done),
          Status(StatusCode::kInvalidArgument, "cannot refresh: token_uri: " + url.status().message()));
      return Handle();
    }
    last_good_token_uri = *c.token_uri;
  }
  RefreshGrantRequest request{*c.token_uri,         *c.client_id,         *c.client_secret,
                              *input.refresh_token, c.requested_scopes(), input.rapt_token};
  auto run = std::make_shared<GrantRun>(transport, std::move(request), policy_, c.refresh_timeout,
                                        input.refresh_token_rotated, std::move(done));
  run->start();
  return Handle(run);
}

Handle RefreshGrantSource::fetch_from_handler(Transport& transport, Done done) const {
  auto run = std::make_shared<HandlerRun>(transport, shared_from_this(), std::move(done));
  run->start();
  return Handle(run);
}

}  // namespace gauth::oauth2::detail
