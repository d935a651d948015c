// gauth: ASCII case folding (header names, URL schemes: never locale-dependent).
#ifndef GAUTH_LIB_ASCII_HPP
#define GAUTH_LIB_ASCII_HPP

#include "private.hpp"

#include <string>

namespace gauth::detail {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = ascii_lower(c);
  return s;
}

}  // namespace gauth::detail

#endif  // GAUTH_LIB_ASCII_HPP
