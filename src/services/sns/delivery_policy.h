// How often and how far apart SNS retries a delivery. For http/https this is the topic's (or the
// subscription's) DeliveryPolicy, AWS's default when unset: 3 retries 20 s apart, "linear"
// back-off (AWS's "HTTP/S delivery policy"). lathe keeps AWS's four back-off functions but spreads
// the retries between minDelayTarget and maxDelayTarget in one phase (no no-delay / min-delay /
// max-delay phases; docs/compatibility.md). Email is retried on the SMTP relay the same way with
// lathe's own policy (kEmailRetry).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::sns {

struct RetryPolicy {
  int num_retries = 3;
  int min_delay_s = 20, max_delay_s = 20;
  std::string backoff = "linear";  // linear, arithmetic, geometric, exponential
  // Seconds to wait before retry `k` (1-based, k <= num_retries).
  int64_t DelayBeforeRetry(int k) const;
  nlohmann::json ToJson() const;
  static RetryPolicy FromJson(const nlohmann::json& j);
};

// Email (SMTP relay) retries: 5 retries, 10 s growing to 600 s exponentially.
RetryPolicy EmailRetryPolicy();

// AWS's topic default: {"http":{"defaultHealthyRetryPolicy":{...},"disableSubscriptionOverrides":
// false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}
nlohmann::json DefaultTopicDeliveryPolicy();

// Checks a topic DeliveryPolicy ({"http": {"defaultHealthyRetryPolicy": ...}}) or a
// subscription's ({"healthyRetryPolicy": ...}); InvalidParameter naming what is wrong.
Status ValidateDeliveryPolicy(std::string_view text, bool topic);
// The retry policy in effect: the subscription's unless the topic disables overrides, else the
// topic's, else AWS's default. Both texts already validated ("" = unset).
RetryPolicy EffectiveRetryPolicy(const std::string& topic_policy, const std::string& subscription_policy);
// The topic's EffectiveDeliveryPolicy attribute: its DeliveryPolicy over AWS's default.
std::string EffectiveTopicDeliveryPolicy(const std::string& topic_policy);

}  // namespace lathe::sns
