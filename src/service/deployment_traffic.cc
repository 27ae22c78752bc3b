#include "service/deployment_traffic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lathe::service {
namespace {

// modelArn's bound in Bedrock's model (CreateCustomModelDeployment), which a challenger stands beside.
constexpr size_t kMaxReferenceBytes = 1011;
constexpr double kMaxWatchSeconds = 7 * 24 * 3600;
constexpr double kMaxWindowSeconds = 24 * 3600;  // the stats keep a day of minute buckets
constexpr int64_t kMaxMinCount = 1000000;

std::string TypeName(const nlohmann::json& v) {
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

Status WrongType(const std::string& field, const char* want, const nlohmann::json& v) {
  return Status::InvalidArgument(field + ": must be " + want + " (found " + TypeName(v) + ")");
}

// A number in [lo, hi] (finite; booleans are not numbers in nlohmann::json).
Status ReadFraction(const nlohmann::json& j, const std::string& field, double lo, double hi, bool lo_open, double* out) {
  if (!j.is_number()) return WrongType(field, "a number", j);
  double v = j.get<double>();
  if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ": must be %s %g and at most %g", lo_open ? "more than" : "at least", lo, hi);
    return Status::InvalidArgument(field + buf);
  }
  *out = v;
  return Status::Ok();
}

Status ReadCount(const nlohmann::json& j, const std::string& field, int64_t* out) {
  if (!j.is_number_integer()) return WrongType(field, "an integer", j);
  if (j.is_number_unsigned() ? j.get<uint64_t>() > static_cast<uint64_t>(kMaxMinCount)
                             : (j.get<int64_t>() < 0 || j.get<int64_t>() > kMaxMinCount)) {
    return Status::InvalidArgument(field + ": must be between 0 and " + std::to_string(kMaxMinCount));
  }
  *out = j.get<int64_t>();
  return Status::Ok();
}

// Seconds (fractions allowed, so tests can watch for 1.5 s) as whole milliseconds, at least 1.
Status ReadSeconds(const nlohmann::json& j, const std::string& field, double max_seconds, int64_t* out_ms) {
  double s = 0;
  LATHE_RETURN_IF_ERROR(ReadFraction(j, field, 0, max_seconds, /*lo_open=*/true, &s));
  *out_ms = std::max<int64_t>(1, std::llround(s * 1000));
  return Status::Ok();
}

// FNV-1a over the bytes, then splitmix64's finalizer: FNV alone leaves its high bits poorly mixed
// for short keys, and the high bits decide the variant. Fixed constants: the same user meets the
// same variant on every machine and after every restart.
uint64_t StableHash(const std::string& salt, const std::string& key) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : salt) mix(c);
  mix(0);  // ("ab","c") and ("a","bc") differ
  for (unsigned char c : key) mix(c);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::string Format(const char* fmt, double a, double b, int64_t n, int64_t seconds) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b, static_cast<long long>(n), static_cast<long long>(seconds));
  return buf;
}

}  // namespace

nlohmann::json TrafficToJson(const TrafficSplit& t) {
  return {{"challengerModelArn", t.challenger}, {"challengerWeight", t.weight}, {"sticky", t.sticky}};
}

// Members other than the three are left to the caller (SetTraffic's request also has rollbackPolicy).
Result<TrafficSplit> TrafficFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return WrongType("traffic", "an object", j);
  TrafficSplit t;
  if (auto it = j.find("challengerModelArn"); it != j.end()) {
    if (!it->is_string()) return WrongType("challengerModelArn", "a string", *it);
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > kMaxReferenceBytes) {
      return Status::InvalidArgument("challengerModelArn: at most " + std::to_string(kMaxReferenceBytes) + " bytes (found " +
                                     std::to_string(s.size()) + ")");
    }
    t.challenger = s;
  }
  if (auto it = j.find("challengerWeight"); it != j.end()) {
    LATHE_RETURN_IF_ERROR(ReadFraction(*it, "challengerWeight", 0, 1, false, &t.weight));
  }
  if (auto it = j.find("sticky"); it != j.end()) {
    if (!it->is_boolean()) return WrongType("sticky", "a boolean", *it);
    t.sticky = it->get<bool>();
  }
  return t;
}

const char* VariantName(Variant v) { return v == Variant::kChallenger ? "challenger" : "champion"; }

