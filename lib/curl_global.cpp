#include "curl_global.hpp"

#include <curl/curl.h>

#include <mutex>
#include <string>

namespace gauth::detail {

Status ensure_curl_initialised() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return Status(StatusCode::kTransportError,
                  std::string("libcurl initialisation failed: ") + curl_easy_strerror(result));
  }
  return Status();
}

}  // namespace gauth::detail
