#include "time_format.hpp"

#include <catch2/catch.hpp>

using gauth::Clock;
using gauth::detail::format_expiry;
using gauth::detail::parse_expiry;
using namespace std::chrono;

namespace {
Clock::WallTime at(long long seconds) { return Clock::WallTime(std::chrono::seconds(seconds)); }
constexpr long long k20200814T155401 = 1597420441;  // 2020-08-14T15:54:01Z
}  // namespace

TEST_CASE("the formats Python google-auth writes and reads all parse", "[time]") {
  for (const char* text : {"2020-08-14T15:54:01Z", "2020-08-14T15:54:01", "2020-08-14T15:54:01.5",
                           "2020-08-14T15:54:01+00:00", "2020-08-14T15:54:01-0000"}) {
    auto t = parse_expiry(text);
    INFO(text);
    REQUIRE(t.ok());
    CHECK(floor<seconds>(*t) == at(k20200814T155401));
  }
}

TEST_CASE("fractions of a second are kept to the microsecond", "[time]") {
  auto t = parse_expiry("2020-08-14T15:54:01.1234567Z");
  REQUIRE(t.ok());
  CHECK(*t - at(k20200814T155401) == microseconds(123456));
}

TEST_CASE("UTC offsets move the instant (Python rejects them; gauth reads them)", "[time]") {
  auto t = parse_expiry("2020-08-14T10:54:01-05:00");
  REQUIRE(t.ok());
  CHECK(*t == at(k20200814T155401));
  auto u = parse_expiry("2020-08-15T01:24:01+09:30");
  REQUIRE(u.ok());
  CHECK(*u == at(k20200814T155401));
}

TEST_CASE("malformed timestamps are refused with a message that shows the expected form", "[time]") {
  for (const char* text :
       {"", "2020-08-14", "2020-13-01T00:00:00Z", "2021-02-29T00:00:00Z", "2020-08-14T24:00:00Z",
        "2020-08-14T15:54:01Zjunk", "2020-08-14T15:54:01.Z", "2020-08-14T15:54:01+5", "yesterday"}) {
    auto t = parse_expiry(text);
    INFO(text);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == gauth::StatusCode::kInvalidArgument);
    CHECK_THAT(t.status().message(), Catch::Contains("expected e.g. 2020-08-14T15:54:01Z"));
  }
}

TEST_CASE("a malformed timestamp is quoted on one line, cut short", "[time]") {
  auto t = parse_expiry("2020-08-14\nT15:54:01Z\r\x1b[31m" + std::string(200, '9'));
  REQUIRE_FALSE(t.ok());
  const std::string& message = t.status().message();
  CHECK(message.find_first_of("\r\n\x1b") == std::string::npos);
  CHECK_THAT(message, Catch::StartsWith("invalid expiry \"2020-08-14 T15:54:01Z  [31m999"));
  CHECK_THAT(message, Catch::Contains("...\""));
}

TEST_CASE("expiry times past what system_clock holds mean far in the future", "[time]") {
  auto t = parse_expiry("9999-12-31T23:59:59Z");
  REQUIRE(t.ok());
  CHECK(*t > at(7258118399));
  CHECK(format_expiry(*t).substr(0, 2) == "22");
}

TEST_CASE("leap days parse", "[time]") {
  CHECK(parse_expiry("2024-02-29T00:00:00Z").ok());
  CHECK(parse_expiry("2000-02-29T00:00:00Z").ok());
  CHECK_FALSE(parse_expiry("1900-02-29T00:00:00Z").ok());
}

TEST_CASE("expiry is written as YYYY-MM-DDTHH:MM:SSZ and reads back", "[time]") {
  CHECK(format_expiry(at(k20200814T155401) + milliseconds(999)) == "2020-08-14T15:54:01Z");
  CHECK(format_expiry(at(0)) == "1970-01-01T00:00:00Z");
  CHECK(format_expiry(at(-1)) == "1969-12-31T23:59:59Z");
  CHECK(format_expiry(at(7258118399)) == "2199-12-31T23:59:59Z");
  for (long long s : {0LL, 951782400LL, k20200814T155401, 4102444800LL}) {
    CHECK(*parse_expiry(format_expiry(at(s))) == at(s));
  }
}
