// Bedrock as a Step Functions task (services/states/integration.h), the optimized integration's
// two resources:
//   arn:aws:states:::bedrock:createModelCustomizationJob[.sync]  -> service::JobService
//   arn:aws:states:::bedrock:invokeModel                         -> service::RuntimeService
// Parameters are the Bedrock requests' members in Step Functions' spelling (JobName,
// TrainingDataConfig.S3Uri, ...; Bedrock's own camelCase is accepted too: only the first letter's
// case differs), and results come back the way Step Functions shapes them, member names
// capitalized: {"JobArn"}; with .sync the job's description as GetModelCustomizationJob answers
// it ({"JobArn", "Status": "Completed", "TrainingMetrics", ...}); invokeModel {"Body": <the
// model's JSON answer>, "ContentType"}. Errors are "Bedrock.<exception>"
// (Bedrock.ValidationException, Bedrock.ResourceNotFoundException, ...). A .sync job that ends
// Failed or Stopped fails the task with States.TaskFailed and the job's description as the cause,
// as Step Functions' other run-a-job integrations report an unsuccessful job.
// The composition root registers it for service "bedrock".
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "service/job_service.h"
#include "service/runtime_service.h"
#include "services/states/integration.h"

namespace lathe::bedrock {

// Step Functions' bound on an inline InvokeModel Body (larger inputs go through Input.S3Uri).
inline constexpr size_t kMaxTaskInvokeBodyBytes = 256 * 1024;

class BedrockTaskIntegration : public states::TaskIntegration {
 public:
  // Both outlive the integration (BedrockService's jobs() and runtime()).
  BedrockTaskIntegration(service::JobService* jobs, service::RuntimeService* runtime)
      : jobs_(jobs), runtime_(runtime) {}
  bool Supports(const std::string& action, const std::string& pattern) const override;
  states::TaskOutcome Start(const states::TaskCall& call) override;
  // createModelCustomizationJob.sync: nullopt while the job is InProgress or Stopping.
  std::optional<states::TaskOutcome> Poll(const states::TaskCall& call, const nlohmann::json& started) override;
  // Stops the job (StopModelCustomizationJob); a job that has already ended is left as it is.
  void Cancel(const states::TaskCall& call, const nlohmann::json& started) override;

 private:
  states::TaskOutcome CreateJob(const states::TaskCall& call);
  states::TaskOutcome InvokeModel(const states::TaskCall& call);

  service::JobService* jobs_;
  service::RuntimeService* runtime_;
};

}  // namespace lathe::bedrock
