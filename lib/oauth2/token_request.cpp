#include "token_request.hpp"

#include "../ascii.hpp"
#include "../form_encoding.hpp"
#include "../log.hpp"
#include "../time_format.hpp"
#include "../url.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace gauth::oauth2::detail {

using gauth::detail::append_form_field;
using gauth::detail::JsonDocument;
using gauth::detail::python_json_dumps;

namespace {

constexpr char kReauthMessage[] =
    "Reauthentication is needed. Please run `gcloud auth application-default login` to reauthenticate.";
constexpr std::size_t kMaxQuotedBody = 500;
constexpr auto kMaxLifetime = std::chrono::hours(24 * 365 * 100);

bool is_retryable_error_code(std::string_view s) {
  return s == "internal_failure" || s == "server_error" || s == "temporarily_unavailable";
}

/// Python's truthiness of a JSON value.
bool python_falsy(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
    case rapidjson::kFalseType: return true;
    case rapidjson::kNumberType: return v.GetDouble() == 0.0;
    case rapidjson::kStringType: return v.GetStringLength() == 0;
    case rapidjson::kArrayType: return v.Empty();
    case rapidjson::kObjectType: return v.ObjectEmpty();
    default: return false;
  }
}

/// A server's text for a message.
std::string printable_excerpt(std::string_view body) {
  return gauth::detail::printable_excerpt(body, kMaxQuotedBody);
}
/// The members of an error answer that would carry tokens: quoted as "<redacted>".
const std::initializer_list<std::string_view> kTokenMembers = {
    "access_token", "refresh_token", "id_token", "rapt_token", "token", "client_secret"};

TokenAnswer failure(TokenAnswer::Kind kind, Status status) {
  TokenAnswer answer;
  answer.kind = kind;
  answer.error = std::move(status);
  return answer;
}

Status malformed(const std::string& what) {
  return Status(StatusCode::kRefreshError, "the token endpoint's answer is malformed: " + what);
}

/// Reads `expires_in`: an integer, a number, or a string of digits.
StatusOr<std::optional<std::chrono::nanoseconds>> read_lifetime(const rapidjson::Value& body) {
  auto it = body.FindMember("expires_in");
  if (it == body.MemberEnd() || it->value.IsNull()) return std::optional<std::chrono::nanoseconds>();
  const auto& v = it->value;
  double seconds = 0;
  if (v.IsNumber()) {
    seconds = v.GetDouble();
  } else if (v.IsString()) {
    std::string s(v.GetString(), v.GetStringLength());
    char* end = nullptr;
    long long parsed = s.empty() ? 0 : std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size()) {
      // Not quoted: nothing of a success answer is (it carries the token).
      return malformed("expires_in is not a whole number of seconds");
    }
    seconds = double(parsed);
  } else {
    return malformed("expires_in is neither a number nor a string");
  }
  if (!std::isfinite(seconds)) return malformed("expires_in is not a finite number");
  auto lifetime = std::chrono::duration<double>(seconds);
  if (lifetime > kMaxLifetime) lifetime = kMaxLifetime;
  if (lifetime < -kMaxLifetime) lifetime = -kMaxLifetime;
  return std::optional<std::chrono::nanoseconds>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(lifetime));
}

/// An optional string member: absent and null are "none"; another type is an error.
StatusOr<std::optional<std::string>> optional_string(const rapidjson::Value& body, const char* name) {
  auto it = body.FindMember(name);
  if (it == body.MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsString()) return malformed(std::string(name) + " is not a string");
  return std::optional<std::string>(std::string(it->value.GetString(), it->value.GetStringLength()));
}

