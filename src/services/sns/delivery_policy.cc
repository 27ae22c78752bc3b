#include "services/sns/delivery_policy.h"

#include <algorithm>
#include <cmath>

#include "core/json_nesting.h"
#include "services/sns/errors.h"

namespace lathe::sns {
namespace {

using nlohmann::json;

constexpr size_t kMaxPolicyBytes = 30 * 1024;
constexpr int kMaxDelaySeconds = 3600;
constexpr int kMaxRetries = 100;

json DefaultHealthyRetryPolicy() {
  return {{"minDelayTarget", 20}, {"maxDelayTarget", 20}, {"numRetries", 3}, {"numMaxDelayRetries", 0},
          {"numNoDelayRetries", 0}, {"numMinDelayRetries", 0}, {"backoffFunction", "linear"}};
}

Status Bad(const std::string& why) { return InvalidParameter("DeliveryPolicy", why); }

Status CheckRetryPolicy(const json& p) {
  if (!p.is_object()) return Bad("healthyRetryPolicy must be an object");
  for (const auto& [k, v] : p.items()) {
    if (k == "backoffFunction") {
      if (!v.is_string()) return Bad("backoffFunction must be a string");
      const std::string b = v.get<std::string>();
      if (b != "linear" && b != "arithmetic" && b != "geometric" && b != "exponential")
        return Bad("backoffFunction must be one of linear, arithmetic, geometric, exponential");
    } else if (k == "minDelayTarget" || k == "maxDelayTarget" || k == "numRetries" || k == "numMaxDelayRetries" ||
               k == "numNoDelayRetries" || k == "numMinDelayRetries") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) return Bad(k + " must be a non-negative integer");
    } else {
      return Bad("unknown healthyRetryPolicy field " + k.substr(0, 64));
    }
  }
  RetryPolicy r = RetryPolicy::FromJson(p);
  if (r.num_retries > kMaxRetries) return Bad("numRetries must be at most 100");
  if (r.min_delay_s < 1) return Bad("minDelayTarget must be at least 1");
  if (r.max_delay_s > kMaxDelaySeconds) return Bad("maxDelayTarget must be at most 3600");
  if (r.min_delay_s > r.max_delay_s) return Bad("minDelayTarget must not exceed maxDelayTarget");
  return Status::Ok();
}

json ParseOrNull(const std::string& text) {
  if (text.empty()) return json();
  json j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json() : j;
}

}  // namespace

int64_t RetryPolicy::DelayBeforeRetry(int k) const {
  const double lo = min_delay_s, hi = max_delay_s;
  const double t = num_retries <= 1 ? 0.0 : static_cast<double>(k - 1) / (num_retries - 1);
  double d;
  if (backoff == "geometric" || backoff == "exponential") {
    d = lo * std::pow(hi / lo, backoff == "geometric" ? t : t * t);
  } else {  // linear, arithmetic: evenly spaced
    d = lo + (hi - lo) * t;
  }
  return std::clamp<int64_t>(static_cast<int64_t>(std::llround(d)), min_delay_s, max_delay_s);
}

json RetryPolicy::ToJson() const {
  return {{"numRetries", num_retries}, {"minDelayTarget", min_delay_s}, {"maxDelayTarget", max_delay_s},
          {"backoffFunction", backoff}};
}

RetryPolicy RetryPolicy::FromJson(const json& j) {
  RetryPolicy r;
  if (!j.is_object()) return r;
  auto num = [&](const char* key, int* out) {
    if (j.contains(key) && j[key].is_number_integer())
      *out = static_cast<int>(std::clamp<int64_t>(j[key].get<int64_t>(), 0, 1 << 20));
  };
  num("numRetries", &r.num_retries);
  num("minDelayTarget", &r.min_delay_s);
  num("maxDelayTarget", &r.max_delay_s);
  if (j.contains("backoffFunction") && j["backoffFunction"].is_string()) r.backoff = j["backoffFunction"];
  return r;
}

RetryPolicy EmailRetryPolicy() {
  RetryPolicy r;
  r.num_retries = 5;
  r.min_delay_s = 10;
  r.max_delay_s = 600;
  r.backoff = "geometric";
  return r;
}

json DefaultTopicDeliveryPolicy() {
  return {{"http",
           {{"defaultHealthyRetryPolicy", DefaultHealthyRetryPolicy()},
            {"disableSubscriptionOverrides", false},
            {"defaultRequestPolicy", {{"headerContentType", "text/plain; charset=UTF-8"}}}}}};
}

Status ValidateDeliveryPolicy(std::string_view text, bool topic) {
  if (text.size() > kMaxPolicyBytes) return Bad("the policy is longer than 30 KB");
  if (!JsonNestingWithin(text, 8)) return Bad("the policy nests too deeply");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("must be a JSON object");
  const json* retry = nullptr;
  if (topic) {
    for (const auto& [k, v] : j.items())
      if (k != "http" && k != "https" && k != "email")
        return Bad("lathe keeps delivery policies for http and https only (not " + k.substr(0, 32) + ")");
    if (j.contains("http")) {
      const json& http = j["http"];
      if (!http.is_object()) return Bad("http must be an object");
      for (const auto& [k, v] : http.items()) {
        if (k == "defaultHealthyRetryPolicy") retry = &v;
        else if (k == "disableSubscriptionOverrides") {
          if (!v.is_boolean()) return Bad("disableSubscriptionOverrides must be true or false");
        } else if (k != "defaultThrottlePolicy" && k != "defaultRequestPolicy") {
          return Bad("unknown http field " + k.substr(0, 64));
        }
      }
    }
  } else {
    for (const auto& [k, v] : j.items()) {
      if (k == "healthyRetryPolicy") retry = &v;
      else if (k != "throttlePolicy" && k != "requestPolicy") return Bad("unknown field " + k.substr(0, 64));
    }
  }
  if (retry) return CheckRetryPolicy(*retry);
  return Status::Ok();
}

RetryPolicy EffectiveRetryPolicy(const std::string& topic_policy, const std::string& subscription_policy) {
  json topic = ParseOrNull(topic_policy), sub = ParseOrNull(subscription_policy);
  const json* http = topic.is_object() && topic.contains("http") && topic["http"].is_object() ? &topic["http"] : nullptr;
  const bool overrides_disabled = http && http->value("disableSubscriptionOverrides", false);
  if (!overrides_disabled && sub.is_object() && sub.contains("healthyRetryPolicy"))
    return RetryPolicy::FromJson(sub["healthyRetryPolicy"]);
  if (http && http->contains("defaultHealthyRetryPolicy")) return RetryPolicy::FromJson((*http)["defaultHealthyRetryPolicy"]);
  return RetryPolicy::FromJson(DefaultHealthyRetryPolicy());
}

std::string EffectiveTopicDeliveryPolicy(const std::string& topic_policy) {
  json effective = DefaultTopicDeliveryPolicy();
  json topic = ParseOrNull(topic_policy);
  if (topic.is_object() && topic.contains("http") && topic["http"].is_object()) {
    for (const auto& [k, v] : topic["http"].items()) {
      if (k == "defaultHealthyRetryPolicy" && v.is_object()) {
        for (const auto& [rk, rv] : v.items()) effective["http"][k][rk] = rv;
      } else {
        effective["http"][k] = v;
      }
    }
  }
  return effective.dump();
}

}  // namespace lathe::sns
