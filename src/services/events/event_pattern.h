// EventBridge event patterns: parsed and checked once (PutRule, TestEventPattern), then matched
// against many events. The semantics are AWS's documented ones ("Amazon EventBridge event
// patterns" and "Content filtering"): a pattern is a JSON object whose leaves are arrays of
// alternatives; an event matches when every field the pattern names matches one of them. The
// alternatives: exact strings, numbers, null and booleans; {"prefix"}, {"suffix"} (each also with
// {"equals-ignore-case"}), {"anything-but": value | [values] | {"prefix"} | {"suffix"} |
// {"equals-ignore-case"} | {"wildcard"}}, {"numeric": [">", 0, "<=", 5]}, {"exists": bool},
// {"wildcard": "a*b"}, {"equals-ignore-case"}, {"cidr"}; and "$or": [pattern, ...]. An array in the
// event matches when any of its elements does.
//
// Matching never backtracks (wildcards are matched with a linear algorithm), and patterns are
// bounded in size, depth and number of alternatives before any of it is used.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::events {

// AWS's bounds: a pattern is at most 4096 characters... (EventPattern's model max is 4096).
inline constexpr size_t kMaxEventPatternBytes = 4096;

struct PatternOptions {
  // The automation tutorial writes {"prefix": "training-data/", "suffix": ".jsonl"} as ONE match
  // expression, which AWS refuses ("Only one key allowed in match expression"). lathe accepts it
  // as prefix AND suffix (with a warning naming the AWS-valid form {"wildcard": "..."}) unless
  // the config's strictAwsCompatibility asks for AWS's refusal.
  bool strict_aws = false;
};

class EventPattern {
 public:
  // InvalidEventPatternException (Status::Aws, 400) with the reason AWS gives, for JSON that is
  // not an object, an empty array of alternatives, an unknown or malformed operator, and so on.
  // Tolerated divergences (see PatternOptions) append a sentence each to *warnings.
  static Result<EventPattern> Parse(std::string_view pattern_json, const PatternOptions& options = {},
                                    std::vector<std::string>* warnings = nullptr);

  // Whether `event` (the whole envelope: version, id, detail-type, source, account, time, region,
  // resources, detail) matches.
  bool Matches(const nlohmann::json& event) const;

  EventPattern(EventPattern&&) noexcept;
  EventPattern& operator=(EventPattern&&) noexcept;
  ~EventPattern();

 private:
  struct Node;
  explicit EventPattern(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;
};

}  // namespace lathe::events
