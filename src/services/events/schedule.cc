// EventBridge schedule expressions, as "Using cron and rate expressions to schedule rules in Amazon
// EventBridge" documents them. Reference notes:
//
//   rate(N unit)   N a positive integer (at most 9 digits); unit minute|hour|day when N is 1 and
//                  minutes|hours|days otherwise (AWS refuses "rate(1 minutes)" and "rate(5 hour)").
//                  Fires at anchor + k * period, k >= 1, the anchor being the rule's creation or
//                  enabling.
//   cron(min hour day-of-month month day-of-week year), six fields, UTC:
//     minutes 0-59 (, - * /)          hours 0-23 (, - * /)
//     day-of-month 1-31 (, - * ? / L W): `L` last day, `LW` last weekday, `15W` the weekday
//                  nearest the 15th without leaving the month (no fire when the month is shorter)
//     month 1-12 or JAN-DEC (, - * /)
//     day-of-week 1-7 or SUN-SAT, 1 = Sunday (, - * ? L #): `L` alone is Saturday, `5L` the last
//                  Thursday, `2#3` the third Monday; `L` and `#` stand alone (AWS: "3#1,6#3" is
//                  invalid)
//     year 1970-2199 (, - * /)
//   Exactly one of day-of-month and day-of-week is `?`. `a/n` counts from a to the field's end,
//   `a-b/n` within the range; a range whose start is above its end wraps (`FRI-MON`, `22-2`),
//   except years. Names are case-insensitive.
//   Every malformed expression gets AWS's one answer: ValidationException "Parameter
//   ScheduleExpression is not valid.".
//
// Schedules fire while the server runs; times it was down are not back-filled (the caller asks
// NextAfter from now). A cron that can never fire (cron(0 0 30 2 ? *)) is accepted, as AWS
// accepts it, and NextAfter answers -1 for it after a bounded walk: years (<= 230) x months x
// days, with hours and minutes found by bit scans, never minute by minute.
#include "services/events/schedule.h"

#include <array>
#include <bit>
#include <bitset>
#include <vector>

namespace lathe::events {
namespace {

constexpr int kMinYear = 1970;
constexpr int kMaxYear = 2199;
// A field is at most this many comma-separated items; 256 bytes allow ~128, none needs as many.
constexpr int kMaxCronListItems = 64;
constexpr int kMaxRateDigits = 9;  // 999,999,999 days still fits int64 milliseconds
constexpr int64_t kMinuteMs = 60'000;

Status Invalid() {
  return Status::Aws("ValidationException", 400, "Parameter ScheduleExpression is not valid.");
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, UTC).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr std::array<int, 13> kDays = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m];
}

