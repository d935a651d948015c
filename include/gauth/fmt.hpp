// gauth: {fmt} formatters for gauth's types. Opt-in: the only public header
// that includes fmt, so that consumers who do not use fmt never see it, and
// those who do get formatters built against their own fmt.
#ifndef GAUTH_FMT_HPP
#define GAUTH_FMT_HPP

#include <gauth/credentials.hpp>
#include <gauth/oauth2/credentials.hpp>
#include <gauth/status.hpp>

#include <fmt/format.h>

#include <string_view>

namespace gauth::detail {

/// Formats through a to_string() overload, with std::string_view's format spec.
template <typename T>
struct ToStringFormatter : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const T& value, FormatContext& ctx) const {
    using gauth::to_string;
    using gauth::oauth2::to_string;
    return fmt::formatter<std::string_view>::format(std::string_view(to_string(value)), ctx);
  }
};

}  // namespace gauth::detail

/// "REFRESH_ERROR: invalid_grant: Token has been expired or revoked."
template <>
struct fmt::formatter<gauth::Status> : gauth::detail::ToStringFormatter<gauth::Status> {};
/// "REFRESH_ERROR"
template <>
struct fmt::formatter<gauth::StatusCode> : gauth::detail::ToStringFormatter<gauth::StatusCode> {};
/// "FRESH", "STALE", "INVALID"
template <>
struct fmt::formatter<gauth::TokenState> : gauth::detail::ToStringFormatter<gauth::TokenState> {};
/// The credentials without any secret (see gauth::oauth2::to_string).
template <>
struct fmt::formatter<gauth::oauth2::Credentials>
    : gauth::detail::ToStringFormatter<gauth::oauth2::Credentials> {};

#endif  // GAUTH_FMT_HPP