std::vector<std::string> split_on_white_space(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && gauth::detail::ascii_space(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !gauth::detail::ascii_space(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

TokenAnswer read_grant(const rapidjson::Value& body, const RefreshGrantRequest& request) {
  auto access_token = optional_string(body, "access_token");
  if (!access_token.ok()) return failure(TokenAnswer::Kind::kFinal, access_token.status());
  if (!*access_token)
    return failure(TokenAnswer::Kind::kFinal,
                   Status(StatusCode::kRefreshError, "No access token in response."));
  auto lifetime = read_lifetime(body);
  if (!lifetime.ok()) return failure(TokenAnswer::Kind::kFinal, lifetime.status());
  auto refresh_token = optional_string(body, "refresh_token");
  if (!refresh_token.ok()) return failure(TokenAnswer::Kind::kFinal, refresh_token.status());
  auto id_token = optional_string(body, "id_token");
  if (!id_token.ok()) return failure(TokenAnswer::Kind::kFinal, id_token.status());
  auto scope = optional_string(body, "scope");
  if (!scope.ok()) return failure(TokenAnswer::Kind::kFinal, scope.status());

  TokenAnswer answer;
  answer.kind = TokenAnswer::Kind::kGrant;
  gauth::detail::TokenGrant& grant = answer.grant;
  grant.access_token = std::move(**access_token);
  grant.lifetime = *lifetime;
  grant.refresh_token = std::move(*refresh_token);  // absent or null: keep the old one
  grant.id_token = std::move(*id_token);
  grant.replace_id_token = true;
  grant.rapt_token = request.rapt_token;
  if (!request.scopes.empty() && *scope) {
    // Python's sync refresh: record what was granted, warn about what was not.
    grant.granted_scopes = split_on_white_space(**scope);
    std::string missing;
    for (const auto& wanted : request.scopes) {
      if (std::find(grant.granted_scopes->begin(), grant.granted_scopes->end(), wanted) ==
          grant.granted_scopes->end()) {
        if (!missing.empty()) missing += ", ";
        missing += wanted;
      }
    }
    if (!missing.empty()) {
      gauth::detail::log(
          LogLevel::kWarning,
          "Not all requested scopes were granted by the authorization server, missing scopes " + missing +
              ".");
    }
  }
  return answer;
}

}  // namespace

std::string refresh_grant_body(const RefreshGrantRequest& request) {
  std::string body;
  body.reserve(128 + request.client_id.size() + request.client_secret.size() + request.refresh_token.size());
  append_form_field(body, "grant_type", "refresh_token");
  append_form_field(body, "client_id", request.client_id);
  append_form_field(body, "client_secret", request.client_secret);
  append_form_field(body, "refresh_token", request.refresh_token);
  if (!request.scopes.empty()) append_form_field(body, "scope", gauth::detail::join(request.scopes, " "));
  if (request.rapt_token && !request.rapt_token->empty())
    append_form_field(body, "rapt", *request.rapt_token);
  return body;
}

HttpRequest refresh_grant_http_request(const RefreshGrantRequest& request) {
  HttpRequest http;
  http.method = "POST";
  http.url = request.token_uri;
  http.headers.set("content-type", "application/x-www-form-urlencoded");
  http.body = refresh_grant_body(request);
  return http;
}

bool can_retry(int status, const rapidjson::Value* body) {
  switch (status) {
    case 500:
    case 503:
    case 504:
    case 408:
    case 429: return true;
    default: break;
  }
  if (body == nullptr || !body->IsObject()) return false;
  // Python: `data.get(field) or ""`, and a non-string (truthy) value of either
  // field makes the answer not retryable, whatever the other one says.
  std::string_view values[2];
  const char* fields[2] = {"error_description", "error"};
  for (int i = 0; i < 2; ++i) {
    auto it = body->FindMember(fields[i]);
    if (it == body->MemberEnd()) continue;
    const rapidjson::Value& v = it->value;
    if (v.IsString()) {
      values[i] = {v.GetString(), v.GetStringLength()};
    } else if (!python_falsy(v)) {
      return false;
    }
  }
  return is_retryable_error_code(values[0]) || is_retryable_error_code(values[1]);
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, Clock::WallTime now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::chrono::seconds(999'999'999);
    return std::chrono::seconds(std::strtoll(std::string(value).c_str(), nullptr, 10));
  }
  if (auto when = gauth::detail::parse_http_date(value)) {
    auto left = std::chrono::ceil<std::chrono::seconds>(*when - now);
    return std::max(left, std::chrono::seconds(0));
  }
  return std::nullopt;
}

std::string redact_secrets(std::string text, const RefreshGrantRequest& request) {
  auto scrub = [&text](const std::string& secret) {
    if (secret.size() < 4) return;  // too short to tell apart from ordinary text
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "<redacted>");
      at += 10;
    }
  };
  std::vector<const std::string*> secrets = {&request.client_secret, &request.refresh_token};
  if (request.rapt_token) secrets.push_back(&*request.rapt_token);
  for (const std::string* secret : secrets) {
    // As sent, as the form encoded it, and as a JSON string would escape it.
    scrub(*secret);
    std::string encoded;
    gauth::detail::append_quote_plus(encoded, *secret);
    if (encoded != *secret) scrub(encoded);
    std::string escaped;
    gauth::detail::append_json_string(escaped, *secret);
    escaped = escaped.substr(1, escaped.size() - 2);
    if (escaped != *secret) scrub(escaped);
  }
  return text;
}

