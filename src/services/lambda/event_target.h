// Lambda as an EventBridge target (services/events/target.h): a rule whose target is a function
// ARN invokes it asynchronously with the event (or the target's transformed input), as AWS does:
// the invocation is queued durably (Invoke with InvocationType Event) and run by Lambda's worker.
// The composition root registers it for ARNs of service "lambda".
#pragma once

#include "services/events/target.h"
#include "services/lambda/backend.h"

namespace lathe::lambda {

class LambdaTargetDeliverer : public events::TargetDeliverer {
 public:
  // `backend` outlives the deliverer.
  explicit LambdaTargetDeliverer(LambdaBackend* backend) : backend_(backend) {}
  bool Exists(const std::string& arn) const override;
  // OK once the invocation is queued; ResourceNotFoundException when the function is gone,
  // RequestTooLargeException / InvalidRequestContentException for an input Lambda refuses.
  Status Deliver(const events::Delivery& delivery) override;

 private:
  LambdaBackend* backend_;
};

}  // namespace lathe::lambda
