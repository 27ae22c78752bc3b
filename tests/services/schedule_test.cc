#include "services/events/schedule.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace lathe::events {
namespace {

// "2024-03-15 10:00" or "2024-03-15 10:00:30" (UTC) as milliseconds since the epoch.
int64_t Utc(const char* text) {
  std::tm tm{};
  int sec = 0;
  const int n = std::sscanf(text, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &sec);
  EXPECT_GE(n, 5) << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string Format(int64_t ms) {
  if (ms < 0) return "never";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf) + (ms % 1000 ? "+ms" : "");
}

Schedule MustParse(std::string_view expression) {
  Result<Schedule> s = Schedule::Parse(expression);
  EXPECT_TRUE(s.ok()) << expression << ": " << s.status().ToString();
  if (!s.ok()) return std::move(Schedule::Parse("rate(1 minute)").value());
  return std::move(s).value();
}

// The next firing of a cron after `after`, both as readable UTC times so failures say what ran.
std::string NextCron(std::string_view expression, const char* after) {
  return Format(MustParse(expression).NextAfter(Utc(after), 0));
}

void ExpectInvalid(std::string_view expression) {
  Result<Schedule> s = Schedule::Parse(expression);
  ASSERT_FALSE(s.ok()) << "accepted: " << expression;
  EXPECT_EQ(s.status().aws_code(), "ValidationException") << expression;
  EXPECT_EQ(s.status().http_status(), 400);
  EXPECT_EQ(s.status().message(), "Parameter ScheduleExpression is not valid.");
}

// AWS's table of example cron expressions, each from fixed instants. 2024-03-15 is a Friday.
TEST(Schedule, AwsDocumentedCronExamples) {
  // 10:00 every day.
  EXPECT_EQ(NextCron("cron(0 10 * * ? *)", "2024-03-15 09:59:59"), "2024-03-15 10:00:00");
  EXPECT_EQ(NextCron("cron(0 10 * * ? *)", "2024-03-15 10:00:00"), "2024-03-16 10:00:00");  // strictly after
  // 12:15 every day, across the year's end.
  EXPECT_EQ(NextCron("cron(15 12 * * ? *)", "2024-12-31 12:16"), "2025-01-01 12:15:00");
  // 18:00 Monday to Friday: Friday evening's next is Monday's.
  EXPECT_EQ(NextCron("cron(0 18 ? * MON-FRI *)", "2024-03-15 17:00"), "2024-03-15 18:00:00");
  EXPECT_EQ(NextCron("cron(0 18 ? * MON-FRI *)", "2024-03-15 18:00"), "2024-03-18 18:00:00");
  // 08:00 on the first of every month, across a year.
  EXPECT_EQ(NextCron("cron(0 8 1 * ? *)", "2024-01-31 09:00"), "2024-02-01 08:00:00");
  EXPECT_EQ(NextCron("cron(0 8 1 * ? *)", "2024-12-01 08:00"), "2025-01-01 08:00:00");
  // Every 15 minutes.
  EXPECT_EQ(NextCron("cron(0/15 * * * ? *)", "2024-03-15 10:07:30"), "2024-03-15 10:15:00");
  EXPECT_EQ(NextCron("cron(0/15 * * * ? *)", "2024-03-15 23:50"), "2024-03-16 00:00:00");
  // Every 10 minutes Monday to Friday: Friday night's next is Monday midnight.
  EXPECT_EQ(NextCron("cron(0/10 * ? * MON-FRI *)", "2024-03-15 23:55"), "2024-03-18 00:00:00");
  EXPECT_EQ(NextCron("cron(0/10 * ? * MON-FRI *)", "2024-03-18 00:00"), "2024-03-18 00:10:00");
  // Every 5 minutes, 08:00-17:55, Monday to Friday.
  EXPECT_EQ(NextCron("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-18 07:12"), "2024-03-18 08:00:00");
  EXPECT_EQ(NextCron("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-18 12:01"), "2024-03-18 12:05:00");
  EXPECT_EQ(NextCron("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-18 17:55"), "2024-03-19 08:00:00");
  EXPECT_EQ(NextCron("cron(0/5 8-17 ? * MON-FRI *)", "2024-03-15 17:56"), "2024-03-18 08:00:00");
  // 09:00 on the first Monday of every month (2024-04-01 and 2024-05-06 are first Mondays).
  EXPECT_EQ(NextCron("cron(0 9 ? * 2#1 *)", "2024-03-15 00:00"), "2024-04-01 09:00:00");
  EXPECT_EQ(NextCron("cron(0 9 ? * 2#1 *)", "2024-04-01 09:00"), "2024-05-06 09:00:00");
}

// The tutorial's weekly retraining rule, in the form AWS takes.
TEST(Schedule, WeeklySchedule) {
  EXPECT_EQ(NextCron("cron(0 9 ? * MON *)", "2024-03-17 12:00"), "2024-03-18 09:00:00");
  EXPECT_EQ(NextCron("cron(0 9 ? * MON *)", "2024-03-18 09:00"), "2024-03-25 09:00:00");
  EXPECT_EQ(NextCron("cron(0 9 ? * 2 *)", "2024-03-18 09:00"), "2024-03-25 09:00:00");
  EXPECT_EQ(NextCron("cron(0 2 ? * sun *)", "2024-12-30 00:00"), "2025-01-05 02:00:00");
}

TEST(Schedule, LastDayOfMonthFollowsLeapYears) {
  EXPECT_EQ(NextCron("cron(0 0 L * ? *)", "2024-02-01 00:00"), "2024-02-29 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 L * ? *)", "2023-02-01 00:00"), "2023-02-28 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 L * ? *)", "2100-02-01 00:00"), "2100-02-28 00:00:00");  // not leap
  EXPECT_EQ(NextCron("cron(0 0 L * ? *)", "2000-02-01 00:00"), "2000-02-29 00:00:00");  // leap
  EXPECT_EQ(NextCron("cron(0 0 L * ? *)", "2024-04-30 00:00"), "2024-05-31 00:00:00");
  EXPECT_EQ(NextCron("cron(30 23 L 12 ? *)", "2024-12-31 23:30"), "2025-12-31 23:30:00");
  // The 31st skips the months without one.
  EXPECT_EQ(NextCron("cron(0 0 31 * ? *)", "2024-03-31 00:00"), "2024-05-31 00:00:00");
  // 29 February: the next leap year.
  EXPECT_EQ(NextCron("cron(0 12 29 2 ? *)", "2024-03-01 00:00"), "2028-02-29 12:00:00");
}