TokenAnswer read_token_answer(const HttpResponse& response, const RefreshGrantRequest& request,
                              Clock::WallTime now) {
  return read_token_answer(HttpResponse(response), request, now);
}

TokenAnswer read_token_answer(HttpResponse&& response, const RefreshGrantRequest& request,
                              Clock::WallTime now) {
  constexpr char kWhat[] = "the token endpoint's answer";
  JsonDocument document;
  // A success is parsed in place (its text is never quoted); an error's text
  // may end up in the message, so it is kept intact.
  Status parsed = response.status == 200 ? document.parse_in_place(response.body, kWhat)
                                         : document.parse(response.body, kWhat);
  const rapidjson::Value* body = parsed.ok() && document.root().IsObject() ? &document.root() : nullptr;

  if (response.status == 200) {
    // The body of a success may hold tokens: it is never quoted.
    if (!parsed.ok()) {
      return failure(TokenAnswer::Kind::kFinal,
                     Status(StatusCode::kRefreshError, parsed.message()).with_http_status(200));
    }
    if (!body)
      return failure(TokenAnswer::Kind::kFinal, malformed("it is not a JSON object").with_http_status(200));
    TokenAnswer answer = read_grant(*body, request);
    if (answer.kind != TokenAnswer::Kind::kGrant) answer.error = answer.error.with_http_status(200);
    return answer;
  }

  const bool retryable = can_retry(response.status, body);
  Status error;
  if (response.status >= 200 && response.status < 300) {
    // A success that is not 200: Python treats it as an error; its body may
    // hold tokens, so it is not quoted.
    error = Status(StatusCode::kRefreshError,
                   "the token endpoint answered HTTP " + std::to_string(response.status) +
                       " instead of 200 (the answer is not quoted: it may hold tokens)");
  } else if (response.status >= 300 && response.status < 400) {
    std::string location = response.headers.value_or_empty("location");
    error = Status(
        StatusCode::kRefreshError,
        "the token endpoint answered HTTP " + std::to_string(response.status) +
            (location.empty() ? "" : " (a redirect to " + gauth::detail::printable_url(location) + ")") +
            "; token requests never follow redirects: check the token_uri");
  } else if (body) {
    auto error_code = gauth::detail::string_member(*body, "error");
    auto description = gauth::detail::string_member(*body, "error_description");
    auto subtype = gauth::detail::string_member(*body, "error_subtype");
    if (error_code == std::string("invalid_grant") &&
        (subtype == std::string("rapt_required") || subtype == std::string("invalid_rapt"))) {
      return failure(TokenAnswer::Kind::kFinal,
                     Status(StatusCode::kReauthRequired, kReauthMessage)
                         .with_http_status(response.status)
                         .with_oauth_error(*error_code, printable_excerpt(redact_secrets(
                                                            description.value_or(""), request))));
    }
    if (error_code) {
      std::string message = *error_code;
      if (description) message += ": " + *description;
      error = Status(StatusCode::kRefreshError, printable_excerpt(redact_secrets(message, request)))
                  .with_oauth_error(printable_excerpt(redact_secrets(*error_code, request)),
                                    printable_excerpt(redact_secrets(description.value_or(""), request)));
    } else {
      error = Status(StatusCode::kRefreshError,
                     printable_excerpt(redact_secrets(python_json_dumps(*body, kTokenMembers), request)));
    }
  } else if (!response.body.empty()) {
    // Not a JSON object: Python's sync client puts the text itself in the error.
    std::string text = parsed.ok() ? python_json_dumps(document.root(), kTokenMembers) : response.body;
    error = Status(StatusCode::kRefreshError, printable_excerpt(redact_secrets(text, request)));
  } else {
    error = Status(StatusCode::kRefreshError, "the token endpoint answered HTTP " +
                                                  std::to_string(response.status) + " with an empty body");
  }
  TokenAnswer answer = failure(retryable ? TokenAnswer::Kind::kRetryable : TokenAnswer::Kind::kFinal,
                               error.with_http_status(response.status).with_retryable(retryable));
  if (const std::string* retry_after = response.headers.find("retry-after")) {
    answer.retry_after = parse_retry_after(*retry_after, now);
  }
  return answer;
}

}  // namespace gauth::oauth2::detail
