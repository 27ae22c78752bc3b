// Reading request bodies: the one parser every Bedrock body goes through, and typed accessors for
// its members. Each accessor checks the JSON type, then the service model's length bounds, then
// its pattern (service/field_rules.h), and answers AWS's ValidationException naming the member:
//   1 validation error detected: Value at 'trainingDataConfig.s3Uri' failed to satisfy
//   constraint: Member must be a string (found number)
// so a wrong type is a 400 that says what to fix, never an exception from nlohmann (a 500).
// Absent and null members are the same thing, as in AWS's JSON protocols.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_nesting.h"
#include "core/status.h"
#include "service/field_rules.h"

namespace lathe::service {

// Request bodies nest at most kMaxRequestJsonDepth (core/json_nesting.h) levels: Bedrock's deepest
// request shapes (Converse messages with tool results and documents) need about ten, and 64 keeps
// every recursive walk of a parsed body (nlohmann's parse, dump, copy, destruction) far from the
// stack's end.

// Parses a request body (any JSON value): nesting is measured first, in one linear pass over the
// text, and a body deeper than kMaxRequestJsonDepth is refused before the parser sees it.
// InvalidArgument: "JSON nests deeper than 64 levels" / "invalid JSON: <what> (byte N)".
Result<nlohmann::json> ParseRequestJson(std::string_view body);

// "parent.key", or "key" at the top.
std::string MemberPath(const std::string& parent, std::string_view key);

// How much of a FieldRule a member gets: all of it, or only its lengths (for members lathe
// resolves by lookup, see CheckLength).
enum class Check { kLengthAndPattern, kLengthOnly };

Result<std::string> RequireString(const nlohmann::json& obj, std::string_view key, const FieldRule& rule,
                                  const std::string& parent = "", Check check = Check::kLengthAndPattern);
Result<std::optional<std::string>> OptionalString(const nlohmann::json& obj, std::string_view key,
                                                  const FieldRule& rule, const std::string& parent = "",
                                                  Check check = Check::kLengthAndPattern);
// One of `values`, or `fallback` when absent.
Result<std::string> OptionalEnum(const nlohmann::json& obj, std::string_view key,
                                 std::initializer_list<const char*> values, const std::string& fallback,
                                 const std::string& parent = "");
// An integer in [min, max].
Result<int64_t> RequireInteger(const nlohmann::json& obj, std::string_view key, int64_t min, int64_t max,
                               const std::string& parent = "");
// The member's object; RequireObject refuses absence, OptionalObject answers nullptr.
Result<const nlohmann::json*> RequireObject(const nlohmann::json& obj, std::string_view key,
                                            const std::string& parent = "");
Result<const nlohmann::json*> OptionalObject(const nlohmann::json& obj, std::string_view key,
                                             const std::string& parent = "");
// The member's list of at most max_items; nullptr when absent.
Result<const nlohmann::json*> OptionalList(const nlohmann::json& obj, std::string_view key, size_t max_items,
                                           const std::string& parent = "");
// A list of at most max_items strings, each checked against `rule`; empty when absent.
Result<std::vector<std::string>> StringList(const nlohmann::json& obj, std::string_view key, const FieldRule& rule,
                                            size_t max_items, const std::string& parent = "");
// strictRoles (ServiceConfig::strict_roles): a job's roleArn must name a role `exists` knows
// (ValidationException, as AWS refuses it). Ok when `strict_roles` is false.
Status CheckJobRole(bool strict_roles, const std::function<bool(const std::string& role_arn)>& exists,
                    const std::string& role_arn);
// Bedrock's TagList ([{"key", "value"}, ...]; empty when absent): a list of objects with a string
// key (TagKey: 1..128) and value (TagValue: 0..256). More than kMaxTags is TooManyTagsException.
Result<std::map<std::string, std::string>> TagList(const nlohmann::json& obj, std::string_view key);

}  // namespace lathe::service

// `lhs = *expr`, or return expr's Status from the enclosing function.
#define LATHE_ASSIGN_OR_RETURN(lhs, expr) LATHE_ASSIGN_OR_RETURN_IMPL(LATHE_CONCAT_(_result_, __LINE__), lhs, expr)
#define LATHE_CONCAT_INNER_(a, b) a##b
#define LATHE_CONCAT_(a, b) LATHE_CONCAT_INNER_(a, b)
#define LATHE_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                \
  if (!result.ok()) return result.status();            \
  lhs = std::move(*result)
