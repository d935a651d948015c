#include <gauth/testing/fake_token_server.hpp>

#include "ascii_case.hpp"
#include "test_server.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>

namespace gauth::testing {

namespace {

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

test::Reply to_reply(const TokenAnswer& answer) {
  test::Reply reply;
  reply.status = answer.status;
  reply.headers = answer.headers;
  reply.body = answer.body;
  reply.delay = answer.delay;
  switch (answer.fault) {
    case TokenAnswer::Fault::kNone: break;
    case TokenAnswer::Fault::kStall: reply.fault = test::Reply::Fault::kStall; break;
    case TokenAnswer::Fault::kReset: reply.fault = test::Reply::Fault::kReset; break;
    case TokenAnswer::Fault::kCloseWithoutAnswer:
      reply.fault = test::Reply::Fault::kCloseWithoutResponse;
      break;
    case TokenAnswer::Fault::kTruncate:
      reply.fault = test::Reply::Fault::kTruncate;
      reply.bytes = reply.body.size() / 2;
      break;
  }
  return reply;
}

}  // namespace

// ---- TokenAnswer ----------------------------------------------------------------

TokenAnswer TokenAnswer::token(std::string access_token, int expires_in) {
  TokenAnswer a;
  a.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  a.body = "{\"access_token\": " + json_string(access_token) +
           ", \"expires_in\": " + std::to_string(expires_in) + ", \"token_type\": \"Bearer\"}";
  return a;
}

TokenAnswer& TokenAnswer::with_field(const std::string& name, const std::string& value) {
  // Insert before the closing brace of the JSON object.
  auto close = body.rfind('}');
  if (close != std::string::npos) body.insert(close, ", " + json_string(name) + ": " + json_string(value));
  return *this;
}

TokenAnswer TokenAnswer::oauth_error(std::string error, std::optional<std::string> description, int status) {
  TokenAnswer a;
  a.status = status;
  a.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  a.body = "{\"error\": " + json_string(error);
  if (description) a.body += ", \"error_description\": " + json_string(*description);
  a.body += "}";
  return a;
}

TokenAnswer TokenAnswer::reauth_required(std::string subtype) {
  TokenAnswer a = oauth_error("invalid_grant", std::string("reauth related error (") + subtype + ")");
  a.body.insert(a.body.size() - 1, ", \"error_subtype\": " + json_string(subtype));
  return a;
}

TokenAnswer TokenAnswer::unavailable(int status, std::optional<int> retry_after_seconds) {
  TokenAnswer a = oauth_error("temporarily_unavailable", std::nullopt, status);
  if (retry_after_seconds) a.headers.emplace_back("Retry-After", std::to_string(*retry_after_seconds));
  return a;
}

TokenAnswer TokenAnswer::malformed(std::string body, int status) {
  TokenAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

TokenAnswer TokenAnswer::with_fault(Fault fault) {
  TokenAnswer a = token("ya29.never-sent");
  a.fault = fault;
  return a;
}

TokenAnswer& TokenAnswer::after(std::chrono::milliseconds d) {
  delay = d;
  return *this;
}

// ---- ReceivedTokenRequest ----------------------------------------------------------

std::string ReceivedTokenRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (test::detail::equals_ignoring_case(n, name)) return v;
  }
  return "";
}

std::optional<std::string> ReceivedTokenRequest::form_field(std::string_view name) const {
  std::string_view rest = body;
  while (!rest.empty()) {
    std::string_view pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    auto eq = pair.find('=');
    if (form_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

// ---- FakeTokenServer ----------------------------------------------------------------

class FakeTokenServer::Impl {
 public:
  explicit Impl(Tls tls)
      : server_(tls == Tls::kOn ? test::TestServer::Tls::kOn : test::TestServer::Tls::kOff) {
    server_.set_handler([this](const test::RecordedRequest&) { return next_reply(); });
  }

  test::Reply next_reply() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!queue_.empty()) {
      TokenAnswer a = std::move(queue_.front());
      queue_.pop_front();
      return to_reply(a);
    }
    if (default_) return to_reply(*default_);
    return to_reply(TokenAnswer::token("ya29.fake-" + std::to_string(++issued_)));
  }

  std::mutex mutex_;
  std::deque<TokenAnswer> queue_;
  std::optional<TokenAnswer> default_;
  int issued_ = 0;
  // Last, so it is destroyed first: its thread runs next_reply() until then.
  test::TestServer server_;
};

StatusOr<std::unique_ptr<FakeTokenServer>> FakeTokenServer::start(Tls tls) {
  try {
    return std::unique_ptr<FakeTokenServer>(new FakeTokenServer(std::make_unique<Impl>(tls)));
  } catch (const std::exception& e) {
    return Status(StatusCode::kTransportError,
                  std::string("cannot start the fake token server: ") + e.what());
  }
}

FakeTokenServer::FakeTokenServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeTokenServer::~FakeTokenServer() = default;

std::string FakeTokenServer::token_uri() const { return impl_->server_.url("/token"); }
std::string FakeTokenServer::ca_bundle_path() const { return test::TestServer::ca_bundle_path(); }

void FakeTokenServer::enqueue(TokenAnswer answer) {
  std::lock_guard<std::mutex> lock(impl_->mutex_);
  impl_->queue_.push_back(std::move(answer));
}

void FakeTokenServer::set_default(TokenAnswer answer) {
  std::lock_guard<std::mutex> lock(impl_->mutex_);
  impl_->default_ = std::move(answer);
}

std::vector<ReceivedTokenRequest> FakeTokenServer::requests() const {
  std::vector<ReceivedTokenRequest> out;
  for (auto& r : impl_->server_.requests()) {
    out.push_back(ReceivedTokenRequest{r.method, r.target, r.headers, r.body});
  }
  return out;
}

std::size_t FakeTokenServer::request_count() const { return impl_->server_.request_count(); }

bool FakeTokenServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->server_.wait_for_requests(n, timeout);
}

}  // namespace gauth::testing
