// gauth test kit: how a Reply is written on the wire (HTTP/1.1 response bytes).
#include "reply_wire.hpp"

#include "ascii_case.hpp"

#include <cstdio>

namespace gauth::test::detail {

namespace {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

bool has_field(const Reply& reply, std::string_view name) noexcept {
  for (const auto& header : reply.headers) {
    if (equals_ignoring_case(header.first, name)) return true;
  }
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

std::string encode_head(const Reply& reply, BodyFraming framing, bool closing) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " ";
  head.append(reason_phrase(reply.status)).append("\r\n");
  for (const auto& [name, value] : reply.headers) append_field(head, name, value);
  if (!has_field(reply, "content-length") && !has_field(reply, "transfer-encoding")) {
    if (framing == BodyFraming::kChunked) {
      append_field(head, "Transfer-Encoding", "chunked");
    } else {
      append_field(head, "Content-Length", std::to_string(reply.body.size()));
    }
  }
  if (closing && !has_field(reply, "connection")) append_field(head, "Connection", "close");
  head.append("\r\n");
  return head;
}

std::string encode_response(const Reply& reply, bool closing, bool head_only) {
  std::string response = encode_head(reply, BodyFraming::kContentLength, closing);
  if (!head_only) response.append(reply.body);
  return response;
}

std::string encode_chunk(std::string_view data) {
  char size_line[32];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  std::string chunk(size_line, std::size_t(n));
  chunk.append(data).append("\r\n");
  return chunk;
}

}  // namespace gauth::test::detail
