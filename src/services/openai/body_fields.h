// Reading an untrusted JSON body field by field, each failure an OpenAI error naming the field
// (error.param): the body's nesting is measured before it is parsed, types are checked before
// values, lengths before anything else is done with a string.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "services/openai/errors.h"

namespace lathe::openai {

using Problem = std::optional<ApiError>;

ApiError Invalid(const std::string& param, const std::string& message);
ApiError Unsupported(const std::string& param, const std::string& message);

// The body as a JSON object: at most kMaxRequestJsonDepth deep, valid JSON, an object.
Problem ParseObject(std::string_view body, nlohmann::json* out);
// Keys other than these are refused, as OpenAI does ("Unrecognized request argument supplied").
Problem OnlyKeys(const nlohmann::json& object, std::initializer_list<const char*> keys, const std::string& where = "");

// Each reads `key` of `object` when present and not null; absent or null leaves *out unchanged.
Problem String(const nlohmann::json& object, const char* key, size_t max_bytes, std::string* out, bool required = false);
Problem Bool(const nlohmann::json& object, const char* key, bool* out);
Problem Integer(const nlohmann::json& object, const char* key, int64_t min, int64_t max, int64_t* out);
Problem Number(const nlohmann::json& object, const char* key, double min, double max, double* out);

}  // namespace lathe::openai
