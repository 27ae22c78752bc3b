#include "service/retention_policy.h"

namespace lathe::service {

Result<int64_t> ParseRetentionDuration(const std::string& text, const std::string& what) {
  auto bad = [&] {
    return Status::InvalidArgument(what + ": \"" + text.substr(0, kMaxDurationChars) +
                                   "\" is not a duration like 30d, 24h, 90m, 45s or 1500ms (at most 10 years)");
  };
  if (text.empty() || text.size() > kMaxDurationChars) return bad();
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return bad();
  const int64_t n = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  int64_t scale = 0;
  if (unit == "d") scale = 24 * 3600 * 1000;
  else if (unit == "h") scale = 3600 * 1000;
  else if (unit == "m") scale = 60 * 1000;
  else if (unit == "s") scale = 1000;
  else if (unit == "ms") scale = 1;
  else return bad();
  if (n > kMaxRetentionMs / scale) return bad();
  return n * scale;
}

std::string FormatRetentionDuration(int64_t ms) {
  struct Unit {
    int64_t scale;
    const char* name;
  };
  for (const Unit& u : {Unit{24 * 3600 * 1000, "d"}, Unit{3600 * 1000, "h"}, Unit{60 * 1000, "m"}, Unit{1000, "s"}})
    if (ms > 0 && ms % u.scale == 0) return std::to_string(ms / u.scale) + u.name;
  return std::to_string(ms) + "ms";
}

Result<RetentionPolicy> RetentionPolicyFromJson(const nlohmann::json& j, const std::string& where, RetentionPolicy p) {
  if (!j.is_object())
    return Status::InvalidArgument(where + " must be an object like {\"keepVersions\": 3, \"modelMaxAge\": \"30d\", "
                                           "\"idleThroughput\": \"24h\", \"idleDeployment\": \"24h\"}");
  for (const auto& [key, v] : j.items()) {
    const std::string at = where + "." + key.substr(0, 64);  // a hostile name is not echoed whole
    if (key == "keepVersions") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxKeepVersions)
        return Status::InvalidArgument(at + " must be an integer in [0, " + std::to_string(kMaxKeepVersions) + "]");
      p.keep_versions = v.get<int>();
      continue;
    }
    int64_t* target = key == "modelMaxAge"      ? &p.model_max_age_ms
                      : key == "idleThroughput" ? &p.idle_throughput_ms
                      : key == "idleDeployment" ? &p.idle_deployment_ms
                                                : nullptr;
    if (!target)
      return Status::InvalidArgument("unknown key " + at + " (known: keepVersions, modelMaxAge, idleThroughput, idleDeployment)");
    if (v.is_null()) {
      *target = -1;  // off
      continue;
    }
    if (!v.is_string()) return Status::InvalidArgument(at + " must be a duration string like \"24h\" or null");
    auto ms = ParseRetentionDuration(v.get<std::string>(), at);
    if (!ms.ok()) return ms.status();
    *target = *ms;
  }
  return p;
}

nlohmann::json RetentionPolicyToJson(const RetentionPolicy& p) {
  nlohmann::json j = nlohmann::json::object();
  if (p.keep_versions >= 0) j["keepVersions"] = p.keep_versions;
  auto put = [&](const char* key, int64_t ms) { j[key] = ms < 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatRetentionDuration(ms)); };
  put("modelMaxAge", p.model_max_age_ms);
  put("idleThroughput", p.idle_throughput_ms);
  put("idleDeployment", p.idle_deployment_ms);
  return j;
}

}  // namespace lathe::service
