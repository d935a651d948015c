// gauth: the refresh-token grant on the wire: the request Python google-auth
// sends, and how each answer of the token endpoint is read. No I/O here.
#ifndef GAUTH_LIB_OAUTH2_TOKEN_REQUEST_HPP
#define GAUTH_LIB_OAUTH2_TOKEN_REQUEST_HPP

#include "../private.hpp"

#include "../json.hpp"
#include "../token_source.hpp"

#include <gauth/http.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace gauth::oauth2::detail {

/// The inputs of one refresh-token grant. Holds secrets.
struct RefreshGrantRequest {
  std::string token_uri;
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  std::vector<std::string> scopes;        // sent as "scope" when not empty
  std::optional<std::string> rapt_token;  // sent as "rapt" when not empty
};

/// The form body, fields in Python's order: grant_type, client_id,
/// client_secret, refresh_token[, scope][, rapt], quote_plus-encoded.
std::string refresh_grant_body(const RefreshGrantRequest& request);

/// The POST to the token endpoint (Content-Type form-urlencoded, as Python's
/// async client sends it).
HttpRequest refresh_grant_http_request(const RefreshGrantRequest& request);

/// How one answer of the token endpoint ends the attempt.
struct TokenAnswer {
  enum class Kind {
    kGrant,      // a token
    kRetryable,  // an error worth another attempt (Python's _can_retry)
    kFinal,      // an error no retry will fix
  };
  Kind kind = Kind::kFinal;
  gauth::detail::TokenGrant grant;
  Status error;
  /// The server's Retry-After, when it sent one.
  std::optional<std::chrono::seconds> retry_after;
};

/// Reads one answer. Error messages follow Python google-auth
/// ("<error>: <error_description>", the text of a non-JSON body, "No access
/// token in response.") with any secret of `request` the server echoed back
/// replaced by "<redacted>".
TokenAnswer read_token_answer(const HttpResponse& response, const RefreshGrantRequest& request,
                              Clock::WallTime now);
/// The same, consuming `response`: a 200 answer is parsed in place.
TokenAnswer read_token_answer(HttpResponse&& response, const RefreshGrantRequest& request,
                              Clock::WallTime now);

/// Python's _can_retry: a 500, 503, 504, 408 or 429 status, or an `error` or
/// `error_description` equal to internal_failure, server_error or
/// temporarily_unavailable (at any status). `json_body` is null when the body
/// is not a JSON object.
bool can_retry(int status, const rapidjson::Value* json_body);

/// A Retry-After value: delta-seconds or an HTTP-date.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Clock::WallTime now);

/// `text` with every secret of `request` (raw and form-encoded) replaced by
/// "<redacted>".
std::string redact_secrets(std::string text, const RefreshGrantRequest& request);

}  // namespace gauth::oauth2::detail

#endif  // GAUTH_LIB_OAUTH2_TOKEN_REQUEST_HPP
