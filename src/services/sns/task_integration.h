// SNS as a Step Functions task (services/states/integration.h): `arn:aws:states:::sns:publish`
// (request-response and .waitForTaskToken) publishes through SnsBackend::Publish exactly as the
// Publish operation does. The Task's Parameters are Publish's request in its own member names
// (TopicArn or TargetArn, Message, Subject, MessageStructure, MessageAttributes, MessageGroupId,
// MessageDeduplicationId); they are written as the query wire carries them and read back by the
// same parsers as the Publish operation (shapes.h), so both refuse the same requests alike.
// As Step Functions does, a member that should be a string and is not (a JSON object Message) is
// sent as its JSON text, and the first letter of a member name may be either case.
// The result is what Step Functions returns: {"MessageId", "SdkHttpMetadata",
// "SdkResponseMetadata"}; an error is "SNS.<exception shape>" (SNS.NotFoundException,
// SNS.InvalidParameterException, ...) with the message, as the AWS SDK words it, as the cause.
// The composition root registers it for service "sns".
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "services/sns/backend.h"
#include "services/states/integration.h"

namespace lathe::sns {

class SnsTaskIntegration : public states::TaskIntegration {
 public:
  // `backend` outlives the integration.
  explicit SnsTaskIntegration(SnsBackend* backend) : backend_(backend) {}
  bool Supports(const std::string& action, const std::string& pattern) const override;
  states::TaskOutcome Start(const states::TaskCall& call) override;

 private:
  SnsBackend* backend_;
};

// "SNS.<exception>" for an SNS error: the exception shape botocore's model names for its code
// (NotFound -> NotFoundException, ParameterValueInvalid -> InvalidParameterValueException);
// "SNS.AmazonSNSException" for a code the model does not declare (ValidationError).
std::string SnsTaskErrorName(const Status& status);

}  // namespace lathe::sns
