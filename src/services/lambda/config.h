// Request members of Lambda's operations, read and checked as Lambda does (config.cc).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "services/lambda/code_package.h"

namespace lathe::lambda {

// A string member: "" when absent or null; InvalidParameterValueException when not a string,
// ValidationException (naming `field`) when longer than `max`.
Result<std::string> OptionalString(const nlohmann::json& request, const char* key, size_t max, const char* field);
// The code's zip from `ZipFile` (base64), bounded before it is decoded; S3 and image sources are
// refused.
Result<std::string> DecodeZip(const nlohmann::json& code_or_request, const ZipLimits& limits);

}  // namespace lathe::lambda
