#include "url.hpp"

#include "ascii.hpp"

#include <gauth/http.hpp>

#include <curl/curl.h>

#include <arpa/inet.h>

#include <memory>

namespace gauth::detail {

namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const noexcept { curl_free(s); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

CurlString get_part(CURLU* u, CURLUPart part) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, 0) != CURLUE_OK) return nullptr;
  return CurlString(out);
}

}  // namespace

bool is_loopback_host(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char buf[INET6_ADDRSTRLEN + 1];
  if (host.empty() || host.size() >= sizeof buf) return false;
  host.copy(buf, host.size());
  buf[host.size()] = '\0';
  if (iequals(host, "localhost")) return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, buf, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, buf, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string printable_url(const std::string& url) {
  auto info = parse_url(url);
  return info ? info->printable : std::string("<an invalid URL>");
}

StatusOr<UrlInfo> check_request_url(const std::string& url) {
  auto parsed = parse_url(url);
  if (!parsed) {
    // Not quoted: a URL may carry credentials in its user info or query.
    return Status(StatusCode::kInvalidArgument, "invalid URL: expected an absolute https:// URL");
  }
  UrlInfo info = std::move(*parsed);
  if (info.scheme == "https") return info;
  if (info.scheme == "http") {
    if (info.loopback) return info;
    return Status(StatusCode::kInvalidArgument,
                  "refusing plain http to " + info.printable +
                      ": only https is allowed, except http to a loopback address");
  }
  return Status(StatusCode::kInvalidArgument,
                "unsupported URL scheme \"" + info.scheme + "\" in " + info.printable + ": use https");
}

std::optional<UrlInfo> parse_url(const std::string& url) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return std::nullopt;
  UrlInfo info;
  auto scheme = get_part(u.get(), CURLUPART_SCHEME);
  auto host = get_part(u.get(), CURLUPART_HOST);
  auto path = get_part(u.get(), CURLUPART_PATH);
  auto port = get_part(u.get(), CURLUPART_PORT);
  info.scheme = scheme ? ascii_lower(scheme.get()) : std::string();
  info.host = host ? host.get() : std::string();
  info.printable = info.scheme + "://" + info.host + (port ? std::string(":") + port.get() : "") +
                   (path ? path.get() : "/");
  if (info.host.size() >= 2 && info.host.front() == '[')
    info.host = info.host.substr(1, info.host.size() - 2);
  info.loopback = is_loopback_host(info.host);
  in6_addr address{};
  info.host_is_address = ::inet_pton(AF_INET, info.host.c_str(), &address) == 1 ||
                         ::inet_pton(AF_INET6, info.host.c_str(), &address) == 1;
  return info;
}

}  // namespace gauth::detail
