// gauth: URL checks (https, or http to loopback) and URLs safe to print.
#ifndef GAUTH_LIB_URL_HPP
#define GAUTH_LIB_URL_HPP

#include "private.hpp"

#include <gauth/status.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gauth::detail {

struct UrlInfo {
  std::string scheme;  // lower case
  std::string host;    // as written, IPv6 without brackets
  bool loopback = false;
  bool host_is_address = false;  // an IP literal: no name lookup
  /// scheme://host[:port]/path, without user info, query or fragment.
  std::string printable;
};

/// True for "localhost", 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host) noexcept;

/// Parses an absolute URL (no policy applied).
std::optional<UrlInfo> parse_url(const std::string& url);

/// scheme://host[:port]/path of `url` (no user info, query or fragment), or
/// "<an invalid URL>": what messages and descriptions may show of a URL.
std::string printable_url(const std::string& url);

/// Parses an absolute URL and applies gauth's transport rule: https, or http
/// to a loopback host. The error says what to change.
StatusOr<UrlInfo> check_request_url(const std::string& url);

}  // namespace gauth::detail

#endif  // GAUTH_LIB_URL_HPP
