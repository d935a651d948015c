// gauth test kit: finding one complete HTTP/1.x request at the front of a byte buffer.
#ifndef GAUTH_TEST_SUPPORT_HTTP_REQUEST_PARSER_HPP
#define GAUTH_TEST_SUPPORT_HTTP_REQUEST_PARSER_HPP

#include "test_server.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace gauth::test::detail {

/// What parse_request() found at the front of the buffer.
struct ParsedRequest {
  enum class Result {
    kIncomplete,  // more bytes are needed
    kComplete,    // `request` is whole and occupied the first `size` bytes
    kMalformed,   // not HTTP/1.x as we accept it; answer 400 and close
  };

  Result result = Result::kIncomplete;
  RecordedRequest request;  // kComplete; connection_id is left to the caller
  std::size_t size = 0;     // kComplete
  /// kComplete: whether the client allows another request on the connection
  /// (HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive").
  bool keep_alive = true;
  /// kIncomplete: the head is in, it carries "Expect: 100-continue" and the
  /// body has not arrived, so the client may be waiting for "100 Continue".
  bool expects_continue = false;
  std::string error;  // kMalformed: why, for the body of the 400
};

/// Parses the request at the front of `buffer`: request line, header fields,
/// and a body framed by Content-Length or by the chunked transfer coding
/// (decoded; trailer fields are dropped). Stateless: when the result is
/// kIncomplete, call again with the same bytes plus more.
ParsedRequest parse_request(std::string_view buffer);

}  // namespace gauth::test::detail

#endif  // GAUTH_TEST_SUPPORT_HTTP_REQUEST_PARSER_HPP
