// gauth: the expiry timestamps of credential files (RFC 3339 subset), read and written.
#ifndef GAUTH_LIB_TIME_FORMAT_HPP
#define GAUTH_LIB_TIME_FORMAT_HPP

#include "private.hpp"

#include <gauth/clock.hpp>
#include <gauth/status.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gauth::detail {

/// Parses "YYYY-MM-DDTHH:MM:SS", optionally followed by a fraction of a second
/// (".123456", kept to the microsecond) and by "Z", "+HH:MM" or "-HH:MM". No
/// suffix means UTC (as Python google-auth writes it).
StatusOr<Clock::WallTime> parse_expiry(std::string_view text);

/// Parses an HTTP-date in the preferred IMF-fixdate form
/// ("Sun, 06 Nov 1994 08:49:37 GMT"), as a Retry-After header may carry.
std::optional<Clock::WallTime> parse_http_date(std::string_view text);

/// Formats as "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds).
std::string format_expiry(Clock::WallTime time);

}  // namespace gauth::detail

#endif  // GAUTH_LIB_TIME_FORMAT_HPP
