#include "json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace gauth::detail {

namespace {

template <typename Document>
Status parse_error(const Document& doc, std::string_view what) {
  if (!doc.HasParseError()) return Status();
  return Status(StatusCode::kInvalidArgument,
                std::string(what) +
                    " is not valid JSON: " + rapidjson::GetParseError_En(doc.GetParseError()) +
                    " (at offset " + std::to_string(doc.GetErrorOffset()) + ")");
}

template <typename Document>
Status parse_into(Document& doc, std::string_view text, std::string_view what) {
  // Without kParseStopWhenDoneFlag, text after the value is an error.
  doc.template Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return parse_error(doc, what);
}

}  // namespace

StatusOr<rapidjson::Document> parse_json(std::string_view text, std::string_view what) {
  rapidjson::Document doc;
  if (Status s = parse_into(doc, text, what); !s.ok()) return s;
  return doc;
}

JsonDocument::JsonDocument()
    : node_pool_(nodes_, sizeof nodes_),
      stack_pool_(stack_, sizeof stack_),
      document_(&node_pool_, sizeof stack_ / 2, &stack_pool_) {}

Status JsonDocument::parse(std::string_view text, std::string_view what) {
  return parse_into(document_, text, what);
}

Status JsonDocument::parse_in_place(std::string& text, std::string_view what) {
  // The in-place parser stops at the first NUL: one inside the text would
  // hide whatever follows it.
  if (text.find('\0') != std::string::npos) {
    return Status(StatusCode::kInvalidArgument,
                  std::string(what) + " is not valid JSON: it contains a NUL byte");
  }
  document_.ParseInsitu<rapidjson::kParseIterativeFlag>(text.data());
  return parse_error(document_, what);
}

std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return std::nullopt;
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

namespace {

void append_hex4(std::string& out, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  out.push_back(kHex[(v >> 12) & 0xF]);
  out.push_back(kHex[(v >> 8) & 0xF]);
  out.push_back(kHex[(v >> 4) & 0xF]);
  out.push_back(kHex[v & 0xF]);
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i.
// Invalid bytes come back as U+FFFD, one byte at a time.
unsigned next_code_point(std::string_view s, std::size_t& i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned c = b(i);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  unsigned cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += len;
  return cp;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      unsigned cp = next_code_point(s, i);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        append_hex4(out, 0xD800 + (cp >> 10));
        append_hex4(out, 0xDC00 + (cp & 0x3FF));
      } else {
        append_hex4(out, cp);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          append_hex4(out, c);
        } else {
          out.push_back(char(c));
        }
    }
  }
  out.push_back('"');
}

namespace {

// Python's repr of a float: the shortest text that reads back the same, with
// ".0" on integral values.
std::string python_float_repr(double d) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string text = buf;
  if (text.find_first_of(".eni") == std::string::npos) text += ".0";
  return text;
}

void dump_scalar(std::string& out, const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: out += "null"; break;
    case rapidjson::kFalseType: out += "false"; break;
    case rapidjson::kTrueType: out += "true"; break;
    case rapidjson::kStringType: append_json_string(out, {v.GetString(), v.GetStringLength()}); break;
    case rapidjson::kNumberType:
      if (v.IsInt64()) {
        out += std::to_string(v.GetInt64());
      } else if (v.IsUint64()) {
        out += std::to_string(v.GetUint64());
      } else {
        out += python_float_repr(v.GetDouble());
      }
      break;
    default: break;
  }
}

/// Writes `root` without recursion: the parser accepts any depth, and so
/// must everything that walks what it returns.
void dump(std::string& out, const rapidjson::Value& root) {
  struct Open {
    const rapidjson::Value* container;
    rapidjson::SizeType next;
  };
  std::vector<Open> open;
  auto begin = [&](const rapidjson::Value& v) {
    if (v.IsArray() || v.IsObject()) {
      out.push_back(v.IsArray() ? '[' : '{');
      open.push_back(Open{&v, 0});
    } else {
      dump_scalar(out, v);
    }
  };
  begin(root);
  while (!open.empty()) {
    const rapidjson::Value& c = *open.back().container;
    rapidjson::SizeType i = open.back().next++;
    if (i == (c.IsArray() ? c.Size() : c.MemberCount())) {
      out.push_back(c.IsArray() ? ']' : '}');
      open.pop_back();
      continue;
    }
    if (i > 0) out += ", ";
    if (c.IsArray()) {
      begin(c[i]);
    } else {
      const auto& member = *(c.MemberBegin() + i);
      append_json_string(out, {member.name.GetString(), member.name.GetStringLength()});
      out += ": ";
      begin(member.value);
    }
  }
}

}  // namespace

std::string python_json_dumps(const rapidjson::Value& value,
                              std::initializer_list<std::string_view> redacted) {
  std::string out;
  if (!value.IsObject() || redacted.size() == 0) {
    dump(out, value);
    return out;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& m : value.GetObject()) {
    if (!first) out += ", ";
    first = false;
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    append_json_string(out, name);
    out += ": ";
    bool secret = !m.value.IsNull() && std::find(redacted.begin(), redacted.end(), name) != redacted.end();
    if (secret) {
      out += "\"<redacted>\"";
    } else {
      dump(out, m.value);
    }
  }
  out.push_back('}');
  return out;
}

void JsonObjectWriter::key(std::string_view k) {
  if (!first_) out_ += ", ";
  first_ = false;
  append_json_string(out_, k);
  out_ += ": ";
}

void JsonObjectWriter::string(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(out_, value);
}

void JsonObjectWriter::string_list(std::string_view k, const std::vector<std::string>& values) {
  key(k);
  out_.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out_ += ", ";
    append_json_string(out_, values[i]);
  }
  out_.push_back(']');
}

std::string JsonObjectWriter::finish() && {
  out_.push_back('}');
  return std::move(out_);
}

}  // namespace gauth::detail