TEST(Schedule, WeekdayWildcards) {
  // LW: 2024-08-31 is a Saturday, 2024-03-31 a Sunday, 2024-10-31 a Thursday.
  EXPECT_EQ(NextCron("cron(0 0 LW * ? *)", "2024-08-01 00:00"), "2024-08-30 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 LW * ? *)", "2024-03-01 00:00"), "2024-03-29 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 LW * ? *)", "2024-10-01 00:00"), "2024-10-31 00:00:00");
  // 15W: 2024-06-15 is a Saturday (Friday 14th), 2024-09-15 a Sunday (Monday 16th).
  EXPECT_EQ(NextCron("cron(0 0 15W * ? *)", "2024-06-01 00:00"), "2024-06-14 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 15W * ? *)", "2024-09-01 00:00"), "2024-09-16 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 15W * ? *)", "2024-05-01 00:00"), "2024-05-15 00:00:00");  // Wednesday
  // 1W on a Saturday stays in the month: Monday the 3rd (2024-06-01 is a Saturday).
  EXPECT_EQ(NextCron("cron(0 0 1W * ? *)", "2024-05-31 00:00"), "2024-06-03 00:00:00");
  // 31W on a Sunday 31st stays in the month: Friday the 29th.
  EXPECT_EQ(NextCron("cron(0 0 31W * ? *)", "2024-03-01 00:00"), "2024-03-29 00:00:00");
  // 30W never fires in February; 2024-03-30 is a Saturday, so Friday the 29th.
  EXPECT_EQ(NextCron("cron(0 0 30W * ? *)", "2024-02-01 00:00"), "2024-03-29 00:00:00");
}

