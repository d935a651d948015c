// gauth-testing: a fake OAuth2 token endpoint on 127.0.0.1, for testing
// applications that use gauth (library gauth-testing, pkg-config gauth-testing).
#ifndef GAUTH_TESTING_FAKE_TOKEN_SERVER_HPP
#define GAUTH_TESTING_FAKE_TOKEN_SERVER_HPP

#include <gauth/export.hpp>
#include <gauth/status.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gauth::testing {

/// One scripted answer of the fake token endpoint.
struct GAUTH_EXPORT TokenAnswer {
  enum class Fault {
    kNone,                // answer normally
    kStall,               // read the request, never answer (until the server is destroyed)
    kReset,               // reset the connection (TCP RST) instead of answering
    kCloseWithoutAnswer,  // close the connection cleanly without an answer
    kTruncate,            // announce the whole body, send half of it, close
  };

  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};
  Fault fault = Fault::kNone;

  /// 200 with {"access_token", "expires_in", "token_type": "Bearer"}.
  static TokenAnswer token(std::string access_token, int expires_in = 3599);
  /// Adds a field to a token answer (refresh_token, id_token, scope, ...).
  TokenAnswer& with_field(const std::string& name, const std::string& value);
  /// An OAuth error: {"error", "error_description"?}, 400 unless said otherwise.
  static TokenAnswer oauth_error(std::string error, std::optional<std::string> description = std::nullopt,
                                 int status = 400);
  /// invalid_grant with error_subtype rapt_required (or invalid_rapt).
  static TokenAnswer reauth_required(std::string subtype = "rapt_required");
  /// A retryable failure: 503 (or 500, 429, ...) with {"error": "temporarily_unavailable"}
  /// and, when given, a Retry-After header.
  static TokenAnswer unavailable(int status = 503, std::optional<int> retry_after_seconds = std::nullopt);
  /// Any body, as it is (not valid JSON, a JSON list, wrong types...).
  static TokenAnswer malformed(std::string body, int status = 200);
  static TokenAnswer with_fault(Fault fault);

  /// This answer, sent after `delay`.
  TokenAnswer& after(std::chrono::milliseconds delay);
};

/// A request the fake endpoint received.
struct GAUTH_EXPORT ReceivedTokenRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  /// A field of the form body, decoded ("grant_type", "refresh_token", "scope", ...).
  std::optional<std::string> form_field(std::string_view name) const;
};

/// A fake token endpoint, on 127.0.0.1 with an ephemeral port, plain HTTP or
/// HTTPS (with a test CA). Answers come from the queue, in order; when it is
/// empty, from the default answer (initially a new token each time:
/// "ya29.fake-1", "ya29.fake-2", ...). Every request is logged.
/// \context Thread-safe; the server runs on a thread of its own.
class GAUTH_EXPORT FakeTokenServer {
 public:
  enum class Tls { kOff, kOn };

  static StatusOr<std::unique_ptr<FakeTokenServer>> start(Tls tls = Tls::kOff);
  /// Stops the server, ending stalled connections.
  ~FakeTokenServer();
  FakeTokenServer(const FakeTokenServer&) = delete;
  FakeTokenServer& operator=(const FakeTokenServer&) = delete;

  /// "http://127.0.0.1:<port>/token" or "https://localhost:<port>/token".
  std::string token_uri() const;
  /// A PEM file of the CA behind the HTTPS certificate (CurlDriverOptions::ca_bundle).
  std::string ca_bundle_path() const;

  void enqueue(TokenAnswer answer);
  void set_default(TokenAnswer answer);

  std::vector<ReceivedTokenRequest> requests() const;
  std::size_t request_count() const;
  /// Waits until `n` requests arrived; false on timeout.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  class Impl;
  explicit FakeTokenServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gauth::testing

#endif  // GAUTH_TESTING_FAKE_TOKEN_SERVER_HPP
