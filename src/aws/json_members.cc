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
