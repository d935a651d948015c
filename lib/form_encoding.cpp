#include "form_encoding.hpp"

namespace gauth::detail {

namespace {

/// Python's quote_plus keeps A-Z a-z 0-9 _ . - ~ as they are.
struct UnreservedTable {
  bool keep[256] = {};
  constexpr UnreservedTable() {
    for (int c = 'A'; c <= 'Z'; ++c) keep[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) keep[c] = true;
    for (int c = '0'; c <= '9'; ++c) keep[c] = true;
    keep[int('_')] = keep[int('.')] = keep[int('-')] = keep[int('~')] = true;
  }
};
constexpr UnreservedTable kUnreserved;

}  // namespace

void append_quote_plus(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Size for the worst case, write through a pointer, trim: one allocation at most.
  std::size_t start = out.size();
  out.resize(start + 3 * s.size());
  char* p = out.data() + start;
  for (unsigned char c : s) {
    if (kUnreserved.keep[c]) {
      *p++ = char(c);
    } else if (c == ' ') {
      *p++ = '+';
    } else {
      *p++ = '%';
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 0xF];
    }
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

void append_form_field(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body.push_back('&');
  append_quote_plus(body, name);
  body.push_back('=');
  append_quote_plus(body, value);
}

}  // namespace gauth::detail
