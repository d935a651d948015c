// gauth: logging through the application's LogHandler.
#ifndef GAUTH_LIB_LOG_HPP
#define GAUTH_LIB_LOG_HPP

#include "private.hpp"

#include <gauth/log.hpp>

#include <string_view>

namespace gauth::detail {

/// Sends `message` to the current log handler. Never pass a secret.
void log(LogLevel level, std::string_view message) noexcept;

}  // namespace gauth::detail

#endif  // GAUTH_LIB_LOG_HPP
