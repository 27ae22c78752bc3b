// Problem: one thing wrong with a dataset, located precisely and explained with a fix.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace lathe::data {

enum class Severity { kWarning, kError };

struct Problem {
  Severity severity = Severity::kError;
  std::string file;
  uint64_t line = 0;    // 1-based; 0 = about the whole file
  uint64_t column = 0;  // 1-based byte column; 0 = unknown
  std::string field;    // JSON path such as "messages[2].content"; empty = the whole record
  std::string code;     // stable identifier, e.g. "empty-string", "invalid-json"
  std::string message;  // what is wrong
  std::string fix;      // how to fix it
};

// "train.jsonl:12:5: error: messages[1].role: expected "assistant", got "user" [role-order]
//    fix: ..."
std::string FormatProblem(const Problem& p);
nlohmann::json ProblemToJson(const Problem& p);

}  // namespace lathe::data