Variant ChooseVariant(const TrafficSplit& split, const std::string& salt, const std::string& user_id, double uniform01) {
  if (split.challenger.empty() || !(split.weight > 0)) return Variant::kChampion;
  if (split.weight >= 1) return Variant::kChallenger;
  double u = uniform01;
  if (split.sticky && !user_id.empty()) {
    u = static_cast<double>(StableHash(salt, user_id) >> 11) * 0x1.0p-53;  // [0, 1), 53 bits
  }
  // One threshold on a fixed u: a user below the old weight is below every larger one.
  return u < split.weight ? Variant::kChallenger : Variant::kChampion;
}

nlohmann::json RollbackPolicyToJson(const RollbackPolicy& p) {
  return {{"enabled", p.enabled},
          {"canaryWeight", p.canary_weight},
          {"watchSeconds", p.watch_ms / 1000.0},
          {"windowSeconds", p.window_ms / 1000.0},
          {"minRequests", p.min_requests},
          {"maxErrorRate", p.max_error_rate},
          {"minFeedback", p.min_feedback},
          {"minPositiveFeedback", p.min_positive_feedback},
          {"onEvaluationRegression", p.on_evaluation_regression}};
}

Result<RollbackPolicy> RollbackPolicyFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return WrongType("rollbackPolicy", "an object", j);
  RollbackPolicy p;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    const std::string field = "rollbackPolicy." + (key.size() > 64 ? key.substr(0, 64) + "..." : key);
    if (key == "enabled" || key == "onEvaluationRegression") {
      if (!v.is_boolean()) return WrongType(field, "a boolean", v);
      (key == "enabled" ? p.enabled : p.on_evaluation_regression) = v.get<bool>();
    } else if (key == "canaryWeight") {
      LATHE_RETURN_IF_ERROR(ReadFraction(v, field, 0, 1, /*lo_open=*/true, &p.canary_weight));
    } else if (key == "watchSeconds") {
      LATHE_RETURN_IF_ERROR(ReadSeconds(v, field, kMaxWatchSeconds, &p.watch_ms));
    } else if (key == "windowSeconds") {
      LATHE_RETURN_IF_ERROR(ReadSeconds(v, field, kMaxWindowSeconds, &p.window_ms));
    } else if (key == "minRequests") {
      LATHE_RETURN_IF_ERROR(ReadCount(v, field, &p.min_requests));
    } else if (key == "minFeedback") {
      LATHE_RETURN_IF_ERROR(ReadCount(v, field, &p.min_feedback));
    } else if (key == "maxErrorRate") {
      LATHE_RETURN_IF_ERROR(ReadFraction(v, field, 0, 1, false, &p.max_error_rate));
    } else if (key == "minPositiveFeedback") {
      LATHE_RETURN_IF_ERROR(ReadFraction(v, field, 0, 1, false, &p.min_positive_feedback));
    } else {
      return Status::InvalidArgument(field + ": unknown member");
    }
  }
  return p;
}

RollbackVerdict JudgeChallenger(const RollbackPolicy& policy, const WindowStats& challenger, const std::string& regression) {
  if (!policy.enabled) return {};
  const int64_t seconds = policy.window_ms / 1000;
  // Throttled requests never reached the model: they say nothing about it.
  const int64_t answered = challenger.requests - challenger.throttled;
  if (answered > 0 && answered >= policy.min_requests) {
    double rate = static_cast<double>(challenger.errors) / static_cast<double>(answered);
    if (rate > policy.max_error_rate) {
      return {true, Format("error rate %.2f > %.2f over %lld requests in %lld s", rate, policy.max_error_rate, answered, seconds)};
    }
  }
  if (challenger.feedback > 0 && challenger.feedback >= policy.min_feedback) {
    double share = static_cast<double>(challenger.positive) / static_cast<double>(challenger.feedback);
    if (share < policy.min_positive_feedback) {
      return {true, Format("positive feedback %.2f < %.2f over %lld ratings in %lld s", share, policy.min_positive_feedback,
                           challenger.feedback, seconds)};
    }
  }
  if (policy.on_evaluation_regression && !regression.empty()) return {true, "evaluation regressed: " + regression};
  return {};
}

}  // namespace lathe::service
