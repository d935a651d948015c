// gauth test kit: how a Reply is written on the wire (HTTP/1.1 response bytes).
#ifndef GAUTH_TEST_SUPPORT_REPLY_WIRE_HPP
#define GAUTH_TEST_SUPPORT_REPLY_WIRE_HPP

#include "test_server.hpp"

#include <string>
#include <string_view>

namespace gauth::test::detail {

enum class BodyFraming {
  kContentLength,  // "Content-Length: <body.size()>"
  kChunked,        // "Transfer-Encoding: chunked"
};

/// The status line and header section of `reply`, through the empty line.
/// The framing field is added unless the reply already has a Content-Length
/// or Transfer-Encoding field of its own (so a test can announce a lying
/// length); "Connection: close" is added when `closing` and the reply has no
/// Connection field.
std::string encode_head(const Reply& reply, BodyFraming framing, bool closing);

/// The whole response, Content-Length framed: head then body. `head_only`
/// leaves the body out (the answer to HEAD still announces its length).
std::string encode_response(const Reply& reply, bool closing, bool head_only);

/// One chunk of the chunked transfer coding carrying `data` (not empty).
std::string encode_chunk(std::string_view data);

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_REPLY_WIRE_HPP
