// The constraints AWS's service models declare for the string members lathe reads (botocore's
// bedrock/2023-04-20 and bedrock-runtime/2023-09-30 service-2.json: each shape's min, max and
// pattern), in one table, checked in one way: length first, then the pattern, with the linear-time
// matcher (core/linear_pattern.h), never std::regex. Messages are AWS's:
//   1 validation error detected: Value at 'jobName' failed to satisfy constraint: Member must have
//   length less than or equal to 63
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::service {

struct FieldRule {
  const char* shape;  // the service model's shape name, e.g. "JobName"
  size_t min_length, max_length;
  const char* pattern;  // the model's pattern, or nullptr when it declares none
};

namespace rules {
// bedrock/2023-04-20
extern const FieldRule kJobName, kCustomModelName, kProvisionedModelName, kRoleArn, kIdempotencyToken,
    kBaseModelIdentifier, kModelIdentifier, kS3Uri, kKmsKeyId, kTagKey, kTagValue, kTaggableResourcesArn,
    kPaginationToken, kModelCustomizationJobIdentifier, kProvisionedModelId, kGetFoundationModelIdentifier,
    kModelArn;
// bedrock/2023-04-20, custom model deployments
extern const FieldRule kModelDeploymentName, kCustomModelDeploymentIdentifier, kCustomModelDeploymentDescription,
    kCustomModelArn;
// bedrock/2023-04-20, evaluation jobs
extern const FieldRule kEvaluationJobName, kEvaluationJobIdentifier, kEvaluationJobDescription, kEvaluationMetricName,
    kEvaluationDatasetName, kEvaluationBedrockModelIdentifier, kEvaluationModelInferenceParams;
// bedrock/2023-04-20, Custom Model Import
extern const FieldRule kImportedModelName, kModelImportJobIdentifier, kImportedModelIdentifier;
// bedrock/2023-04-20, VpcConfig
extern const FieldRule kSubnetId, kSecurityGroupId;
// bedrock-runtime/2023-09-30
extern const FieldRule kInvokeModelIdentifier, kConversationalModelId, kRequestMetadataKeyString,
    kRequestMetadataValueString, kAdditionalModelResponseFieldPath;
}  // namespace rules

// Every rule above (the tests check each pattern against std::regex on short strings).
const std::vector<const FieldRule*>& AllFieldRules();

// "1 validation error detected: Value at '<member>' failed to satisfy constraint: Member <constraint>".
Status ValidationError(const std::string& member, const std::string& constraint);

// The rule's length bounds (bytes, as lathe stores them), then its pattern. `member` is the path
// the message names ("trainingDataConfig.s3Uri").
Status CheckString(std::string_view value, const std::string& member, const FieldRule& rule);
// The length bounds only: for members lathe resolves by lookup, where its own names (file://
// URIs, configured model ids) are wider than AWS's patterns, and a miss answers NotFound anyway.
Status CheckLength(std::string_view value, const std::string& member, const FieldRule& rule);

}  // namespace lathe::service
