// gauth test kit: ASCII case-insensitive comparison, for header names and tokens.
#ifndef GAUTH_TEST_SUPPORT_ASCII_CASE_HPP
#define GAUTH_TEST_SUPPORT_ASCII_CASE_HPP

#include <string_view>

namespace gauth::test::detail {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

/// HTTP field names and tokens are case-insensitive in ASCII only, so no locale is involved.
constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_ASCII_CASE_HPP