TEST(Schedule, LastAndNthWeekdayOfMonth) {
  // 5L: the last Thursday. 6L: the last Friday.
  EXPECT_EQ(NextCron("cron(0 0 ? * 5L *)", "2024-11-01 00:00"), "2024-11-28 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 ? * 6L *)", "2024-02-01 00:00"), "2024-02-23 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 ? * FRIL *)", "2024-02-01 00:00"), "2024-02-23 00:00:00");
  // L alone: the week's last day, Saturday.
  EXPECT_EQ(NextCron("cron(0 0 ? * L *)", "2024-03-15 00:00"), "2024-03-16 00:00:00");
  // 2#3: the third Monday (2024-03-18, then 2024-04-15).
  EXPECT_EQ(NextCron("cron(0 9 ? * 2#3 *)", "2024-03-01 00:00"), "2024-03-18 09:00:00");
  EXPECT_EQ(NextCron("cron(0 9 ? * MON#3 *)", "2024-03-18 09:00"), "2024-04-15 09:00:00");
  // 6#5: a fifth Friday, only in months that have one (2024-03-29, then 2024-05-31).
  EXPECT_EQ(NextCron("cron(0 0 ? * 6#5 *)", "2024-03-01 00:00"), "2024-03-29 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 ? * 6#5 *)", "2024-03-29 00:00"), "2024-05-31 00:00:00");
}

TEST(Schedule, RangesStepsListsAndNames) {
  EXPECT_EQ(NextCron("cron(5/20 * * * ? *)", "2024-03-15 10:26"), "2024-03-15 10:45:00");
  EXPECT_EQ(NextCron("cron(5/20 * * * ? *)", "2024-03-15 10:46"), "2024-03-15 11:05:00");
  EXPECT_EQ(NextCron("cron(10-30/10 * * * ? *)", "2024-03-15 10:31"), "2024-03-15 11:10:00");
  EXPECT_EQ(NextCron("cron(*/30 * * * ? *)", "2024-03-15 10:31"), "2024-03-15 11:00:00");
  EXPECT_EQ(NextCron("cron(0 6,18 * * ? *)", "2024-03-15 07:00"), "2024-03-15 18:00:00");
  EXPECT_EQ(NextCron("cron(0 0 1 JAN,jul ? *)", "2024-01-01 00:00"), "2024-07-01 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 1 */3 ? *)", "2024-02-01 00:00"), "2024-04-01 00:00:00");
  // Ranges whose start is above their end wrap.
  EXPECT_EQ(NextCron("cron(0 22-2 * * ? *)", "2024-03-15 02:30"), "2024-03-15 22:00:00");
  EXPECT_EQ(NextCron("cron(0 22-2 * * ? *)", "2024-03-15 23:30"), "2024-03-16 00:00:00");
  EXPECT_EQ(NextCron("cron(0 12 ? * FRI-MON *)", "2024-03-18 12:00"), "2024-03-22 12:00:00");
  EXPECT_EQ(NextCron("cron(0 0 1 NOV-FEB ? *)", "2024-03-01 00:00"), "2024-11-01 00:00:00");
  // Extra spaces between fields are only separators.
  EXPECT_EQ(NextCron("cron(0  10 * *   ? *)", "2024-03-15 09:00"), "2024-03-15 10:00:00");
}

TEST(Schedule, YearsBoundTheSearch) {
  EXPECT_EQ(NextCron("cron(0 0 1 1 ? 2020)", "2024-03-15 00:00"), "never");
  EXPECT_EQ(NextCron("cron(0 0 1 1 ? 2020-2030)", "2024-03-15 00:00"), "2025-01-01 00:00:00");
  EXPECT_EQ(NextCron("cron(0 0 1 1 ? 2030/10)", "2024-03-15 00:00"), "2030-01-01 00:00:00");
  EXPECT_EQ(NextCron("cron(59 23 31 12 ? 2199)", "2199-12-31 23:58"), "2199-12-31 23:59:00");
  EXPECT_EQ(NextCron("cron(59 23 31 12 ? 2199)", "2199-12-31 23:59"), "never");
  EXPECT_EQ(NextCron("cron(* * * * ? *)", "2199-12-31 23:59"), "never");
  // Before the epoch: the first minute of 1970.
  EXPECT_EQ(MustParse("cron(* * * * ? *)").NextAfter(-5'000'000, 0), 0);
  EXPECT_EQ(MustParse("cron(* * * * ? *)").NextAfter(INT64_MAX, 0), -1);
  EXPECT_EQ(MustParse("cron(* * * * ? *)").NextAfter(INT64_MIN, 0), 0);
}

