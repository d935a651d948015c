// gauth: where the library's few log messages go.
#ifndef GAUTH_LOG_HPP
#define GAUTH_LOG_HPP

#include <gauth/export.hpp>

#include <functional>
#include <string_view>

namespace gauth {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

/// "debug", "info", "warning" or "error". \context Thread-safe.
GAUTH_EXPORT const char* to_string(LogLevel level) noexcept;

/// Receives gauth's log messages. They never contain a secret.
using LogHandler = std::function<void(LogLevel level, std::string_view message)>;

/// Replaces the process-wide log handler; an empty handler silences gauth.
/// The default writes warnings and errors to stderr ("gauth: warning: ...").
/// gauth logs rarely: a refresh that was granted fewer scopes than requested,
/// end-user credentials without a quota project.
/// \context Thread-safe. The handler may be called from any thread, and
/// concurrently (it is never called with a gauth lock held); it must not throw.
GAUTH_EXPORT void set_log_handler(LogHandler handler);

}  // namespace gauth

#endif  // GAUTH_LOG_HPP
