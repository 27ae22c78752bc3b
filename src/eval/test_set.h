// Evaluation test sets: JSONL, one case a line, read and checked like training data (every
// problem reported at its file, line and field; nothing is silently skipped).
//
// A case is an object with
//   prompt              string: the question, sent as is (Titan's inputText)      } exactly
//   messages            [{role, content}]: a conversation, rendered in the model's } one of
//                       chat format, ending where the answer starts (last role user) } these
//   referenceResponse   string, optional: the answer wanted (Bedrock's evaluation dataset key;
//                       `completion` is accepted too, so a prompt/completion validation split
//                       is a test set as it is)
//   expectedKeywords    [string], optional: what a good answer mentions (the guide's
//                       ModelEvaluator; `expected_keywords` is accepted too)
//   category            string, optional ("" = "uncategorized")
//   format              optional: {"regex": "..."} the whole answer must match, or
//                       {"jsonSchema": {...}} the answer, parsed as JSON, must satisfy
//   id                  string, optional (default "line-<N>")
// Unknown keys are kept (inputRecord in Bedrock's output) and not errors: Lab 4's
// `expected_theme`, Bedrock's own extra keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "data/problem.h"
#include "text/chat_format.h"

namespace lathe::eval {

// Bounds (docs/evaluation.md, Limits). Checked before anything is parsed further.
inline constexpr size_t kMaxCases = 10000;
inline constexpr size_t kMaxLineBytes = 256 * 1024;
inline constexpr size_t kMaxTestSetBytes = 64ull << 20;
inline constexpr size_t kMaxKeywords = 64;
inline constexpr size_t kMaxKeywordBytes = 256;
inline constexpr size_t kMaxCategoryBytes = 128;
inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxRegexBytes = 1024;
inline constexpr size_t kMaxSchemaDepth = 16;   // JSON Schema nesting
inline constexpr size_t kMaxSchemaBytes = 16 * 1024;
inline constexpr size_t kMaxMessages = 64;
inline constexpr int kMaxJsonDepth = 32;        // any line, before nlohmann parses it

struct FormatRule {
  enum class Kind { kNone, kRegex, kJsonSchema };
  Kind kind = Kind::kNone;
  std::string regex;          // PCRE2 syntax, matched against the whole answer (DFA: no backtracking)
  nlohmann::json schema;      // the JSON Schema subset of metrics.h
};

struct TestCase {
  std::string id;
  uint64_t line = 0;                        // 1-based line in the file
  std::string prompt;                       // set when the case has "prompt"
  std::vector<text::ChatMessage> messages;  // set when the case has "messages"
  std::string reference;                    // referenceResponse ("" = none)
  std::vector<std::string> keywords;        // expectedKeywords (empty = none)
  std::string category = "uncategorized";
  FormatRule format;
  nlohmann::json record;                    // the line as read (Bedrock's inputRecord)
  // The prompt as one line of text for tables and reports (the last user message for chats).
  std::string DisplayPrompt() const;
};

struct TestSet {
  std::string source;  // the file (or s3:// URI) named in problems and reports
  std::vector<TestCase> cases;
  std::vector<data::Problem> problems;  // errors and warnings; any error makes the set unusable
  bool ok() const;                      // no errors and at least one case
  std::vector<std::string> Categories() const;  // distinct, in order of first appearance
};

// Parses `text` (the file's bytes) named `source` in problems. Never fails as a whole: every
// problem lands in TestSet::problems (an empty set is the error "empty-test-set").
TestSet ParseTestSet(std::string_view text, const std::string& source);
// Reads and parses a local file (NotFound / IO errors as Status; oversize as InvalidArgument).
Result<TestSet> ReadTestSet(const std::string& path);

}  // namespace lathe::eval