// 1 = Sunday ... 7 = Saturday, as AWS numbers days; 1970-01-01 was a Thursday (5).
int WeekdayOf(int64_t days_since_epoch) {
  int64_t r = (days_since_epoch + 4) % 7;
  if (r < 0) r += 7;
  return static_cast<int>(r) + 1;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A small unsigned decimal (at most 4 digits: every cron value fits), or -1.
int ParseSmall(std::string_view s) {
  if (!AllDigits(s) || s.size() > 4) return -1;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

int NameIndex(std::string_view s, const std::array<std::string_view, 12>& names, int count) {
  if (s.size() != 3) return -1;
  for (int i = 0; i < count; ++i) {
    if (Upper(s[0]) == names[i][0] && Upper(s[1]) == names[i][1] && Upper(s[2]) == names[i][2]) {
      return i + 1;
    }
  }
  return -1;
}

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI",
                                                        "SAT", "", "", "", "", ""};

enum class FieldKind { kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek, kYear };

struct FieldSpec {
  int min;
  int max;
  int max_step;
  const std::array<std::string_view, 12>* names;
  int name_count;
  bool wraps;  // a range start > end wraps around (not for years)
};

FieldSpec SpecOf(FieldKind k) {
  switch (k) {
    case FieldKind::kMinute: return {0, 59, 59, nullptr, 0, true};
    case FieldKind::kHour: return {0, 23, 23, nullptr, 0, true};
    case FieldKind::kDayOfMonth: return {1, 31, 31, nullptr, 0, true};
    case FieldKind::kMonth: return {1, 12, 12, &kMonthNames, 12, true};
    case FieldKind::kDayOfWeek: return {1, 7, 7, &kDayNames, 7, true};
    case FieldKind::kYear: return {kMinYear, kMaxYear, kMaxYear - kMinYear, nullptr, 0, false};
  }
  return {};
}

int ParseValue(std::string_view s, const FieldSpec& spec) {
  int v = ParseSmall(s);
  if (v < 0 && spec.names != nullptr) v = NameIndex(s, *spec.names, spec.name_count);
  if (v < spec.min || v > spec.max) return -1;
  return v;
}

// Values are bit (value - spec.min) of a 256-bit set: years span 230 values, the rest fewer.
using ValueSet = std::bitset<256>;

// One comma-separated item of a plain field: `*`, `v`, `a-b`, with an optional `/step`.
bool ParseItem(std::string_view item, const FieldSpec& spec, bool allow_step, ValueSet* set) {
  int step = 1;
  const size_t slash = item.find('/');
  bool has_step = slash != std::string_view::npos;
  if (has_step) {
    if (!allow_step) return false;
    step = ParseSmall(item.substr(slash + 1));
    if (step < 1 || step > spec.max_step) return false;
    item = item.substr(0, slash);
  }
  int start = 0;
  int end = 0;
  if (item == "*") {
    start = spec.min;
    end = spec.max;
  } else if (const size_t dash = item.find('-'); dash != std::string_view::npos) {
    start = ParseValue(item.substr(0, dash), spec);
    end = ParseValue(item.substr(dash + 1), spec);
    if (start < 0 || end < 0) return false;
    if (end < start && !spec.wraps) return false;
  } else {
    start = ParseValue(item, spec);
    if (start < 0) return false;
    end = has_step ? spec.max : start;  // `5/15`: from 5 to the field's end
  }
  const int span = spec.max - spec.min + 1;
  const int count = (end - start + span) % span;  // steps of one from start to end, wrapping
  for (int i = 0; i <= count; i += step) {
    set->set(static_cast<size_t>((start - spec.min + i) % span));
  }
  return true;
}

bool ParseList(std::string_view field, FieldKind kind, ValueSet* set) {
  const FieldSpec spec = SpecOf(kind);
  std::vector<std::string_view> items = Split(field, ',');
  if (items.size() > kMaxCronListItems) return false;
  const bool allow_step = kind != FieldKind::kDayOfWeek;  // AWS's table: no `/` in day-of-week
  for (std::string_view item : items) {
    if (!ParseItem(item, spec, allow_step, set)) return false;
  }
  return set->any();
}

// The parsed fields. It lives here rather than in Schedule::Cron so the parsers below, which are
// not Schedule's members, can fill it; Schedule::Cron only derives from it.
struct CronSpec {
  enum class DomKind { kAny, kSet, kLast, kLastWeekday, kNearestWeekday };
  enum class DowKind { kAny, kSet, kLastOf, kNth };

  uint64_t minutes = 0;  // bit m
  uint32_t hours = 0;    // bit h
  uint16_t months = 0;   // bit m, 1..12
  std::bitset<kMaxYear - kMinYear + 1> years;
  DomKind dom = DomKind::kAny;
  uint32_t dom_days = 0;  // bit d, 1..31, for kSet
  int dom_day = 0;        // for kNearestWeekday
  DowKind dow = DowKind::kAny;
  uint8_t dow_days = 0;  // bit d, 1..7, for kSet
  int dow_day = 0;       // for kLastOf, kNth
  int dow_nth = 0;       // for kNth, 1..5

  bool DayMatches(int year, int month, int day) const {
    const int dim = DaysInMonth(year, month);
    const int wd = WeekdayOf(DaysFromCivil(year, month, day));
    switch (dom) {
      case DomKind::kAny: break;
      case DomKind::kSet: return (dom_days >> day) & 1U;
      case DomKind::kLast: return day == dim;
      case DomKind::kLastWeekday: {
        const int last_wd = WeekdayOf(DaysFromCivil(year, month, dim));
        const int target = last_wd == 7 ? dim - 1 : last_wd == 1 ? dim - 2 : dim;
        return day == target;
      }
      case DomKind::kNearestWeekday: {
        if (dom_day > dim) return false;
        const int n_wd = WeekdayOf(DaysFromCivil(year, month, dom_day));
        int target = dom_day;
        if (n_wd == 7) target = dom_day == 1 ? 3 : dom_day - 1;          // Saturday
        if (n_wd == 1) target = dom_day == dim ? dom_day - 2 : dom_day + 1;  // Sunday
        return day == target;
      }
    }
    switch (dow) {
      case DowKind::kAny: return true;
      case DowKind::kSet: return (dow_days >> wd) & 1U;
      case DowKind::kLastOf: return wd == dow_day && day + 7 > dim;
      case DowKind::kNth: return wd == dow_day && (day - 1) / 7 + 1 == dow_nth;
    }
    return false;
  }
};

bool ParseDayOfMonth(std::string_view f, CronSpec* c) {
  using D = CronSpec::DomKind;
  if (f == "?") {
    c->dom = D::kAny;
    return true;
  }
  if (f == "L") {
    c->dom = D::kLast;
    return true;
  }
  if (f == "LW") {
    c->dom = D::kLastWeekday;
    return true;
  }
  if (f.size() >= 2 && f.back() == 'W') {
    const int day = ParseSmall(f.substr(0, f.size() - 1));
    if (day < 1 || day > 31) return false;
    c->dom = D::kNearestWeekday;
    c->dom_day = day;
    return true;
  }
  ValueSet set;
  if (!ParseList(f, FieldKind::kDayOfMonth, &set)) return false;
  c->dom = D::kSet;
  for (int d = 1; d <= 31; ++d) {
    if (set.test(static_cast<size_t>(d - 1))) c->dom_days |= 1U << d;
  }
  return true;
}

bool ParseDayOfWeek(std::string_view f, CronSpec* c) {
  using D = CronSpec::DowKind;
  const FieldSpec spec = SpecOf(FieldKind::kDayOfWeek);
  if (f == "?") {
    c->dow = D::kAny;
    return true;
  }
  if (f == "L") {  // the week's last day
    c->dow = D::kSet;
    c->dow_days = 1U << 7;
    return true;
  }
  if (const size_t hash = f.find('#'); hash != std::string_view::npos) {
    const int day = ParseValue(f.substr(0, hash), spec);
    const int nth = ParseSmall(f.substr(hash + 1));
    if (day < 0 || nth < 1 || nth > 5) return false;
    c->dow = D::kNth;
    c->dow_day = day;
    c->dow_nth = nth;
    return true;
  }
  if (f.size() >= 2 && f.back() == 'L') {
    const int day = ParseValue(f.substr(0, f.size() - 1), spec);
    if (day < 0) return false;
    c->dow = D::kLastOf;
    c->dow_day = day;
    return true;
  }
  ValueSet set;
  if (!ParseList(f, FieldKind::kDayOfWeek, &set)) return false;
  c->dow = D::kSet;
  for (int d = 1; d <= 7; ++d) {
    if (set.test(static_cast<size_t>(d - 1))) c->dow_days |= 1U << d;
  }
  return true;
}

bool ParseRate(std::string_view body, int64_t* rate_ms) {
  const size_t space = body.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view number = body.substr(0, space);
  const std::string_view unit = body.substr(space + 1);
  if (!AllDigits(number) || number.size() > kMaxRateDigits) return false;
  int64_t n = 0;
  for (char c : number) n = n * 10 + (c - '0');
  if (n < 1) return false;
  int64_t unit_ms = 0;
  std::string_view singular = unit;
  if (n != 1) {
    if (unit.empty() || unit.back() != 's') return false;
    singular = unit.substr(0, unit.size() - 1);
  }
  if (singular == "minute") unit_ms = kMinuteMs;
  else if (singular == "hour") unit_ms = 60 * kMinuteMs;
  else if (singular == "day") unit_ms = 24 * 60 * kMinuteMs;
  else return false;
  *rate_ms = n * unit_ms;
  return true;
}

}  // namespace

