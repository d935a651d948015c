// gauth: HTTP headers, requests and responses, as exchanged with a Transport.
#ifndef GAUTH_HTTP_HPP
#define GAUTH_HTTP_HPP

#include <gauth/export.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gauth {

/// An ordered list of HTTP header fields whose names compare case-insensitively.
///
/// Names keep the spelling they were first set with. gauth writes lower-case
/// names (`authorization`, `x-goog-user-project`), as Python google-auth does.
/// \context Reentrant: one object must not be used by two threads at once.
class GAUTH_EXPORT Headers {
 public:
  using Field = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Field>::const_iterator;

  /// \name Every member
  /// \context Reentrant: not for two threads at once.
  ///@{
  Headers() = default;
  Headers(std::initializer_list<Field> fields);

  /// Sets `name` to `value`, replacing every earlier field of that name. An
  /// existing field's string is reused, so re-setting a header allocates
  /// nothing while the new value fits.
  void set(std::string_view name, std::string_view value);
  /// Appends a field, keeping earlier ones of the same name.
  void add(std::string name, std::string value);
  /// Removes every field named `name`; returns how many were removed.
  std::size_t erase(std::string_view name);
  /// The value of the first field named `name`, or nullptr.
  const std::string* find(std::string_view name) const noexcept;
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  /// The value of the first field named `name`, or an empty string.
  std::string value_or_empty(std::string_view name) const;

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  void clear() noexcept { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }
  const_iterator begin() const noexcept { return fields_.begin(); }
  const_iterator end() const noexcept { return fields_.end(); }

  friend bool operator==(const Headers& a, const Headers& b) { return a.fields_ == b.fields_; }
  ///@}

 private:
  std::vector<Field> fields_;
};

/// True when `a` and `b` are equal ignoring ASCII case. \context Thread-safe.
GAUTH_EXPORT bool iequals(std::string_view a, std::string_view b) noexcept;

/// One HTTP request for a Transport.
struct HttpRequest {
  std::string method = "GET";
  /// Absolute URL. https, or http to a loopback address (127.0.0.0/8, ::1, localhost).
  std::string url;
  Headers headers;
  std::string body;
  /// Deadline for the whole exchange; zero means the transport's default.
  std::chrono::milliseconds timeout{0};
  /// Largest accepted response body; zero means the transport's default (64 KiB).
  std::size_t max_response_bytes = 0;
  /// Open a new connection instead of reusing a pooled one (and do not pool it).
  bool fresh_connection = false;
};

/// The answer to an HttpRequest. Any status, 3xx included (redirects are never followed).
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

}  // namespace gauth

#endif  // GAUTH_HTTP_HPP