// A date that never comes (30 February, 31 April, a fifth Monday in February of a non-leap year
// only) answers -1 after a bounded walk, not a minute-by-minute scan of 175 years.
TEST(Schedule, ImpossibleDatesNeverFireAndAnswerQuickly) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(NextCron("cron(0 0 30 2 ? *)", "2024-01-01 00:00"), "never");
  EXPECT_EQ(NextCron("cron(* * 31 4,6,9,11 ? *)", "1970-01-01 00:00"), "never");
  EXPECT_EQ(NextCron("cron(0 0 30W 2 ? *)", "2024-01-01 00:00"), "never");
  EXPECT_EQ(NextCron("cron(0 0 ? 2 2#5 2025-2027)", "2024-01-01 00:00"), "never");
  EXPECT_EQ(NextCron("cron(0 0 ? 2 2#5 *)", "2024-01-01 00:00"), "2044-02-29 00:00:00");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// Minute by minute over 40 days around a month end and a leap day: a minute "fires" when a search
// starting exactly there returns it; a search from anywhere before must return the first such
// minute, so no start position (mid-hour, mid-day, month end) skips or invents a firing.
TEST(Schedule, AnswersAgreeWithAMinuteByMinuteWalk) {
  const int64_t from = Utc("2024-02-10 00:00");
  constexpr int kMinutes = 40 * 24 * 60;
  for (std::string_view expression :
       {"cron(0/7 */5 * * ? *)", "cron(59 23 L * ? *)", "cron(30 9-17 ? * MON-FRI *)",
        "cron(0 0,12 29 2 ? *)", "cron(45 22-1 ? * 6L *)", "cron(0 8 1W * ? *)",
        "cron(15 * ? * 5#2 *)", "cron(0 12 LW * ? *)"}) {
    Schedule s = MustParse(expression);
    std::vector<bool> fires(kMinutes + 1);
    int count = 0;
    for (int m = 0; m <= kMinutes; ++m) {
      const int64_t at = from + int64_t{m} * 60'000;
      fires[m] = s.NextAfter(at - 1, 0) == at;
      count += fires[m];
    }
    EXPECT_GT(count, 0) << expression;
    int64_t next = -1;  // the first firing minute at or after m, walking backwards
    for (int m = kMinutes; m >= 0; --m) {
      if (fires[m]) next = from + int64_t{m} * 60'000;
      if (next < 0 || m == 0) continue;
      const int64_t before = from + int64_t{m - 1} * 60'000 + 30'000;  // mid-minute before m
      ASSERT_EQ(Format(s.NextAfter(before, 0)), Format(next)) << expression << " after " << Format(before);
    }
  }
}

