// Intrinsic functions (`States.Format('{} {}', $.a, $.b)` ...), as values of `.$` keys in payload
// templates: parsed once with the definition, evaluated per state. Every function AWS lists:
// Format, StringToJson, JsonToString, Array, ArrayPartition, ArrayContains, ArrayRange,
// ArrayGetItem, ArrayLength, ArrayUnique, Base64Encode, Base64Decode, Hash, JsonMerge,
// MathRandom, MathAdd, StringSplit, UUID. Arguments: string literals in '...' (with the escapes
// \' \{ \} and \\), numbers, true/false/null, paths ($ and $$), and nested calls (depth-bounded).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::asl {

// Whether a string is meant as an intrinsic call (starts with "States." and an identifier and
// "("); a `.$` value is otherwise a path.
bool LooksLikeIntrinsic(std::string_view text);

class Intrinsic {
 public:
  // InvalidArgument naming the function, the argument and what is wrong (unknown function,
  // wrong argument count, unbalanced quote or parenthesis, bad path, too deep or too long).
  static Result<Intrinsic> Parse(std::string_view text);
  const std::string& text() const { return text_; }
  // Evaluates against the state's input and the context object. Bad arguments at run time (wrong
  // types, out of range, an unknown hash algorithm, a string that is not JSON) fail with
  // States.IntrinsicFailure and a cause naming the function; a path naming nothing with
  // States.Runtime as for any path. Results are bounded by kMaxPayloadBytes (ArrayRange, Format
  // ... cannot build more).
  Result<nlohmann::json> Evaluate(const nlohmann::json& input, const nlohmann::json& context) const;

  struct Node;  // defined in intrinsics.cc

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace lathe::asl
