// Subscription filter policies (AWS's "Amazon SNS message filtering"): which messages a
// subscription receives, by their MessageAttributes (FilterPolicyScope MessageAttributes, the
// default) or their JSON body (MessageBody). A policy is an object of key -> array of
// conditions; a message matches when every key has a condition that matches:
//   "value", 12.5            exact string / numeric equality
//   {"prefix": "s"} {"suffix": "s"} {"equals-ignore-case": "s"}
//   {"anything-but": v | [v...] | {"prefix": "s"}}
//   {"numeric": ["=", 1, ...]} with =, <, <=, >, >= (a range: [">", 0, "<=", 5])
//   {"exists": true|false}
// Operators outside this list are refused when the policy is set (InvalidParameter naming
// them), so a subscription never silently receives what AWS would filter out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::sns {

inline constexpr size_t kMaxFilterPolicyBytes = 256 * 1024;
inline constexpr int kMaxFilterPolicyDepth = 16;
// AWS: "the total combination of values must not exceed 150".
inline constexpr size_t kMaxFilterPolicyCombinations = 150;

enum class FilterScope { kMessageAttributes, kMessageBody };

class FilterPolicy {
 public:
  // InvalidParameter ("Invalid parameter: FilterPolicy: <why>") for malformed or unsupported
  // policies; an empty text or "{}" is the policy that matches everything.
  static Result<FilterPolicy> Parse(std::string_view text, FilterScope scope);
  // `message`: for kMessageAttributes an object name -> value (strings, numbers, or arrays for
  // String.Array); for kMessageBody the parsed body (a non-object body matches no key).
  bool Matches(const nlohmann::json& message) const;
  bool empty() const { return policy_.empty(); }

 private:
  nlohmann::json policy_ = nlohmann::json::object();
};

}  // namespace lathe::sns
