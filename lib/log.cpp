#include "log.hpp"

#include <cstdio>
#include <memory>
#include <mutex>

namespace gauth {

namespace {

void write_to_stderr(LogLevel level, std::string_view message) {
  if (level < LogLevel::kWarning) return;
  std::fprintf(stderr, "gauth: %s: %.*s\n", level == LogLevel::kWarning ? "warning" : "error",
               static_cast<int>(message.size()), message.data());
}

std::mutex& handler_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<const LogHandler>& current_handler() {
  static std::shared_ptr<const LogHandler> handler = std::make_shared<const LogHandler>(write_to_stderr);
  return handler;
}

}  // namespace

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

void set_log_handler(LogHandler handler) {
  auto next = handler ? std::make_shared<const LogHandler>(std::move(handler)) : nullptr;
  std::lock_guard<std::mutex> lock(handler_mutex());
  current_handler() = std::move(next);
}

namespace detail {

void log(LogLevel level, std::string_view message) noexcept {
  std::shared_ptr<const LogHandler> handler;
  {
    std::lock_guard<std::mutex> lock(handler_mutex());
    handler = current_handler();
  }
  // Called outside the lock, so a slow handler never blocks another thread's log.
  if (handler) (*handler)(level, message);
}

}  // namespace detail

}  // namespace gauth
