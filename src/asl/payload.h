// Input and output processing, in AWS's order: InputPath → Parameters → (the state's work) →
// ResultSelector → ResultPath → OutputPath. Payload templates (Parameters, ResultSelector,
// ItemSelector, a Task's Parameters) are parsed with the definition: keys ending in ".$" take a
// path, a context path or an intrinsic call; other values are copied as they are.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "asl/json_path.h"
#include "core/status.h"

namespace lathe::asl {

// InputPath, OutputPath and ResultPath: absent ("$", the default), null (InputPath/OutputPath:
// {} ; ResultPath: discard the result and keep the input), or a path.
struct PathField {
  enum class Kind { kDefault, kNull, kPath };
  Kind kind = Kind::kDefault;
  JsonPath path;
};

class PayloadTemplate {
 public:
  // `location` is the field's JSON pointer in the definition ("/States/X/Parameters"), named in
  // errors. Fails with InvalidArgument for a ".$" value that is not a string, a bad path or a
  // bad intrinsic, naming the key; nesting is bounded by kMaxExpressionDepth.
  static Result<PayloadTemplate> Parse(const nlohmann::json& tmpl, const std::string& location);
  PayloadTemplate();  // {} : an empty object
  const nlohmann::json& source() const;
  // The template with every ".$" key resolved against `input` and `context` (the key loses its
  // ".$"). A path naming nothing: States.Runtime with AWS's cause ("The JSONPath '$.x' specified
  // for the field 'x.$' could not be found in the input '...'").
  Result<nlohmann::json> Apply(const nlohmann::json& input, const nlohmann::json& context) const;

  struct Node;  // defined in payload.cc

 private:
  std::shared_ptr<const Node> root_;
};

// InputPath / OutputPath: the whole value, {} for null, else the path's selection (States.Runtime
// when it names nothing, cause as AWS words it).
Result<nlohmann::json> ApplyInputPath(const PathField& field, const nlohmann::json& value,
                                      const nlohmann::json& context);
// ResultPath: the result placed into the state's (raw) input, or the result alone ("$"), or the
// input alone (null).
Result<nlohmann::json> ApplyResultPath(const PathField& field, const nlohmann::json& state_input,
                                       nlohmann::json result);

// A value as history events and outputs carry it: compact JSON, bad UTF-8 replaced. The dump
// recurses once per level: call it only on values whose depth is known to be bounded.
std::string DumpPayload(const nlohmann::json& value);
// Whether no array or object in `value` lies more than `limit` levels deep (a scalar: 0 levels,
// [] or {}: 1). Iterative, so safe on a value of any depth.
bool NestingWithin(const nlohmann::json& value, size_t limit);

// The size of a value as Step Functions counts it (its UTF-8 JSON text); a state's input or
// output over kMaxPayloadBytes fails with States.DataLimitExceeded. CheckPayloadSize checks the
// depth first (over kMaxPayloadDepth: States.DataLimitExceeded naming the depth), then the size.
// A template's Apply fails with States.DataLimitExceeded as soon as its result passes
// kMaxPayloadBytes, before building the rest.
size_t PayloadBytes(const nlohmann::json& value);
Status CheckPayloadSize(const nlohmann::json& value, const std::string& what);

}  // namespace lathe::asl
