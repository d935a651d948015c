#include "form_encoding.hpp"

namespace gauth::detail {

namespace {
bool unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '~';
}
}  // namespace

void append_quote_plus(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out.push_back(char(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
}

void append_form_field(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body.push_back('&');
  append_quote_plus(body, name);
  body.push_back('=');
  append_quote_plus(body, value);
}

}  // namespace gauth::detail
