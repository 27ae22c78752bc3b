// Decoding one JSONL record into an Example, with every rule of its format checked.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "data/example.h"
#include "data/problem.h"

namespace lathe::data {

// The format a record's keys announce, or kAuto when they announce none.
Format DetectFormat(const nlohmann::json& record);

// Checks record against format's rules and fills *out. Appends one Problem per rule broken
// (file, line and column are left for the caller) and returns true if none was an error.
bool DecodeExample(const nlohmann::json& record, Format format, Example* out,
                   std::vector<Problem>* problems);

// Parses one line as JSON. On failure returns false and fills *problem (code "invalid-json",
// the column of the parser's error). Nesting deeper than max_depth is refused before parsing
// (core/json_nesting.h), so hostile input cannot make the parser recurse or allocate without bound.
// Dataset records need few levels; request bodies (service/request_fields.h) pass their own bound.
inline constexpr int kMaxJsonDepth = 32;
bool ParseJsonLine(std::string_view line, nlohmann::json* out, Problem* problem, int max_depth = kMaxJsonDepth);

}  // namespace lathe::data
