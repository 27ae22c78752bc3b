#include "services/events/deliverers.h"

namespace lathe::events {

std::string ArnService(const std::string& arn) {
  if (arn.compare(0, 4, "arn:") != 0) return "";
  const size_t partition_end = arn.find(':', 4);
  if (partition_end == std::string::npos) return "";
  const size_t service_end = arn.find(':', partition_end + 1);
  if (service_end == std::string::npos) return "";
  return arn.substr(partition_end + 1, service_end - partition_end - 1);
}

void DelivererRegistry::Add(const std::string& service, TargetDeliverer* deliverer) {
  std::lock_guard<std::mutex> lock(mu_);
  by_service_[service] = deliverer;
}

TargetDeliverer* DelivererRegistry::Find(const std::string& arn) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_service_.find(ArnService(arn));
  return it == by_service_.end() ? nullptr : it->second;
}

Status DelivererRegistry::Deliver(const Delivery& delivery) const {
  TargetDeliverer* deliverer = Find(delivery.target_arn);
  if (deliverer != nullptr) return deliverer->Deliver(delivery);
  std::string known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& entry : by_service_) known += (known.empty() ? "" : ", ") + entry.first;
  }
  return Status::Unsupported("no deliverer for service '" + ArnService(delivery.target_arn) +
                             "' (this server delivers to: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace lathe::events
