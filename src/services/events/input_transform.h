// What a target receives, as AWS documents it ("Transforming target input"): the whole event, or
// the target's constant Input, or the part of the event its InputPath selects, or its
// InputTransformer's template with the InputPathsMap's values (and the predefined
// <aws.events.rule-arn>, <aws.events.rule-name>, <aws.events.event>, <aws.events.event.json>,
// <aws.events.event.ingestion-time>) put in. In a JSON template a value inside quotes is put in
// as string content, outside quotes as JSON; a missing path gives null (outside) or "" (inside).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "services/events/backend.h"

namespace lathe::events {

inline constexpr size_t kMaxJsonPathBytes = 256;  // TargetInputPath's model bound
inline constexpr size_t kMaxInputBytes = 8192;    // TargetInput and TransformerInput's bound
inline constexpr size_t kMaxInputPaths = 100;     // TransformerPaths' bound

// The JSONPath subset EventBridge documents for InputPath and InputPathsMap: "$", dot steps
// ("$.detail.object.key") and bracket steps ("$.resources[0]", "$['detail']").
class JsonPath {
 public:
  static std::optional<JsonPath> Parse(std::string_view path);
  // The value at the path, or null when the event has none.
  const nlohmann::json* Find(const nlohmann::json& doc) const;

 private:
  std::vector<std::variant<std::string, size_t>> steps_;
};

// PutTargets' checks of one target's Input / InputPath / InputTransformer (ValidationException).
Status CheckTargetInput(const Target& target);

// The text delivered to `target` for `envelope` (Envelope() of the event) matched by `rule`.
std::string TransformInput(const Target& target, const nlohmann::json& envelope, const std::string& rule_arn,
                           const std::string& rule_name, int64_t ingestion_ms);

}  // namespace lathe::events
