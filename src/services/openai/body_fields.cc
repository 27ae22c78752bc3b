#include "services/openai/body_fields.h"

#include "core/json_nesting.h"

namespace lathe::openai {

using json = nlohmann::json;

ApiError Invalid(const std::string& param, const std::string& message) {
  return ApiError{ErrorKind::kInvalidRequest, message, param};
}

ApiError Unsupported(const std::string& param, const std::string& message) {
  return ApiError{ErrorKind::kUnsupported, message, param};
}

Problem ParseObject(std::string_view body, json* out) {
  if (!JsonNestingWithin(body, kMaxRequestJsonDepth))
    return Invalid("", "The request body nests deeper than " + std::to_string(kMaxRequestJsonDepth) + " levels");
  *out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded())
    return Invalid("", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                       "your HTTP library correctly. The OpenAI API expects a JSON payload.)");
  if (!out->is_object()) return Invalid("", "The request body must be a JSON object");
  return std::nullopt;
}

Problem OnlyKeys(const json& object, std::initializer_list<const char*> keys, const std::string& where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) {
      std::string name = it.key().size() > 64 ? it.key().substr(0, 64) + "..." : it.key();
      return Invalid(where + name, "Unrecognized request argument supplied: " + where + name);
    }
  }
  return std::nullopt;
}

namespace {
const json* Present(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}
}  // namespace

Problem String(const json& object, const char* key, size_t max_bytes, std::string* out, bool required) {
  const json* v = Present(object, key);
  if (!v) return required ? Problem(Invalid(key, "Missing required parameter: '" + std::string(key) + "'."))
                          : std::nullopt;
  if (!v->is_string()) return Invalid(key, "Invalid type for '" + std::string(key) + "': expected a string.");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    return Invalid(key, "'" + std::string(key) + "' is longer than " + std::to_string(max_bytes) + " bytes.");
  if (required && s.empty()) return Invalid(key, "'" + std::string(key) + "' must not be empty.");
  *out = s;
  return std::nullopt;
}

Problem Bool(const json& object, const char* key, bool* out) {
  const json* v = Present(object, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) return Invalid(key, "Invalid type for '" + std::string(key) + "': expected a boolean.");
  *out = v->get<bool>();
  return std::nullopt;
}

Problem Integer(const json& object, const char* key, int64_t min, int64_t max, int64_t* out) {
  const json* v = Present(object, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer())
    return Invalid(key, "Invalid type for '" + std::string(key) + "': expected an integer.");
  // Unsigned values past int64 are out of range too.
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max))
    return Invalid(key, "'" + std::string(key) + "' must be at most " + std::to_string(max) + ".");
  const int64_t i = v->get<int64_t>();
  if (i < min || i > max)
    return Invalid(key, "'" + std::string(key) + "' must be between " + std::to_string(min) + " and " +
                            std::to_string(max) + ", got " + std::to_string(i) + ".");
  *out = i;
  return std::nullopt;
}

Problem Number(const json& object, const char* key, double min, double max, double* out) {
  const json* v = Present(object, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) return Invalid(key, "Invalid type for '" + std::string(key) + "': expected a number.");
  const double d = v->get<double>();
  if (!(d >= min && d <= max))
    return Invalid(key, "'" + std::string(key) + "' must be between " + json(min).dump() + " and " + json(max).dump() +
                            ", got " + json(d).dump() + ".");
  *out = d;
  return std::nullopt;
}

}  // namespace lathe::openai
