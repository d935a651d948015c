// gauth: JSON in and out. RapidJSON stays behind this header (private dependency).
#ifndef GAUTH_LIB_JSON_HPP
#define GAUTH_LIB_JSON_HPP

#include "private.hpp"

#include <gauth/status.hpp>

#include <rapidjson/document.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gauth::detail {

/// Parses `text` as one JSON value. Iterative (deep nesting cannot overflow
/// the stack; nor may anything that walks the result); trailing text is an
/// error. `what` names the input in messages
/// ("the token endpoint's answer", "file /x/y.json").
StatusOr<rapidjson::Document> parse_json(std::string_view text, std::string_view what);

/// The same parse, for hot paths: the first kilobytes of the document and of
/// the parser's stack live inside the object, so a token endpoint's answer
/// parses without touching the heap. Not movable (the document points into it).
class JsonDocument {
 public:
  JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  Status parse(std::string_view text, std::string_view what);
  /// Parses `text` in place (strings are decoded into it, not copied): faster,
  /// but `text` is garbage afterwards. A NUL byte in it is an error.
  Status parse_in_place(std::string& text, std::string_view what);
  const rapidjson::Value& root() const noexcept { return document_; }

 private:
  using Pool = rapidjson::MemoryPoolAllocator<>;
  alignas(8) char nodes_[2048];
  alignas(8) char stack_[1024];
  Pool node_pool_;
  Pool stack_pool_;
  rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool> document_;
};

/// The string member `name` of `object`, if present and a string.
std::optional<std::string> string_member(const rapidjson::Value& object, const char* name);

/// The value as Python's json.dumps writes it: ", " and ": " separators,
/// non-ASCII escaped as \uXXXX. Used where Python puts a JSON body into an
/// error message. Top-level members named in `redacted` (when not null) are
/// written as "<redacted>".
std::string python_json_dumps(const rapidjson::Value& value,
                              std::initializer_list<std::string_view> redacted = {});

/// Appends `s` as a JSON string literal, escaped as Python's json.dumps does.
void append_json_string(std::string& out, std::string_view s);

/// Writes a flat JSON object in Python's json.dumps layout, member by member.
class JsonObjectWriter {
 public:
  JsonObjectWriter() { out_.push_back('{'); }
  void string(std::string_view key, std::string_view value);
  void string_list(std::string_view key, const std::vector<std::string>& values);
  /// Finishes the object and returns the text.
  std::string finish() &&;

 private:
  void key(std::string_view k);
  std::string out_;
  bool first_ = true;
};

}  // namespace gauth::detail

#endif  // GAUTH_LIB_JSON_HPP
