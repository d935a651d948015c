#include "time_format.hpp"

#include "ascii.hpp"

#include <cstdint>
#include <cstdio>

namespace gauth::detail {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + std::int64_t(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = std::int64_t(yoe) + era * 400 + (m <= 2);
}

bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool digits(std::size_t n, int& out) {
    if (pos_ + n > s_.size()) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos_ += n;
    return true;
  }
  bool literal(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool at_end() const { return pos_ == s_.size(); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

StatusOr<Clock::WallTime> parse_expiry(std::string_view text) {
  auto bad = [&](const char* why) {
    return Status(StatusCode::kInvalidArgument, "invalid expiry \"" + printable_excerpt(text, 64) +
                                                    "\": " + why + " (expected e.g. 2020-08-14T15:54:01Z)");
  };
  Reader r(text);
  int year, month, day, hour, minute, second;
  if (!(r.digits(4, year) && r.literal('-') && r.digits(2, month) && r.literal('-') && r.digits(2, day) &&
        (r.literal('T') || r.literal('t') || r.literal(' ')) && r.digits(2, hour) && r.literal(':') &&
        r.digits(2, minute) && r.literal(':') && r.digits(2, second))) {
    return bad("not a date and time");
  }
  if (month < 1 || month > 12 || day < 1 || unsigned(day) > days_in_month(year, unsigned(month)) ||
      hour > 23 || minute > 59 || second > 59) {
    return bad("a field is out of range");
  }
  std::int64_t micros = 0;
  if (r.literal('.')) {
    int digit, count = 0;
    while (r.digits(1, digit)) {
      if (count < 6) micros = micros * 10 + digit;
      ++count;
    }
    if (count == 0) return bad("empty fraction of a second");
    for (; count < 6; ++count) micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (r.literal('Z') || r.literal('z')) {
    // UTC
  } else if (r.peek() == '+' || r.peek() == '-') {
    int sign = r.peek() == '-' ? -1 : 1;
    r.literal(r.peek());
    int oh = 0, om = 0;
    bool hours = r.digits(2, oh);
    r.literal(':');  // "+05:00" and "+0500" alike
    if (!hours || !r.digits(2, om) || oh > 23 || om > 59) return bad("invalid UTC offset");
    offset_seconds = sign * (oh * 3600 + om * 60);
  }
  if (!r.at_end()) return bad("unexpected text after the time");
  std::int64_t seconds = days_from_civil(year, unsigned(month), unsigned(day)) * 86400 + hour * 3600 +
                         minute * 60 + second - offset_seconds;
  // system_clock counts nanoseconds in 64 bits (years 1678 to 2262): later
  // expiry times mean "far in the future", earlier ones "long ago".
  constexpr std::int64_t kLimit = 9'000'000'000;  // seconds, about year 2255
  if (seconds > kLimit) seconds = kLimit;
  if (seconds < -kLimit) seconds = -kLimit;
  return Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(
      std::chrono::seconds(seconds) + std::chrono::microseconds(micros)));
}

std::optional<Clock::WallTime> parse_http_date(std::string_view text) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sun, 06 Nov 1994 08:49:37 GMT": the weekday is not checked.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return std::nullopt;
  Reader r(text.substr(5, 20));
  int day, year, hour, minute, second;
  if (!r.digits(2, day) || !r.literal(' ')) return std::nullopt;
  std::string_view month_name = text.substr(8, 3);
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (month_name == kMonths[i]) month = i + 1;
  }
  Reader rest(text.substr(11, 14));
  if (month == 0 || !rest.literal(' ') || !rest.digits(4, year) || !rest.literal(' ') ||
      !rest.digits(2, hour) || !rest.literal(':') || !rest.digits(2, minute) || !rest.literal(':') ||
      !rest.digits(2, second) || !rest.at_end()) {
    return std::nullopt;
  }
  if (day < 1 || unsigned(day) > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::int64_t seconds =
      days_from_civil(year, month, unsigned(day)) * 86400 + hour * 3600 + minute * 60 + second;
  return Clock::WallTime(std::chrono::seconds(seconds));
}

std::string format_expiry(Clock::WallTime time) {
  auto since_epoch = std::chrono::floor<std::chrono::seconds>(time.time_since_epoch()).count();
  std::int64_t days = since_epoch >= 0 ? since_epoch / 86400 : (since_epoch - 86399) / 86400;
  std::int64_t rest = since_epoch - days * 86400;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                static_cast<long long>(rest % 60));
  return buf;
}

}  // namespace gauth::detail
