// gauth test kit: header lookup on a recorded request.
#include "ascii_case.hpp"
#include "test_server.hpp"

namespace gauth::test {

std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& [field, value] : headers) {
    if (detail::equals_ignoring_case(field, name)) return value;
  }
  return {};
}

std::size_t RecordedRequest::header_count(const std::string& name) const {
  std::size_t count = 0;
  for (const auto& header : headers) {
    if (detail::equals_ignoring_case(header.first, name)) ++count;
  }
  return count;
}

}  // namespace gauth::test
