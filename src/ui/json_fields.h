// Type-checked reads of JSON the dashboard did not shape itself: stored records, report files,
// request bodies. nlohmann's value() throws when the document is not an object or the field has
// another type; these read the fallback instead, so an odd record shows as a blank, not an error.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lathe::ui {

// The field as it is (null when `doc` is not an object or lacks it).
inline nlohmann::json AnyField(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object()) return nullptr;
  auto it = doc.find(key);
  return it == doc.end() ? nlohmann::json() : *it;
}
inline std::string StringField(const nlohmann::json& doc, const char* key) {
  const nlohmann::json v = AnyField(doc, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}
inline nlohmann::json ObjectField(const nlohmann::json& doc, const char* key) {
  nlohmann::json v = AnyField(doc, key);
  return v.is_object() ? v : nlohmann::json::object();
}
inline nlohmann::json ArrayField(const nlohmann::json& doc, const char* key) {
  nlohmann::json v = AnyField(doc, key);
  return v.is_array() ? v : nlohmann::json::array();
}
inline bool BoolField(const nlohmann::json& doc, const char* key) {
  const nlohmann::json v = AnyField(doc, key);
  return v.is_boolean() && v.get<bool>();
}

}  // namespace lathe::ui
