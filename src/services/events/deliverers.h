// Which TargetDeliverer (target.h) reaches a target: one per ARN service ("sns", "states",
// "lambda"), registered by the composition root. A target whose service has none fails with a
// retryable error ("no deliverer for service X"), so its events wait, under the target's
// RetryPolicy, for a server that has one, and end in the dead-letter records if none comes.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "services/events/target.h"

namespace lathe::events {

class DelivererRegistry {
 public:
  // `deliverer` outlives the registry.
  void Add(const std::string& service, TargetDeliverer* deliverer);
  // The deliverer for the ARN's service, or null.
  TargetDeliverer* Find(const std::string& arn) const;
  Status Deliver(const Delivery& delivery) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, TargetDeliverer*> by_service_;
};

// The service part of an ARN (arn:aws:<service>:...), or "".
std::string ArnService(const std::string& arn);

}  // namespace lathe::events
