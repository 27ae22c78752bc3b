// Lambda's function identifiers: a name ("my-function"), a partial ARN
// ("123456789012:function:my-function") or a full ARN
// ("arn:aws:lambda:us-east-1:123456789012:function:my-function"), each optionally followed by
// ":<qualifier>". Parsed by splitting on ':' (no regular expression on request data).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::lambda {

struct FunctionRef {
  std::string name;       // [a-zA-Z0-9-_]{1,64}
  std::string qualifier;  // "" when none
  std::string account;    // "" unless the identifier names one
  std::string region;     // "" unless the identifier names one
};

inline constexpr size_t kMaxFunctionNameLength = 64;

// `field` names the member in errors ("functionName"). ValidationException on a malformed one,
// as AWS answers.
Result<FunctionRef> ParseFunctionRef(std::string_view identifier, const std::string& field = "functionName");
// Whether `name` is a valid bare function name.
bool ValidFunctionName(std::string_view name);

std::string FunctionArn(const std::string& region, const std::string& account, const std::string& name);

inline Status ValidationError(std::string m) { return Status::Aws("ValidationException", 400, std::move(m)); }

}  // namespace lathe::lambda
