#include "services/s3/http_date.h"

#include <ctime>

namespace lathe::s3 {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int Month(std::string_view m) {
  for (int i = 0; i < 12; ++i)
    if (m == kMonths[i]) return i;
  return -1;
}

// `n` digits at s[at]; -1 when they are not all digits.
int Digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[at + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// "HH:MM:SS" at s[at] into tm.
bool Clock(std::string_view s, size_t at, std::tm* tm) {
  if (at + 8 > s.size() || s[at + 2] != ':' || s[at + 5] != ':') return false;
  tm->tm_hour = Digits(s, at, 2);
  tm->tm_min = Digits(s, at + 3, 2);
  tm->tm_sec = Digits(s, at + 6, 2);
  return tm->tm_hour >= 0 && tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 && tm->tm_sec >= 0 &&
         tm->tm_sec <= 60;
}

int64_t ToMillis(std::tm* tm) {
  if (tm->tm_mday < 1 || tm->tm_mday > 31 || tm->tm_mon < 0 || tm->tm_year < 70) return -1;
  const time_t t = timegm(tm);
  return t < 0 ? -1 : static_cast<int64_t>(t) * 1000;
}

}  // namespace

std::string FormatHttpDate(int64_t millis) {
  const time_t t = static_cast<time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

int64_t ParseHttpDate(std::string_view s) {
  if (s.size() > 64) return -1;
  std::tm tm{};
  const size_t comma = s.find(',');
  if (comma == 3 && s.size() == 29) {  // Sun, 06 Nov 1994 08:49:37 GMT
    tm.tm_mday = Digits(s, 5, 2);
    tm.tm_mon = Month(s.substr(8, 3));
    tm.tm_year = Digits(s, 12, 4) - 1900;
    if (s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || !Clock(s, 17, &tm) || s.substr(25) != " GMT")
      return -1;
    return ToMillis(&tm);
  }
  if (comma != std::string_view::npos && comma > 5 && comma < 10) {  // Sunday, 06-Nov-94 08:49:37 GMT
    std::string_view rest = s.substr(comma + 1);
    if (rest.size() != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' || rest[10] != ' ' ||
        rest.substr(19) != " GMT")
      return -1;
    tm.tm_mday = Digits(rest, 1, 2);
    tm.tm_mon = Month(rest.substr(4, 3));
    const int yy = Digits(rest, 8, 2);
    if (yy < 0 || !Clock(rest, 11, &tm)) return -1;
    tm.tm_year = yy < 70 ? yy + 100 : yy;  // RFC 7231: a two-digit year more than 50 years ahead is in the past
    return ToMillis(&tm);
  }
  if (comma == std::string_view::npos && s.size() == 24) {  // Sun Nov  6 08:49:37 1994
    if (s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') return -1;
    tm.tm_mon = Month(s.substr(4, 3));
    tm.tm_mday = s[8] == ' ' ? Digits(s, 9, 1) : Digits(s, 8, 2);
    tm.tm_year = Digits(s, 20, 4) - 1900;
    if (!Clock(s, 11, &tm)) return -1;
    return ToMillis(&tm);
  }
  return -1;
}

}  // namespace lathe::s3
