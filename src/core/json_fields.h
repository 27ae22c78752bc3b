// Members of documents lathe wrote (lathe.db rows), read without trusting their types: a row from
// an older lathe, or edited by hand, yields 0 / "" instead of an exception. Header-only.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace lathe {

// An integer member; a floating-point one is truncated and clamped to int64_t's range (a plain
// get<int64_t>() of an out-of-range double is undefined behaviour); anything else: 0.
inline int64_t JsonInt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::numeric_limits<int64_t>::max();
    return it->get<int64_t>();
  }
  if (!it->is_number_float()) return 0;
  const double d = it->get<double>();
  if (!(d == d)) return 0;  // NaN
  if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

// A string member; anything else: "".
inline std::string JsonStr(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace lathe