struct Schedule::Cron : CronSpec {};

Schedule::Schedule(Schedule&&) noexcept = default;
Schedule& Schedule::operator=(Schedule&&) noexcept = default;
Schedule::~Schedule() = default;

Result<Schedule> Schedule::Parse(std::string_view expression) {
  if (expression.size() > kMaxScheduleExpressionBytes) return Invalid();
  Schedule s;
  s.expression_ = std::string(expression);
  const bool is_rate = expression.starts_with("rate(");
  const bool is_cron = expression.starts_with("cron(");
  if ((!is_rate && !is_cron) || !expression.ends_with(")")) return Invalid();
  std::string_view body = expression.substr(5, expression.size() - 6);
  if (is_rate) {
    if (!ParseRate(body, &s.rate_ms_)) return Invalid();
    return s;
  }
  // Fields are separated by runs of spaces; anything else (tabs, newlines, UTF-8) is refused by
  // the field parsers, which accept only ASCII digits, names and `, - * / ? L W #`.
  std::vector<std::string_view> fields;
  for (std::string_view part : Split(body, ' ')) {
    if (part.empty()) continue;
    if (fields.size() == 6) return Invalid();
    fields.push_back(part);
  }
  if (fields.size() != 6) return Invalid();
  auto cron = std::make_unique<Cron>();
  ValueSet set;
  if (!ParseList(fields[0], FieldKind::kMinute, &set)) return Invalid();
  for (int m = 0; m <= 59; ++m) {
    if (set.test(static_cast<size_t>(m))) cron->minutes |= uint64_t{1} << m;
  }
  set.reset();
  if (!ParseList(fields[1], FieldKind::kHour, &set)) return Invalid();
  for (int h = 0; h <= 23; ++h) {
    if (set.test(static_cast<size_t>(h))) cron->hours |= 1U << h;
  }
  set.reset();
  if (!ParseList(fields[3], FieldKind::kMonth, &set)) return Invalid();
  for (int m = 1; m <= 12; ++m) {
    if (set.test(static_cast<size_t>(m - 1))) cron->months |= static_cast<uint16_t>(1U << m);
  }
  set.reset();
  if (!ParseList(fields[5], FieldKind::kYear, &set)) return Invalid();
  for (int y = kMinYear; y <= kMaxYear; ++y) {
    if (set.test(static_cast<size_t>(y - kMinYear))) cron->years.set(static_cast<size_t>(y - kMinYear));
  }
  // "You can't specify the Day-of-month and Day-of-week fields in the same cron expression":
  // exactly one of them is `?`.
  if ((fields[2] == "?") == (fields[4] == "?")) return Invalid();
  if (!ParseDayOfMonth(fields[2], cron.get()) || !ParseDayOfWeek(fields[4], cron.get())) {
    return Invalid();
  }
  s.cron_ = std::move(cron);
  return s;
}

