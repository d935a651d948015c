#include "json.hpp"

#include <catch2/catch.hpp>

using gauth::detail::append_json_string;
using gauth::detail::JsonObjectWriter;
using gauth::detail::parse_json;
using gauth::detail::python_json_dumps;
using gauth::detail::string_member;

TEST_CASE("parse_json reads one value and refuses trailing text", "[json]") {
  auto ok = parse_json(" {\"a\": 1} \n", "the answer");
  REQUIRE(ok.ok());
  CHECK(ok->IsObject());
  auto trailing = parse_json("{\"a\": 1} x", "the answer");
  REQUIRE_FALSE(trailing.ok());
  CHECK_THAT(trailing.status().message(), Catch::StartsWith("the answer is not valid JSON"));
  auto broken = parse_json("{\"a\": ", "file x.json");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Contains("file x.json is not valid JSON"));
  CHECK_FALSE(parse_json("", "empty").ok());
}

TEST_CASE("deeply nested JSON does not overflow the stack", "[json]") {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK(parse_json(deep, "deep").ok());
  CHECK_FALSE(parse_json(std::string(100000, '['), "deep").ok());
}

TEST_CASE("python_json_dumps writes any depth the parser accepts, without recursion", "[json]") {
  // 100,000 levels would overflow the stack of a recursive writer.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto doc = parse_json(deep, "deep");
  REQUIRE(doc.ok());
  CHECK(python_json_dumps(*doc) == deep);
}

TEST_CASE("python_json_dumps redacts the named top-level members", "[json]") {
  auto doc =
      std::move(parse_json(R"({"token": "s3cret", "a": {"token": "inner"}, "z": null, "id": "x"})", "x"))
          .value();
  CHECK(python_json_dumps(doc, {"token", "z"}) ==
        R"({"token": "<redacted>", "a": {"token": "inner"}, "z": null, "id": "x"})");
}

TEST_CASE("string_member returns strings only", "[json]") {
  auto doc = std::move(parse_json(R"({"s": "v", "n": 1, "z": null})", "x")).value();
  CHECK(string_member(doc, "s") == std::string("v"));
  CHECK_FALSE(string_member(doc, "n"));
  CHECK_FALSE(string_member(doc, "z"));
  CHECK_FALSE(string_member(doc, "missing"));
}

TEST_CASE("python_json_dumps matches Python's json.dumps", "[json]") {
  auto check = [](const char* in, const char* expected) {
    auto doc = std::move(parse_json(in, "x")).value();
    CHECK(python_json_dumps(doc) == expected);
  };
  check(R"({"foo":"bar"})", R"({"foo": "bar"})");
  check(R"({"a":[1,2.5,true,null],"b":{"c":-3}})", R"({"a": [1, 2.5, true, null], "b": {"c": -3}})");
  check(R"({"x":1.0,"y":0.1,"z":1e300})", R"({"x": 1.0, "y": 0.1, "z": 1e+300})");
  check("[\"\\u00e9\\ud83d\\ude00\\n\\\"\"]", R"(["\u00e9\ud83d\ude00\n\""])");
}

TEST_CASE("JSON strings are escaped as Python does, invalid UTF-8 included", "[json]") {
  std::string out;
  append_json_string(out, std::string("a\x01\x7f\xff", 4));
  CHECK(out == "\"a\\u0001\x7f\\ufffd\"");
}

TEST_CASE("JsonObjectWriter writes Python's layout", "[json]") {
  JsonObjectWriter w;
  w.string("token", "tok");
  w.string_list("scopes", {"a", "b"});
  w.string_list("none", {});
  CHECK(std::move(w).finish() == R"({"token": "tok", "scopes": ["a", "b"], "none": []})");
  CHECK(JsonObjectWriter().finish() == "{}");
}
