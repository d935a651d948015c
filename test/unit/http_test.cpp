#include <gauth/http.hpp>

#include <catch2/catch.hpp>

using gauth::Headers;

TEST_CASE("header names compare case-insensitively", "[http]") {
  Headers h;
  h.set("Content-Type", "text/plain");
  REQUIRE(h.find("content-type") != nullptr);
  CHECK(*h.find("CONTENT-TYPE") == "text/plain");
  CHECK(h.contains("content-TYPE"));
  CHECK_FALSE(h.contains("content"));
}

TEST_CASE("set replaces every earlier field of the name and keeps the first spelling", "[http]") {
  Headers h;
  h.add("X-A", "1");
  h.add("x-a", "2");
  h.add("other", "o");
  h.set("X-a", "3");
  REQUIRE(h.size() == 2);
  CHECK(h.begin()->first == "X-A");
  CHECK(h.begin()->second == "3");
  CHECK(h.value_or_empty("x-a") == "3");
}

TEST_CASE("add keeps duplicates in order and erase removes them all", "[http]") {
  Headers h{{"a", "1"}, {"A", "2"}, {"b", "3"}};
  CHECK(h.size() == 3);
  CHECK(*h.find("a") == "1");
  CHECK(h.erase("a") == 2);
  CHECK(h.size() == 1);
  CHECK(h.value_or_empty("a").empty());
  CHECK(h.erase("missing") == 0);
}

TEST_CASE("iequals ignores ASCII case only", "[http]") {
  CHECK(gauth::iequals("Authorization", "authorization"));
  CHECK_FALSE(gauth::iequals("authorization", "authorisation"));
  CHECK_FALSE(gauth::iequals("a", "ab"));
  CHECK(gauth::iequals("", ""));
}
