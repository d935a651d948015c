// gauth test kit: the Reply shorthands.
#include "test_server.hpp"

namespace gauth::test {

namespace {

Reply with_content_type(int status, std::string body, const char* content_type) {
  Reply reply;
  reply.status = status;
  reply.headers.emplace_back("Content-Type", content_type);
  reply.body = std::move(body);
  return reply;
}

}  // namespace

Reply Reply::json(int status, std::string body) {
  return with_content_type(status, std::move(body), "application/json");
}

Reply Reply::text(int status, std::string body) {
  return with_content_type(status, std::move(body), "text/plain");
}

Reply Reply::redirect(int status, std::string location) {
  Reply reply;
  reply.status = status;
  reply.headers.emplace_back("Location", std::move(location));
  return reply;
}

Reply Reply::huge(std::size_t size) {
  Reply reply;
  reply.body.assign(size, 'x');
  return reply;
}

Reply Reply::with_fault(Fault fault) {
  Reply reply;
  reply.fault = fault;
  // Defaults that make each fault observable as documented in the header.
  switch (fault) {
    case Fault::kStallAfterHeaders: reply.body.assign(64, 'x'); break;
    case Fault::kSlowDrip: reply.body = "drip"; break;
    case Fault::kTruncate:
      reply.body.assign(1024, 'x');
      reply.bytes = 512;
      break;
    case Fault::kGarbage: reply.body = "this is not HTTP\r\n\r\n"; break;
    case Fault::kNone:
    case Fault::kStall:
    case Fault::kReset:  // bytes 0: the reset is the first thing the client sees
    case Fault::kEndlessBody:
    case Fault::kCloseWithoutResponse: break;
  }
  return reply;
}

}  // namespace gauth::test
