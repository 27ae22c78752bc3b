// RFC 3339 timestamps as Step Functions accepts them (Wait's Timestamp, the Timestamp* choice
// comparators): "2026-01-31T12:00:00Z", "2026-01-31T12:00:00.123+05:30". Compared as instants,
// so two spellings of one moment are equal.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lathe::asl {

struct Timestamp {
  int64_t seconds = 0;  // since the Unix epoch, UTC
  int32_t nanos = 0;    // 0..999,999,999
  bool operator<(const Timestamp& o) const { return seconds != o.seconds ? seconds < o.seconds : nanos < o.nanos; }
  bool operator==(const Timestamp& o) const { return seconds == o.seconds && nanos == o.nanos; }
};

// nullopt unless `text` is YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) with real calendar
// values (uppercase T and Z, as AWS requires; at most 9 fraction digits).
std::optional<Timestamp> ParseTimestamp(std::string_view text);

}  // namespace lathe::asl
