// The time the dispatcher and scheduler go by, behind an interface so that tests drive it
// (a rate(1 minute) schedule is tested by moving a fake clock, never by sleeping).
#pragma once

#include <cstdint>

#include "core/arn.h"

namespace lathe::events {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;  // milliseconds since the epoch, UTC
};

class SystemClock : public Clock {
 public:
  int64_t NowMs() override { return NowMillis(); }
};

}  // namespace lathe::events
