// gauth: process-wide libcurl initialisation, done once and never undone.
#ifndef GAUTH_LIB_CURL_GLOBAL_HPP
#define GAUTH_LIB_CURL_GLOBAL_HPP

#include "private.hpp"

#include <gauth/status.hpp>

namespace gauth::detail {

/// Calls curl_global_init once per process (thread-safe). gauth never calls
/// curl_global_cleanup: the host may use libcurl too, and libcurl 7.88's
/// cleanup does not wait for resolver threads.
Status ensure_curl_initialised();

}  // namespace gauth::detail

#endif  // GAUTH_LIB_CURL_GLOBAL_HPP
