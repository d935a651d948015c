// gauth test kit: finding one complete HTTP/1.x request at the front of a byte buffer.
#include "http_request_parser.hpp"

#include "ascii_case.hpp"

#include <optional>

namespace gauth::test::detail {

namespace {

// Bounds on what we wait for, so a broken client gets a 400 instead of an
// ever-growing buffer.
constexpr std::size_t kMaxHeadSize = 64 * 1024;
constexpr std::size_t kMaxChunkLineSize = 4 * 1024;
// Sixteen hex digits could overflow size_t arithmetic below; no test sends more than this.
constexpr std::size_t kMaxChunkSizeDigits = 12;

constexpr std::string_view kCrlf = "\r\n";

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::size_t> parse_decimal(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::size_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + std::size_t(c - '0');
  }
  return value;
}

std::optional<std::size_t> parse_hex(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > kMaxChunkSizeDigits) return std::nullopt;
  std::size_t value = 0;
  for (char c : digits) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return std::nullopt;
    value = value * 16 + std::size_t(digit);
  }
  return value;
}

/// Calls `visit` with each comma-separated, trimmed, non-empty element of
/// every field named `name` (HTTP list syntax, e.g. Connection, Transfer-Encoding).
template <typename Visit>
void for_each_list_element(const RecordedRequest& request, std::string_view name, Visit visit) {
  for (const auto& [field, value] : request.headers) {
    if (!equals_ignoring_case(field, name)) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view element = trim(rest.substr(0, comma));
      if (!element.empty()) visit(element);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
}

ParsedRequest malformed(std::string why) {
  ParsedRequest parsed;
  parsed.result = ParsedRequest::Result::kMalformed;
  parsed.error = std::move(why);
  return parsed;
}

ParsedRequest incomplete(bool expects_continue) {
  ParsedRequest parsed;
  parsed.expects_continue = expects_continue;
  return parsed;
}

/// Parses the request line and header fields of `head` (without the final
/// blank line) into `parsed`; false (with parsed.error set) when malformed.
bool parse_head(std::string_view head, ParsedRequest& parsed, bool& http_1_1) {
  std::size_t line_end = head.find(kCrlf);
  std::string_view request_line = head.substr(0, line_end);
  std::size_t first_space = request_line.find(' ');
  std::size_t second_space =
      first_space == std::string_view::npos ? first_space : request_line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos ||
      request_line.find(' ', second_space + 1) != std::string_view::npos || first_space == 0 ||
      second_space == first_space + 1) {
    parsed.error = "malformed request line";
    return false;
  }
  std::string_view version = request_line.substr(second_space + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    parsed.error = "unsupported HTTP version";
    return false;
  }
  http_1_1 = version == "HTTP/1.1";
  parsed.request.method = std::string(request_line.substr(0, first_space));
  parsed.request.target = std::string(request_line.substr(first_space + 1, second_space - first_space - 1));

  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + kCrlf.size();
  while (pos < head.size()) {
    std::size_t end = head.find(kCrlf, pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    pos = end + kCrlf.size();
    std::size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    // Also rejects obsolete line folding (a line starting with whitespace).
    if (colon == std::string_view::npos || name.empty() ||
        name.find_first_of(" \t") != std::string_view::npos) {
      parsed.error = "malformed header field";
      return false;
    }
    parsed.request.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  return true;
}

/// Decodes a chunked body starting at `pos`; sets parsed.size to the end of
/// the trailer section when complete.
ParsedRequest parse_chunked_body(std::string_view buffer, std::size_t pos, ParsedRequest parsed,
                                 bool expects_continue) {
  std::string body;
  for (;;) {
    std::size_t line_end = buffer.find(kCrlf, pos);
    if (line_end == std::string_view::npos) {
      if (buffer.size() - pos > kMaxChunkLineSize) return malformed("chunk size line too long");
      return incomplete(expects_continue && body.empty());
    }
    std::string_view size_line = buffer.substr(pos, line_end - pos);
    std::optional<std::size_t> size = parse_hex(trim(size_line.substr(0, size_line.find(';'))));
    if (!size) return malformed("malformed chunk size");
    pos = line_end + kCrlf.size();
    if (*size == 0) break;
    if (buffer.size() - pos < *size + kCrlf.size()) return incomplete(false);
    if (buffer.substr(pos + *size, kCrlf.size()) != kCrlf)
      return malformed("chunk data not followed by CRLF");
    body.append(buffer.substr(pos, *size));
    pos += *size + kCrlf.size();
  }
  // Trailer section: field lines up to an empty line.
  for (;;) {
    std::size_t line_end = buffer.find(kCrlf, pos);
    if (line_end == std::string_view::npos) {
      if (buffer.size() - pos > kMaxHeadSize) return malformed("trailer section too long");
      return incomplete(false);
    }
    bool empty_line = line_end == pos;
    pos = line_end + kCrlf.size();
    if (empty_line) break;
  }
  parsed.request.body = std::move(body);
  parsed.size = pos;
  parsed.result = ParsedRequest::Result::kComplete;
  return parsed;
}

}  // namespace

ParsedRequest parse_request(std::string_view buffer) {
  std::size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (buffer.size() > kMaxHeadSize) return malformed("request head longer than 64 KiB");
    return incomplete(false);
  }

  ParsedRequest parsed;
  bool http_1_1 = true;
  if (!parse_head(buffer.substr(0, head_end), parsed, http_1_1)) {
    return malformed(std::move(parsed.error));
  }
  const RecordedRequest& request = parsed.request;

  parsed.keep_alive = http_1_1;
  for_each_list_element(request, "connection", [&](std::string_view token) {
    if (equals_ignoring_case(token, "close")) parsed.keep_alive = false;
    if (equals_ignoring_case(token, "keep-alive") && !http_1_1) parsed.keep_alive = true;
  });
  const bool expects_continue = http_1_1 && equals_ignoring_case(request.header("expect"), "100-continue");
  const std::size_t body_start = head_end + 4;

  // Transfer-Encoding overrides Content-Length (RFC 9112, 6.3).
  if (request.header_count("transfer-encoding") > 0) {
    std::string_view last_coding;
    for_each_list_element(request, "transfer-encoding",
                          [&](std::string_view coding) { last_coding = coding; });
    if (!equals_ignoring_case(last_coding, "chunked")) return malformed("unsupported transfer coding");
    return parse_chunked_body(buffer, body_start, std::move(parsed), expects_continue);
  }

  std::size_t body_size = 0;
  if (request.header_count("content-length") > 0) {
    std::optional<std::size_t> length;
    for (const auto& [field, value] : request.headers) {
      if (!equals_ignoring_case(field, "content-length")) continue;
      std::optional<std::size_t> this_length = parse_decimal(value);
      if (!this_length || (length && *length != *this_length)) return malformed("invalid Content-Length");
      length = this_length;
    }
    body_size = *length;
  }
  if (buffer.size() - body_start < body_size) return incomplete(expects_continue);
  parsed.request.body = std::string(buffer.substr(body_start, body_size));
  parsed.size = body_start + body_size;
  parsed.result = ParsedRequest::Result::kComplete;
  return parsed;
}

}  // namespace gauth::test::detail
