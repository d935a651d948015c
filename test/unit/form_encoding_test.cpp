#include "form_encoding.hpp"

#include <catch2/catch.hpp>

using gauth::detail::append_form_field;
using gauth::detail::append_quote_plus;

TEST_CASE("quote_plus keeps unreserved characters and encodes the rest like Python", "[form]") {
  std::string out;
  append_quote_plus(out, "AZaz09_.-~");
  CHECK(out == "AZaz09_.-~");
  out.clear();
  append_quote_plus(out, "a b/c:d+e=f&g%h");
  CHECK(out == "a+b%2Fc%3Ad%2Be%3Df%26g%25h");
  out.clear();
  append_quote_plus(out, "\xc3\xa9\x01");
  CHECK(out == "%C3%A9%01");
}

TEST_CASE("form fields are joined with & in the order given", "[form]") {
  // The example body of the reference notes (§2.4), byte for byte.
  std::string body;
  append_form_field(body, "grant_type", "refresh_token");
  append_form_field(body, "client_id", "123.apps.googleusercontent.com");
  append_form_field(body, "client_secret", "s3cr/et+x");
  append_form_field(body, "refresh_token", "1//0gAbC-d_e");
  append_form_field(body, "scope",
                    "https://www.googleapis.com/auth/pubsub https://www.googleapis.com/auth/logging.write");
  append_form_field(body, "rapt", "r~a.p_t");
  CHECK(
      body ==
      "grant_type=refresh_token&client_id=123.apps.googleusercontent.com&client_secret=s3cr%2Fet%2Bx"
      "&refresh_token=1%2F%2F0gAbC-d_e&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub+https%3A%2F%2F"
      "www.googleapis.com%2Fauth%2Flogging.write&rapt=r~a.p_t");
}
