// Step Functions' "lambda" TaskIntegration: what a Task state's `arn:aws:states:::lambda:invoke`
// (and a bare function ARN) does, over LambdaBackend, answered as AWS's optimized integration
// answers: {"ExecutedVersion", "Payload", "StatusCode", "SdkHttpMetadata", "SdkResponseMetadata"}
// (a bare function ARN's result is the function's output itself). A function error fails the
// state with the function's errorType ("Lambda.Unknown" when it has none) and the error payload
// as the cause; an error of Lambda itself is "Lambda.<ExceptionName>".
// The composition root registers it: registry.Add("lambda", &integration).
#pragma once

#include "services/lambda/backend.h"
#include "services/states/integration.h"

namespace lathe::lambda {

class LambdaTaskIntegration : public states::TaskIntegration {
 public:
  // `backend` outlives the integration.
  explicit LambdaTaskIntegration(LambdaBackend* backend) : backend_(backend) {}
  // "invoke" (request-response or .waitForTaskToken) and "function" (a bare function ARN).
  bool Supports(const std::string& action, const std::string& pattern) const override;
  states::TaskOutcome Start(const states::TaskCall& call) override;

 private:
  LambdaBackend* backend_;
};

}  // namespace lathe::lambda
