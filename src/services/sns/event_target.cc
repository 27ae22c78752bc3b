#include "services/sns/event_target.h"

#include <spdlog/spdlog.h>

namespace lathe::sns {

bool SnsTargetDeliverer::Exists(const std::string& arn) const { return backend_->TopicExists(arn); }

Status SnsTargetDeliverer::Deliver(const events::Delivery& delivery) {
  PublishInput in;
  in.topic_arn = delivery.target_arn;
  in.message = delivery.input;
  Result<std::string> id = backend_->Publish(in);
  if (!id.ok()) return id.status();
  spdlog::info("sns: event {} from {} published to {} as message {}", delivery.event_id, delivery.rule_arn,
               delivery.target_arn, *id);
  return Status::Ok();
}

}  // namespace lathe::sns
