// Reading a request's members in the JSON protocols (awsJson 1.0/1.1, rest-json bodies), as
// AWS's front door answers a bad one: a member of the wrong JSON type is a
// SerializationException ("Member X must be a string."), a missing required member a
// ValidationException ("1 validation error detected: Value null at 'x' failed to satisfy
// constraint: Member must not be null"). Services derive their own readers (paging, tags) from it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::aws {

class JsonMembers {
 public:
  explicit JsonMembers(const nlohmann::json& object) : j_(object) {}
  Result<std::optional<std::string>> OptString(const char* name) const;
  Result<std::string> String(const char* name) const;    // "" when absent or null
  Result<std::string> Required(const char* name) const;  // ValidationException when absent
  Result<std::optional<int64_t>> OptInt(const char* name) const;
  Result<bool> Bool(const char* name, bool fallback) const;
  Result<std::optional<nlohmann::json>> OptObject(const char* name) const;
  // At most `max_entries` strings (ValidationException past it).
  Result<std::vector<std::string>> Strings(const char* name, size_t max_entries = 1000) const;
  const nlohmann::json& object() const { return j_; }

 protected:
  const nlohmann::json& j_;
};

// SerializationException 400: "Member <member> must be <expected>."
Status WrongMemberType(const std::string& member, const char* expected);
// ValidationException 400 for a required member that is absent; the member is named with a
// lower-case first letter, as AWS's validation messages name them.
Status MemberMustNotBeNull(const std::string& member);

// A member outside the model's constraints, worded as AWS's front door words it:
// "1 validation error detected: Value '<value>' at '<member>' failed to satisfy constraint: ...".
Status ConstraintViolation(const std::string& value, const std::string& member, const std::string& constraint);
// A member's length within [min, max] bytes (ConstraintViolation otherwise).
Status CheckLength(std::string_view value, const std::string& member, size_t min, size_t max);
// Request text fit to quote in a message: at most 256 bytes of printable ASCII.
std::string Quoted(std::string_view value);

}  // namespace lathe::aws
