#include "aws/json_members.h"

namespace lathe::aws {

using nlohmann::json;

Status WrongMemberType(const std::string& member, const char* expected) {
  return Status::Aws("SerializationException", 400, "Member " + member + " must be " + expected + ".");
}

Status MemberMustNotBeNull(const std::string& member) {
  std::string name = member;
  if (!name.empty() && name[0] >= 'A' && name[0] <= 'Z') name[0] = static_cast<char>(name[0] - 'A' + 'a');
  return Status::Aws("ValidationException", 400,
                     "1 validation error detected: Value null at '" + name +
                         "' failed to satisfy constraint: Member must not be null");
}

Status ConstraintViolation(const std::string& value, const std::string& member, const std::string& constraint) {
  return Status::Aws("ValidationException", 400,
                     "1 validation error detected: Value '" + value + "' at '" + member +
                         "' failed to satisfy constraint: " + constraint);
}

Status CheckLength(std::string_view value, const std::string& member, size_t min, size_t max) {
  if (value.size() < min)
    return ConstraintViolation(Quoted(value), member,
                               "Member must have length greater than or equal to " + std::to_string(min));
  if (value.size() > max)
    return ConstraintViolation(Quoted(value), member,
                               "Member must have length less than or equal to " + std::to_string(max));
  return Status::Ok();
}

std::string Quoted(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 256)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (value.size() > 256) out += "...";
  return out;
}

Result<std::optional<std::string>> JsonMembers::OptString(const char* name) const {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return WrongMemberType(name, "a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> JsonMembers::String(const char* name) const {
  Result<std::optional<std::string>> v = OptString(name);
  if (!v.ok()) return v.status();
  return v->value_or("");
}

Result<std::string> JsonMembers::Required(const char* name) const {
  Result<std::optional<std::string>> v = OptString(name);
  if (!v.ok()) return v.status();
  if (!*v) return MemberMustNotBeNull(name);
  return **v;
}

Result<std::optional<int64_t>> JsonMembers::OptInt(const char* name) const {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return WrongMemberType(name, "an integer");
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<bool> JsonMembers::Bool(const char* name, bool fallback) const {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return WrongMemberType(name, "a boolean");
  return it->get<bool>();
}

Result<std::optional<json>> JsonMembers::OptObject(const char* name) const {
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return std::optional<json>();
  if (!it->is_object()) return WrongMemberType(name, "a structure");
  return std::optional<json>(*it);
}

Result<std::vector<std::string>> JsonMembers::Strings(const char* name, size_t max_entries) const {
  std::vector<std::string> out;
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return out;
  if (!it->is_array()) return WrongMemberType(name, "a list of strings");
  if (it->size() > max_entries)
    return Status::Aws("ValidationException", 400, "Member " + std::string(name) + " has too many entries.");
  for (const json& v : *it) {
    if (!v.is_string()) return WrongMemberType(name, "a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace lathe::aws
