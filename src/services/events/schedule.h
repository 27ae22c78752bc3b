// EventBridge schedule expressions: rate(value unit) and AWS's six-field cron(minutes hours
// day-of-month month day-of-week year), with `*`, `,`, `-`, `/`, `?` (one of day-of-month and
// day-of-week must be `?`), `L`, `W` and `#`, month and weekday names, in UTC. Schedules fire
// while the server runs; times it was down are not back-filled.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::events {

inline constexpr size_t kMaxScheduleExpressionBytes = 256;  // ScheduleExpression's model bound

class Schedule {
 public:
  // ValidationException "Parameter ScheduleExpression is not valid." (Status::Aws, 400) otherwise.
  static Result<Schedule> Parse(std::string_view expression);

  // The first time it fires strictly after `after_ms` (milliseconds since the epoch, UTC), or -1
  // when it never fires again (a cron whose years are past). A rate fires every period counted
  // from `anchor_ms` (the rule's creation or enabling), as EventBridge does.
  int64_t NextAfter(int64_t after_ms, int64_t anchor_ms) const;

  const std::string& expression() const { return expression_; }

  Schedule(Schedule&&) noexcept;
  Schedule& operator=(Schedule&&) noexcept;
  ~Schedule();

 private:
  struct Cron;
  Schedule() = default;
  std::string expression_;
  int64_t rate_ms_ = 0;         // > 0 for rate()
  std::unique_ptr<Cron> cron_;  // for cron()
};

}  // namespace lathe::events
