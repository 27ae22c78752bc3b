#include "services/lambda/event_target.h"

#include "services/lambda/names.h"

namespace lathe::lambda {

bool LambdaTargetDeliverer::Exists(const std::string& arn) const {
  Result<FunctionRef> ref = ParseFunctionRef(arn);
  if (!ref.ok() || ref->account.empty() || ref->region.empty()) return false;
  return backend_->GetFunctionConfiguration(Scope{ref->account, ref->region}, arn, "").ok();
}

Status LambdaTargetDeliverer::Deliver(const events::Delivery& delivery) {
  InvokeInput in;
  in.function_name = delivery.target_arn;
  in.invocation_type = "Event";
  in.payload = delivery.input;
  Result<InvokeOutput> out = backend_->Invoke(Scope{delivery.account, delivery.region}, in);
  return out.ok() ? Status::Ok() : out.status();
}

}  // namespace lathe::lambda
