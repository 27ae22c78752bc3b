#include "service/request_fields.h"

#include "data/record.h"
#include "service/resource_json.h"

namespace lathe::service {
using nlohmann::json;

namespace {

const json* Member(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// "must be a string (found number)".
Status WrongType(const std::string& path, const char* expected, const json& found) {
  return ValidationError(path, std::string("must be ") + expected + " (found " + found.type_name() + ")");
}

Status Missing(const std::string& path) { return ValidationError(path, "must not be null"); }

Status CheckWith(const std::string& value, const std::string& path, const FieldRule& rule, Check check) {
  return check == Check::kLengthOnly ? CheckLength(value, path, rule) : CheckString(value, path, rule);
}

}  // namespace

Result<json> ParseRequestJson(std::string_view body) {
  json j;
  data::Problem problem;
  if (!data::ParseJsonLine(body, &j, &problem, kMaxRequestJsonDepth))
    return Status::InvalidArgument(problem.message +
                                   (problem.column ? " (byte " + std::to_string(problem.column) + ")" : std::string()));
  return j;
}

std::string MemberPath(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

Result<std::optional<std::string>> OptionalString(const json& obj, std::string_view key, const FieldRule& rule,
                                                  const std::string& parent, Check check) {
  const std::string path = MemberPath(parent, key);
  const json* v = Member(obj, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(path, "a string", *v);
  const std::string& s = v->get_ref<const std::string&>();
  LATHE_RETURN_IF_ERROR(CheckWith(s, path, rule, check));
  return std::optional<std::string>(s);
}

Result<std::string> RequireString(const json& obj, std::string_view key, const FieldRule& rule,
                                  const std::string& parent, Check check) {
  auto v = OptionalString(obj, key, rule, parent, check);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Missing(MemberPath(parent, key));
  return std::move(**v);
}

Result<std::string> OptionalEnum(const json& obj, std::string_view key, std::initializer_list<const char*> values,
                                 const std::string& fallback, const std::string& parent) {
  const std::string path = MemberPath(parent, key);
  const json* v = Member(obj, key);
  if (!v) return fallback;
  if (!v->is_string()) return WrongType(path, "a string", *v);
  std::string list;
  for (const char* allowed : values) {
    if (v->get_ref<const std::string&>() == allowed) return std::string(allowed);
    list += (list.empty() ? "" : ", ") + std::string(allowed);
  }
  return ValidationError(path, "must satisfy enum value set: [" + list + "]");
}

Result<int64_t> RequireInteger(const json& obj, std::string_view key, int64_t min, int64_t max,
                               const std::string& parent) {
  const std::string path = MemberPath(parent, key);
  const json* v = Member(obj, key);
  if (!v) return Missing(path);
  if (!v->is_number_integer()) return WrongType(path, "an integer", *v);
  // nlohmann reads non-negative integers as unsigned: compare without wrapping.
  const bool in_range = v->is_number_unsigned()
                            ? v->get<uint64_t>() <= static_cast<uint64_t>(max) && static_cast<int64_t>(v->get<uint64_t>()) >= min
                            : v->get<int64_t>() >= min && v->get<int64_t>() <= max;
  if (!in_range)
    return ValidationError(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v->get<int64_t>();
}

Result<const json*> OptionalObject(const json& obj, std::string_view key, const std::string& parent) {
  const json* v = Member(obj, key);
  if (v && !v->is_object()) return WrongType(MemberPath(parent, key), "an object", *v);
  return v;
}

Result<const json*> RequireObject(const json& obj, std::string_view key, const std::string& parent) {
  auto v = OptionalObject(obj, key, parent);
  if (v.ok() && !*v) return Missing(MemberPath(parent, key));
  return v;
}

Result<const json*> OptionalList(const json& obj, std::string_view key, size_t max_items, const std::string& parent) {
  const std::string path = MemberPath(parent, key);
  const json* v = Member(obj, key);
  if (!v) return v;
  if (!v->is_array()) return WrongType(path, "a list", *v);
  if (v->size() > max_items)
    return ValidationError(path, "must have length less than or equal to " + std::to_string(max_items));
  return v;
}

Result<std::vector<std::string>> StringList(const json& obj, std::string_view key, const FieldRule& rule,
                                            size_t max_items, const std::string& parent) {
  auto list = OptionalList(obj, key, max_items, parent);
  if (!list.ok()) return list.status();
  std::vector<std::string> out;
  if (!*list) return out;
  const std::string path = MemberPath(parent, key);
  for (size_t i = 0; i < (*list)->size(); ++i) {
    const json& v = (**list)[i];
    const std::string item = path + "." + std::to_string(i + 1) + ".member";  // AWS counts from 1
    if (!v.is_string()) return WrongType(item, "a string", v);
    LATHE_RETURN_IF_ERROR(CheckString(v.get_ref<const std::string&>(), item, rule));
    out.push_back(v.get<std::string>());
  }
  return out;
}

Status CheckJobRole(bool strict_roles, const std::function<bool(const std::string& role_arn)>& exists,
                    const std::string& role_arn) {
  if (!strict_roles || (exists && exists(role_arn))) return Status::Ok();
  return Status::Aws("ValidationException", 400,
                     "The role " + role_arn + " does not exist, so it cannot be assumed (strictRoles is set in "
                     "the server's config; create it with `aws iam create-role`)");
}

Result<std::map<std::string, std::string>> TagList(const json& obj, std::string_view key) {
  const std::string path(key);
  std::map<std::string, std::string> tags;
  const json* list = Member(obj, key);
  if (!list) return tags;
  if (!list->is_array()) return WrongType(path, "a list of {key, value} tags", *list);
  LATHE_RETURN_IF_ERROR(CheckTagCount(list->size(), path));
  for (size_t i = 0; i < list->size(); ++i) {
    const json& tag = (*list)[i];
    const std::string item = path + "." + std::to_string(i + 1) + ".member";
    if (!tag.is_object()) return WrongType(item, "a {key, value} tag", tag);
    auto k = RequireString(tag, "key", rules::kTagKey, item);
    if (!k.ok()) return k.status();
    auto v = RequireString(tag, "value", rules::kTagValue, item);
    if (!v.ok()) return v.status();
    tags[*k] = *v;
  }
  return tags;
}

}  // namespace lathe::service
