// The parsed form of an intrinsic call, shared by intrinsics.cc (parsing, evaluation) and
// intrinsic_functions.cc (what each States.* function computes). Not part of the interface.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "asl/intrinsics.h"
#include "asl/json_path.h"

namespace lathe::asl {

// AWS: "You can nest up to 10 intrinsic functions within a field".
inline constexpr size_t kMaxIntrinsicNesting = 10;
// AWS's bound on the data Base64Encode / Base64Decode / Hash take, in characters.
inline constexpr size_t kMaxIntrinsicDataChars = 10000;
// AWS: ArrayRange "can contain up to 1000 elements".
inline constexpr size_t kMaxArrayRangeItems = 1000;

struct Intrinsic::Node {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  nlohmann::json literal;  // kLiteral: the value (escapes resolved)
  std::string raw;         // a string literal as written between its quotes (Format keeps `\{` apart from `{}`)
  bool string_literal = false;
  JsonPath path;             // kPath
  std::string name;          // kCall: "States.Format"
  std::vector<Node> args;    // kCall
};

// The functions AWS lists, by the name after "States.", with their argument counts.
struct IntrinsicSignature {
  const char* name;
  size_t min_args, max_args;
};
const IntrinsicSignature* FindIntrinsic(std::string_view name);

// Calls function `name` ("States.ArrayRange") with evaluated arguments; `call` is the parsed
// call (Format reads its template's raw text from it). Bad arguments: States.IntrinsicFailure.
Result<nlohmann::json> CallIntrinsic(const Intrinsic::Node& call, std::vector<nlohmann::json> args);

// Roughly the bytes of `value` as JSON text, counted only until `limit` is passed (then limit+1):
// results of intrinsics are bounded without writing them out.
size_t JsonBytesUpTo(const nlohmann::json& value, size_t limit);

// A cause naming the function: "States.ArrayRange: the step must not be zero".
Status IntrinsicFailure(const std::string& function, const std::string& what);

}  // namespace lathe::asl
