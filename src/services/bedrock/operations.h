// Bedrock (control plane) and Bedrock Runtime on the gateway: boto3 signs both as "bedrock", and
// their paths do not collide, so they are one rest-json service here. The operation table maps
// botocore's bedrock/2023-04-20 and bedrock-runtime/2023-09-30 paths onto service::BedrockService.
#pragma once

#include <functional>
#include <memory>

#include "aws/rest_json.h"
#include "service/bedrock_service.h"

namespace lathe::bedrock {

// The stored ARN of the job or model `identifier` (a name or an ARN) names, "" when none: kind is
// "model-customization-job", "evaluation-job", "model-import-job", "custom-model" or
// "imported-model".
using BedrockArnLookup = std::function<std::string(std::string_view kind, const std::string& identifier)>;

// What IAM must allow per operation (authz.cc). With `lookup`, jobs and models given by name are
// named by their ARNs (without, by "*").
aws::AccessRequest BedrockAccess(const aws::OperationView& op, const BedrockArnLookup& lookup = {});
// The lookup that asks `backend`'s job and model services.
BedrockArnLookup BedrockArns(service::BedrockService* backend);

class BedrockOperations : public aws::RestJsonService {
 public:
  explicit BedrockOperations(service::BedrockService* backend);
  std::string_view signing_name() const override { return "bedrock"; }
  // Control-plane bodies are small; runtime bodies carry prompts (Bedrock's own limit is larger,
  // but no local model takes more than this).
  size_t BodyLimit(const http::Request& request) const override;

  // lathe's extension POST /lathe/cleanup (docs/cleanup.md): the JSON body in, the report out.
  // `lathe serve` wires services/cleanup here; unset, the operation answers 404.
  using CleanupHandler = std::function<Result<nlohmann::json>(const nlohmann::json& body)>;
  void set_cleanup_handler(CleanupHandler handler) { *cleanup_ = std::move(handler); }

 private:
  // lathe's extensions on deployments: traffic, feedback, stats (deployment_extensions.cc).
  void AddDeploymentExtensions(service::BedrockService* svc);
  service::BedrockService* backend_;
  std::shared_ptr<CleanupHandler> cleanup_ = std::make_shared<CleanupHandler>();
};

}  // namespace lathe::bedrock
