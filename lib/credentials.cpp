#include <gauth/credentials.hpp>

#include "token_cache.hpp"

namespace gauth {

namespace {

void set_authorization(Headers& headers, std::string_view bearer_value,
                       const std::optional<std::string>& quota_project) {
  headers.set("authorization", bearer_value);
  if (quota_project && !quota_project->empty()) headers.set("x-goog-user-project", *quota_project);
}

}  // namespace

const char* to_string(TokenState state) noexcept {
  switch (state) {
    case TokenState::kFresh: return "FRESH";
    case TokenState::kStale: return "STALE";
    case TokenState::kInvalid: return "INVALID";
  }
  return "UNKNOWN";
}

Credentials::Credentials(std::shared_ptr<detail::TokenCache> cache,
                         std::optional<std::string> quota_project_id) noexcept
    : cache_(std::move(cache)), quota_project_id_(std::move(quota_project_id)) {}

Credentials::~Credentials() = default;

std::optional<std::string> Credentials::token() const { return cache_->token(); }

std::optional<Clock::WallTime> Credentials::expiry() const { return cache_->expiry(); }

bool Credentials::expired() const { return cache_->expired(); }

bool Credentials::valid() const { return token_state() == TokenState::kFresh; }  // one snapshot

TokenState Credentials::token_state() const { return cache_->state(); }

Status Credentials::apply(Headers& headers, std::optional<std::string_view> token_override) const {
  // Python: `token or self.token`, so an empty override falls back too.
  if (token_override && !token_override->empty()) {
    set_authorization(headers, "Bearer " + std::string(*token_override), quota_project_id_);
    return Status();
  }
  auto current = token();
  if (!current) {
    return Status(StatusCode::kInvalidArgument,
                  "no access token to apply: refresh the credentials first (or use before_request)");
  }
  set_authorization(headers, "Bearer " + *current, quota_project_id_);
  return Status();
}

bool Credentials::try_apply(Headers& headers) const {
  // A per-thread scratch string keeps its capacity, so the only allocation is
  // the header's own string (none when the caller reuses its Headers).
  thread_local std::string value;
  value.assign("Bearer ");
  if (!cache_->read_fresh_token(value)) return false;
  set_authorization(headers, value, quota_project_id_);
  return true;
}

Handle Credentials::refresh(Transport& transport, Callback done, WaitOptions options) const {
  return cache_->demand(transport, detail::TokenCache::Demand::kRefresh, options,
                        [done = std::move(done)](StatusOr<std::string> token) { done(token.status()); });
}

Handle Credentials::before_request(Transport& transport, std::string_view /*method*/,
                                   std::string_view /*url*/, Headers headers, HeadersCallback done,
                                   WaitOptions options) const {
  auto on_token = [headers = std::move(headers), done = std::move(done), quota = quota_project_id_,
                   metric = usage_metric()](StatusOr<std::string> token) mutable {
    if (!token.ok()) {
      done(token.status());
      return;
    }
    set_authorization(headers, "Bearer " + *token, quota);
    if (metric) {
      // Python's metrics.add_metric_header: set, or append to what is there.
      if (const std::string* existing = headers.find("x-goog-api-client")) {
        headers.set("x-goog-api-client", *existing + " " + metric);
      } else {
        headers.set("x-goog-api-client", metric);
      }
    }
    done(std::move(headers));
  };
  return cache_->demand(transport, detail::TokenCache::Demand::kUse, options, std::move(on_token));
}

}  // namespace gauth
