// gauth: application/x-www-form-urlencoded bodies, encoded as Python's urlencode (quote_plus).
#ifndef GAUTH_LIB_FORM_ENCODING_HPP
#define GAUTH_LIB_FORM_ENCODING_HPP

#include "private.hpp"

#include <string>
#include <string_view>

namespace gauth::detail {

/// Appends `s` quote_plus-encoded: A-Z a-z 0-9 _ . - ~ stay, space becomes
/// '+', every other byte becomes %XX (upper-case hex).
void append_quote_plus(std::string& out, std::string_view s);

/// Appends "name=value" (both encoded), preceded by '&' unless `body` is empty.
void append_form_field(std::string& body, std::string_view name, std::string_view value);

}  // namespace gauth::detail

#endif  // GAUTH_LIB_FORM_ENCODING_HPP
