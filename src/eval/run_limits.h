// The bounds of one evaluation run (docs/evaluation.md, Limits) and the settings the judge
// answers with. Internal to the eval layer: evaluation.cc checks them, the CLI's flags are
// checked against the same numbers.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "eval/evaluation.h"

namespace lathe::eval {

inline constexpr size_t kMaxModelsPerRun = 8;
inline constexpr int kMaxBatchSize = 64;
inline constexpr int kMaxAnswerTokens = 4096;
inline constexpr size_t kMaxStopSequences = 8;
inline constexpr size_t kMaxStopSequenceBytes = 256;
// What a run keeps of one answer (and of one error message), cut at a character boundary: a
// served model may answer with anything, and report.json's reader refuses strings over
// kMaxReportStringBytes (report.h). 4096 tokens of text stay well under it.
inline constexpr size_t kMaxAnswerBytes = 256 << 10;
inline constexpr size_t kMaxErrorBytes = 4 << 10;

// InvalidArgument naming the setting and its range when one is out of bounds.
Status CheckSettings(const GenerationSettings& s);

// Greedy, short: the judge writes five "criterion: N" lines, and the same answer must get the
// same scores every time.
GenerationSettings JudgeSettings();

}  // namespace lathe::eval