TEST(Schedule, RateFiresEveryPeriodFromItsAnchor) {
  const int64_t anchor = Utc("2024-03-15 10:00:20");
  Schedule minute = MustParse("rate(1 minute)");
  EXPECT_EQ(Format(minute.NextAfter(anchor, anchor)), "2024-03-15 10:01:20");
  EXPECT_EQ(Format(minute.NextAfter(anchor + 59'999, anchor)), "2024-03-15 10:01:20");
  EXPECT_EQ(Format(minute.NextAfter(anchor + 60'000, anchor)), "2024-03-15 10:02:20");
  EXPECT_EQ(Format(minute.NextAfter(anchor - 3'600'000, anchor)), "2024-03-15 10:01:20");
  EXPECT_EQ(Format(MustParse("rate(5 minutes)").NextAfter(Utc("2024-03-15 10:12"), anchor)),
            "2024-03-15 10:15:20");
  EXPECT_EQ(Format(MustParse("rate(1 hour)").NextAfter(anchor, anchor)), "2024-03-15 11:00:20");
  EXPECT_EQ(Format(MustParse("rate(12 hours)").NextAfter(Utc("2024-03-16 09:00"), anchor)),
            "2024-03-16 10:00:20");
  EXPECT_EQ(Format(MustParse("rate(1 day)").NextAfter(anchor, anchor)), "2024-03-16 10:00:20");
  EXPECT_EQ(Format(MustParse("rate(7 days)").NextAfter(Utc("2024-03-20 00:00"), anchor)),
            "2024-03-22 10:00:20");
  // The largest accepted value, and sums past int64 answer "never" rather than wrapping.
  Schedule huge = MustParse("rate(999999999 days)");
  EXPECT_EQ(huge.NextAfter(0, 0), 999'999'999LL * 86'400'000);
  EXPECT_EQ(huge.NextAfter(INT64_MAX - 10, INT64_MAX - 100), -1);
  EXPECT_EQ(minute.NextAfter(INT64_MAX, INT64_MIN), -1);
}

TEST(Schedule, KeepsTheExpression) {
  EXPECT_EQ(MustParse("cron(0 10 * * ? *)").expression(), "cron(0 10 * * ? *)");
  EXPECT_EQ(MustParse("rate(5 minutes)").expression(), "rate(5 minutes)");
}

TEST(Schedule, RefusesRatesAwsRefuses) {
  ExpectInvalid("rate(1 minutes)");  // singular only for 1
  ExpectInvalid("rate(5 minute)");   // plural for more than 1
  ExpectInvalid("rate(1 hours)");
  ExpectInvalid("rate(2 day)");
  ExpectInvalid("rate(0 minutes)");
  ExpectInvalid("rate(-1 minutes)");
  ExpectInvalid("rate(+5 minutes)");
  ExpectInvalid("rate(1.5 minutes)");
  ExpectInvalid("rate(30 seconds)");
  ExpectInvalid("rate(2 weeks)");
  ExpectInvalid("rate(5minutes)");
  ExpectInvalid("rate(5  minutes)");
  ExpectInvalid("rate( 5 minutes)");
  ExpectInvalid("rate(5 minutes )");
  ExpectInvalid("rate(5 Minutes)");
  ExpectInvalid("rate(minutes)");
  ExpectInvalid("rate(5)");
  ExpectInvalid("rate()");
  ExpectInvalid("rate(1234567890 minutes)");
  ExpectInvalid("rate(99999999999999999999999 minutes)");
  ExpectInvalid("rate(５ minutes)");  // a full-width digit
}

TEST(Schedule, RefusesDayOfMonthWithDayOfWeek) {
  ExpectInvalid("cron(0 10 * * * *)");    // neither is ?
  ExpectInvalid("cron(0 10 1 * MON *)");
  ExpectInvalid("cron(0 10 ? * ? *)");    // both are ?
  ExpectInvalid("cron(0 10 L * 2#1 *)");
}

TEST(Schedule, RefusesValuesOutsideAwsRanges) {
  ExpectInvalid("cron(60 10 * * ? *)");
  ExpectInvalid("cron(0 24 * * ? *)");
  ExpectInvalid("cron(0 10 0 * ? *)");
  ExpectInvalid("cron(0 10 32 * ? *)");
  ExpectInvalid("cron(0 10 * 0 ? *)");
  ExpectInvalid("cron(0 10 * 13 ? *)");
  ExpectInvalid("cron(0 10 ? * 0 *)");
  ExpectInvalid("cron(0 10 ? * 8 *)");
  ExpectInvalid("cron(0 10 * * ? 1969)");
  ExpectInvalid("cron(0 10 * * ? 2200)");
  ExpectInvalid("cron(0 10 * * ? 2030-2020)");  // years do not wrap
  ExpectInvalid("cron(99999999999 10 * * ? *)");
  ExpectInvalid("cron(0/99999999999 10 * * ? *)");
}

TEST(Schedule, RefusesWildcardsWhereAwsDoesNotAllowThem) {
  ExpectInvalid("cron(? 10 * * ? *)");
  ExpectInvalid("cron(0 ? * * ? *)");
  ExpectInvalid("cron(0 10 * ? ? *)");
  ExpectInvalid("cron(0 10 * * ? ?)");
  ExpectInvalid("cron(L 10 * * ? *)");
  ExpectInvalid("cron(0 10 * L ? *)");
  ExpectInvalid("cron(0 10 ? * 2W *)");     // W only in day-of-month
  ExpectInvalid("cron(0 10 1#2 * ? *)");    // # only in day-of-week
  ExpectInvalid("cron(0 10 ? * MON/2 *)");  // no / in day-of-week
  ExpectInvalid("cron(0 10 ? * 3#1,6#3 *)");  // AWS: one # expression only
  ExpectInvalid("cron(0 10 ? * 2#0 *)");
  ExpectInvalid("cron(0 10 ? * 2#6 *)");
  ExpectInvalid("cron(0 10 ? * 8#1 *)");
  ExpectInvalid("cron(0 10 ? * 5L,2 *)");
  ExpectInvalid("cron(0 10 L,15 * ? *)");
  ExpectInvalid("cron(0 10 15W,20 * ? *)");
  ExpectInvalid("cron(0 10 32W * ? *)");
  ExpectInvalid("cron(0 10 0W * ? *)");
  ExpectInvalid("cron(0 10 W * ? *)");
  ExpectInvalid("cron(0 10 L-3 * ? *)");
  ExpectInvalid("cron(0 10 lw * ? *)");
  ExpectInvalid("cron(0/0 10 * * ? *)");
  ExpectInvalid("cron(0/60 10 * * ? *)");
  ExpectInvalid("cron(5- 10 * * ? *)");
  ExpectInvalid("cron(-5 10 * * ? *)");
  ExpectInvalid("cron(1,,2 10 * * ? *)");
  ExpectInvalid("cron(, 10 * * ? *)");
  ExpectInvalid("cron(1-2-3 10 * * ? *)");
  ExpectInvalid("cron(0 10 * JANUARY ? *)");
  ExpectInvalid("cron(0 10 * MON ? *)");    // a day's name in the month field
  ExpectInvalid("cron(0 10 ? * JAN *)");    // a month's name in the day-of-week field
  ExpectInvalid("cron(0 10 ? * MONDAY *)");
}

TEST(Schedule, RefusesMalformedAndOversizedExpressions) {
  ExpectInvalid("");
  ExpectInvalid("cron");
  ExpectInvalid("cron()");
  ExpectInvalid("cron(0 10 * * ?)");          // five fields
  ExpectInvalid("cron(0 0 10 * * ? *)");      // seven fields
  ExpectInvalid("cron(0 10 * * ? *");
  ExpectInvalid("cron 0 10 * * ? *)");
  ExpectInvalid("cron (0 10 * * ? *)");
  ExpectInvalid("CRON(0 10 * * ? *)");
  ExpectInvalid(" cron(0 10 * * ? *)");
  ExpectInvalid("cron(0 10 * * ? *) ");
  ExpectInvalid("cron(0 10 * * ? *)\n");
  ExpectInvalid("cron(0\t10 * * ? *)");
  ExpectInvalid(std::string_view("cron(0 10 * * ? *\0)", 19));
  ExpectInvalid("cron(０ 10 * * ? *)");       // a full-width digit
  ExpectInvalid("cron(0 10 * * ? *)cron(0 10 * * ? *)");
  ExpectInvalid("at(2024-03-15T10:00:00)");   // EventBridge Scheduler's, not a rule's
  ExpectInvalid("0 10 * * ? *");
  ExpectInvalid("rate(5 minutes");

  // kMaxScheduleExpressionBytes is the bound, counted in bytes: padding spaces keep it valid.
  std::string at_bound = "cron(0 10 * * ? *";
  at_bound += std::string(kMaxScheduleExpressionBytes - at_bound.size() - 1, ' ') + ")";
  ASSERT_EQ(at_bound.size(), kMaxScheduleExpressionBytes);
  EXPECT_TRUE(Schedule::Parse(at_bound).ok());
  ExpectInvalid("cron(0 10 * * ? * " + std::string(kMaxScheduleExpressionBytes, ' ') + ")");
  ExpectInvalid("cron(" + std::string(100'000, '1') + " 10 * * ? *)");

  // At most 64 items in a field's list.
  std::string items = "0";
  for (int i = 1; i < 64; ++i) items += ",0";
  EXPECT_TRUE(Schedule::Parse("cron(" + items + " 10 * * ? *)").ok());
  ExpectInvalid("cron(" + items + ",0 10 * * ? *)");
}

}  // namespace
}  // namespace lathe::events