int64_t Schedule::NextAfter(int64_t after_ms, int64_t anchor_ms) const {
  if (rate_ms_ > 0) {
    // anchor + k * period, k >= 1, strictly after `after_ms`.
    int64_t k = 1;
    if (after_ms >= anchor_ms) {
      int64_t elapsed = 0;
      if (__builtin_sub_overflow(after_ms, anchor_ms, &elapsed)) return -1;
      k = elapsed / rate_ms_ + 1;
    }
    int64_t offset = 0;
    int64_t next = 0;
    if (__builtin_mul_overflow(k, rate_ms_, &offset) || __builtin_add_overflow(anchor_ms, offset, &next)) {
      return -1;
    }
    return next;
  }
  if (!cron_) return -1;
  const Cron& c = *cron_;

  // The first whole minute strictly after `after_ms` (never before 1970).
  constexpr int64_t kEndMs = 7'289'654'400'000;  // 2201-01-01T00:00:00Z: past every cron year
  if (after_ms >= kEndMs) return -1;
  int64_t minute = after_ms < 0 ? 0 : after_ms / kMinuteMs + 1;
  const int64_t start_day = minute / (24 * 60);
  int64_t y0 = 0;
  int mo0 = 0;
  int d0 = 0;
  CivilFromDays(start_day, &y0, &mo0, &d0);
  const int h0 = static_cast<int>(minute / 60 % 24);
  const int mi0 = static_cast<int>(minute % 60);

  for (int year = static_cast<int>(y0); year <= kMaxYear; ++year) {
    if (!c.years.test(static_cast<size_t>(year - kMinYear))) continue;
    for (int month = year == y0 ? mo0 : 1; month <= 12; ++month) {
      if (!((c.months >> month) & 1U)) continue;
      const bool first_month = year == y0 && month == mo0;
      const int dim = DaysInMonth(year, month);
      for (int day = first_month ? d0 : 1; day <= dim; ++day) {
        if (!c.DayMatches(year, month, day)) continue;
        const bool first_day = first_month && day == d0;
        // The first hour >= the start hour, then the first minute within it.
        for (int hour = first_day ? h0 : 0; hour <= 23; ++hour) {
          if (!((c.hours >> hour) & 1U)) continue;
          const int from = first_day && hour == h0 ? mi0 : 0;
          const uint64_t candidates = c.minutes & (~uint64_t{0} << from);
          if (candidates == 0) continue;
          const int m = std::countr_zero(candidates);
          return ((DaysFromCivil(year, month, day) * 24 + hour) * 60 + m) * kMinuteMs;
        }
      }
    }
  }
  return -1;
}

}  // namespace lathe::events
