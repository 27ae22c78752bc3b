// The errors a state machine raises, as Step Functions names them. They travel as
// Status::Aws(name, 0, cause): aws_code() is the error ("States.Runtime"), message() the cause,
// so every function of this layer can return Result<T> and the executor reads both back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::asl {

inline constexpr const char* kStatesAll = "States.ALL";
inline constexpr const char* kStatesRuntime = "States.Runtime";
inline constexpr const char* kStatesTimeout = "States.Timeout";
inline constexpr const char* kStatesHeartbeatTimeout = "States.HeartbeatTimeout";
inline constexpr const char* kStatesTaskFailed = "States.TaskFailed";
inline constexpr const char* kStatesPermissions = "States.Permissions";
inline constexpr const char* kStatesDataLimitExceeded = "States.DataLimitExceeded";
inline constexpr const char* kStatesResultPathMatchFailure = "States.ResultPathMatchFailure";
inline constexpr const char* kStatesParameterPathFailure = "States.ParameterPathFailure";
inline constexpr const char* kStatesBranchFailed = "States.BranchFailed";
inline constexpr const char* kStatesNoChoiceMatched = "States.NoChoiceMatched";
inline constexpr const char* kStatesIntrinsicFailure = "States.IntrinsicFailure";
inline constexpr const char* kStatesExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold";
inline constexpr const char* kStatesItemReaderFailed = "States.ItemReaderFailed";

// A state machine error with its cause.
inline Status Fail(std::string error, std::string cause) {
  return Status::Aws(std::move(error), 0, std::move(cause), Status::Code::kInvalidArgument);
}
// The error name a failed Status carries: its aws_code(), or States.Runtime for a Status not
// made by Fail (an internal error still fails the execution by a name a Catch can see).
inline std::string ErrorName(const Status& s) { return s.aws_code().empty() ? kStatesRuntime : s.aws_code(); }

// Whether an error name matches one entry of a Retrier's or Catcher's ErrorEquals. As AWS
// documents: States.ALL matches every error but the terminal States.Runtime and
// States.DataLimitExceeded; States.TaskFailed every error but the timeouts; States.Timeout also
// States.HeartbeatTimeout; nothing
// matches States.Runtime, which always fails the execution.
bool ErrorMatches(std::string_view error_equals, std::string_view error);

// Bounds (docs/serve.md#limits).
inline constexpr size_t kMaxPayloadBytes = 256 * 1024;  // state input/output, execution input
inline constexpr size_t kMaxPathLength = 1024;           // one JSONPath or intrinsic expression
inline constexpr size_t kMaxExpressionDepth = 32;        // nested intrinsic calls, choice rules, filters
inline constexpr size_t kMaxDefinitionBytes = 1024 * 1024;  // as AWS: 1 MB
inline constexpr size_t kMaxStates = 10000;                 // states in one definition, all levels
// How deeply a state's input or output may nest. Dump, copies and comparisons of a json value
// recurse once per level, and a Pass loop with {"x.$": "$"} adds a level per iteration (6 bytes
// each: ~43,000 levels fit in 256 KiB), so depth is bounded apart from size. The API takes
// inputs nested up to 128 levels (backend.cc kMaxInputDepth), the same bound.
inline constexpr size_t kMaxPayloadDepth = 128;
// TimeoutSeconds, HeartbeatSeconds, IntervalSeconds, MaxDelaySeconds and a Wait's Seconds (and
// the values their paths select): AWS's bound for IntervalSeconds, ~3.2 years. Anything in
// milliseconds then stays far inside int64.
inline constexpr int64_t kMaxSeconds = 99999999;
// An error's cause, as AWS bounds it (causes quoting inputs or a task's answer are cut to it).
inline constexpr size_t kMaxCauseBytes = 32768;

// `text` cut to at most `max_bytes` (max_bytes >= 3), ending in "..." when cut, never inside a
// UTF-8 character.
std::string ClipUtf8(std::string text, size_t max_bytes);

}  // namespace lathe::asl
