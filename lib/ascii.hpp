// gauth: text helpers (ASCII only, never locale-dependent).
#ifndef GAUTH_LIB_ASCII_HPP
#define GAUTH_LIB_ASCII_HPP

#include "private.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace gauth::detail {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string s) {
  for (auto& c : s) c = ascii_lower(c);
  return s;
}

/// Python's str.split() and str.strip() white space, in ASCII (no locale).
constexpr bool ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Python's `separator.join(items)`.
inline std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

/// Outside text (a server's answer, a child's stderr, a file's value) fit to
/// quote in a one-line message: control characters become spaces, the ends
/// are trimmed, and what is over `max_chars` is cut, ending in "...".
inline std::string printable_excerpt(std::string_view text, std::size_t max_chars) {
  auto blank = [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  std::string out;
  out.reserve(std::min(text.size(), max_chars) + 3);
  for (char c : text.substr(0, max_chars)) out.push_back(blank(c) ? ' ' : c);
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace gauth::detail

#endif  // GAUTH_LIB_ASCII_HPP
