// SageMaker's names and ARNs for the registry, checked by hand (no regex on request data):
// EntityName [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}; ArnOrName (a group's name or its
// model-package-group ARN); VersionedArnOrName (a package ARN or "<group>/<version>").
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::sagemaker {

inline constexpr size_t kMaxArnOrNameBytes = 170;          // botocore: ArnOrName
inline constexpr size_t kMaxVersionedArnOrNameBytes = 176;  // botocore: VersionedArnOrName
inline constexpr int kMaxVersionDigits = 9;

bool IsEntityName(std::string_view s);

// A group's name from its name or ARN. An ARN of another account than `account` is refused
// (ValidationException naming both); the ARN's region is not checked (one registry per lathe).
Result<std::string> GroupNameFrom(std::string_view arn_or_name, const std::string& account, const std::string& member);

struct VersionRef {
  std::string group;
  int version = 0;
};
// "<group>/<version>" or arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>.
Result<VersionRef> VersionRefFrom(std::string_view arn_or_name, const std::string& account, const std::string& member);

}  // namespace lathe::sagemaker
