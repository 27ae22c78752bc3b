// SNS as an EventBridge target (services/events/target.h): a rule whose target is a topic ARN
// publishes the event (or the target's transformed input) as the message, exactly as Publish
// does, so it reaches every confirmed subscriber through the same durable delivery queue. The
// composition root registers it for ARNs of service "sns".
#pragma once

#include "services/events/target.h"
#include "services/sns/backend.h"

namespace lathe::sns {

class SnsTargetDeliverer : public events::TargetDeliverer {
 public:
  // `backend` outlives the deliverer.
  explicit SnsTargetDeliverer(SnsBackend* backend) : backend_(backend) {}
  bool Exists(const std::string& arn) const override;
  // OK once the message and its deliveries are stored (Publish's transaction); NotFound when
  // the topic is gone, InvalidParameter for an input SNS refuses (empty, over 256 KB).
  Status Deliver(const events::Delivery& delivery) override;

 private:
  SnsBackend* backend_;
};

}  // namespace lathe::sns
