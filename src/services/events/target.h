// Where EventBridge delivers: a rule's target is an ARN (an SNS topic today; Step Functions state
// machines and functions when they exist), reached through this interface so that the events
// service never calls another service's backend directly. The composition root (src/server)
// registers one deliverer per ARN service ("sns", "states", "lambda").
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::events {

struct Delivery {
  std::string target_arn;
  std::string input;     // the event or the target's Input / InputPath / InputTransformer result
  std::string rule_arn;  // who sent it (SNS shows it nowhere; logs and failures do)
  std::string event_id;
  std::string account, region;
};

class TargetDeliverer {
 public:
  virtual ~TargetDeliverer() = default;
  // Whether `arn` names a resource that exists now (PutTargets accepts targets that do not exist
  // yet, as AWS does; delivery to them fails and is retried).
  virtual bool Exists(const std::string& arn) const = 0;
  // Hands the input over. OK means the target service has it durably (SNS: the message is
  // accepted for its subscribers); an error is retried with the target's RetryPolicy.
  virtual Status Deliver(const Delivery& delivery) = 0;
};

}  // namespace lathe::events
