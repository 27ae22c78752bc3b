#include "service/field_rules.h"

#include <limits>
#include <map>
#include <mutex>

#include "core/linear_pattern.h"

namespace lathe::service {
namespace {
constexpr size_t kNoMax = std::numeric_limits<size_t>::max();  // the model declares no maximum
}  // namespace

namespace rules {
// Copied verbatim from the service models (shape, min, max, pattern); AllFieldRules() lists them.
const FieldRule kJobName{"JobName", 1, 63, R"re([a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*)re"};
const FieldRule kCustomModelName{"CustomModelName", 1, 63, R"re(([0-9a-zA-Z][_-]?){1,63})re"};
const FieldRule kProvisionedModelName{"ProvisionedModelName", 1, 63, R"re(([0-9a-zA-Z][_-]?)+)re"};
const FieldRule kRoleArn{"RoleArn", 0, 2048, R"re(arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+)re"};
const FieldRule kIdempotencyToken{"IdempotencyToken", 1, 256, R"re([a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?)re"};
const FieldRule kBaseModelIdentifier{"BaseModelIdentifier", 1, 2048, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})|(([0-9a-zA-Z][_-]?)+))re"};
const FieldRule kModelIdentifier{"ModelIdentifier", 1, 2048, R"re(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/((imported)|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}))(([:][a-z0-9-]{1,63}){0,2})?/[a-z0-9]{12})|(:foundation-model/([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})))|(([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}))|(([0-9a-zA-Z][_-]?)+))re"};
const FieldRule kS3Uri{"S3Uri", 1, 1024, R"re(s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?)re"};
const FieldRule kKmsKeyId{"KmsKeyId", 1, 2048, R"re((arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:((key/[a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+)))|([a-zA-Z0-9-]{36})|(alias/[a-zA-Z0-9-_/]+))re"};
const FieldRule kTagKey{"TagKey", 1, 128, R"re([a-zA-Z0-9\s._:/=+@-]*)re"};
const FieldRule kTagValue{"TagValue", 0, 256, R"re([a-zA-Z0-9\s._:/=+@-]*)re"};
const FieldRule kTaggableResourcesArn{"TaggableResourcesArn", 20, 1011, R"re(.*(^[a-zA-Z0-9][a-zA-Z0-9\-]*$)|(^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/(imported)/[a-z0-9]{12}$)|(^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:([0-9]{12}|)((:(fine-tuning-job|model-customization-job|custom-model)/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2}(/[a-z0-9]{12})$)|(:guardrail/[a-z0-9]+$)|(:automated-reasoning-policy/[a-zA-Z0-9]+(:[a-zA-Z0-9]+)?$)|(:(inference-profile|application-inference-profile)/[a-zA-Z0-9-:.]+$)|(:(provisioned-model|model-invocation-job|model-evaluation-job|evaluation-job|model-import-job|imported-model|async-invoke|provisioned-model-v2|provisioned-model-reservation|prompt-router|custom-model-deployment)/[a-z0-9]{12}$))).*)re"};
const FieldRule kPaginationToken{"PaginationToken", 1, 2048, R"re(\S*)re"};
const FieldRule kModelCustomizationJobIdentifier{"ModelCustomizationJobIdentifier", 0, 1011, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-customization-job/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2}/[a-z0-9]{12})|([a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*))re"};
const FieldRule kProvisionedModelId{"ProvisionedModelId", 0, kNoMax, R"re(((([0-9a-zA-Z][_-]?)+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:provisioned-model/[a-z0-9]{12})))re"};
const FieldRule kGetFoundationModelIdentifier{"GetFoundationModelIdentifier", 1, 2048, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/[a-z0-9-]{1,63}[.]{1}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2}))re"};
const FieldRule kModelArn{"ModelArn", 20, 1011, R"re(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/((imported)|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}))(([:][a-z0-9-]{1,63}){0,2})?/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})))re"};
// Custom model deployments.
const FieldRule kModelDeploymentName{"ModelDeploymentName", 1, 63, R"re(([0-9a-zA-Z][_-]?){1,63})re"};
const FieldRule kCustomModelDeploymentIdentifier{"CustomModelDeploymentIdentifier", 1, 93, R"re((arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model-deployment/[a-z0-9]{12})|^([0-9a-zA-Z][_-]?){1,63})re"};
const FieldRule kCustomModelDeploymentDescription{"CustomModelDeploymentDescription", 1, 2048, R"re(.*)re"};
const FieldRule kCustomModelArn{"CustomModelArn", 20, 1011, R"re(arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model/(imported|[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})/[a-z0-9]{12})re"};
// Evaluation jobs. EvaluationBedrockModelIdentifier's pattern is checked for length only where
// lathe resolves the name itself (custom model names, provisioned throughput names).
const FieldRule kEvaluationJobName{"EvaluationJobName", 1, 63, R"re([a-z0-9](-*[a-z0-9]){0,62})re"};
const FieldRule kEvaluationJobIdentifier{"EvaluationJobIdentifier", 0, 1011, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:evaluation-job/[a-z0-9]{12}))re"};
const FieldRule kEvaluationJobDescription{"EvaluationJobDescription", 1, 200, R"re(.+)re"};
const FieldRule kEvaluationMetricName{"EvaluationMetricName", 1, 63, R"re([0-9a-zA-Z-_.]+)re"};
const FieldRule kEvaluationDatasetName{"EvaluationDatasetName", 1, 63, R"re([0-9a-zA-Z-_.]+)re"};
const FieldRule kEvaluationBedrockModelIdentifier{"EvaluationBedrockModelIdentifier", 1, 2048, nullptr};
const FieldRule kEvaluationModelInferenceParams{"EvaluationModelInferenceParams", 1, 1023, nullptr};
// Custom Model Import.
const FieldRule kImportedModelName{"ImportedModelName", 1, 63, R"re(([0-9a-zA-Z][_-]?)+)re"};
const FieldRule kModelImportJobIdentifier{"ModelImportJobIdentifier", 0, 1011, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-import-job/[a-z0-9]{12})|([a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*))re"};
const FieldRule kImportedModelIdentifier{"ImportedModelIdentifier", 1, 1011, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:imported-model/[a-z0-9]{12})|(([0-9a-zA-Z][_-]?)+))re"};
// VpcConfig.
const FieldRule kSubnetId{"SubnetId", 0, 32, R"re([-0-9a-zA-Z]+)re"};
const FieldRule kSecurityGroupId{"SecurityGroupId", 0, 32, R"re([-0-9a-zA-Z]+)re"};
// bedrock-runtime/2023-09-30
const FieldRule kInvokeModelIdentifier{"InvokeModelIdentifier", 1, 2048, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63}))|([0-9]{12}:imported-model/[a-z0-9]{12})|([0-9]{12}:provisioned-model/[a-z0-9]{12})|([0-9]{12}:custom-model-deployment/[a-z0-9]{12})|([0-9]{12}:(inference-profile|application-inference-profile)/[a-zA-Z0-9-:.]+)))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63}))|(([0-9a-zA-Z][_-]?)+)|([a-zA-Z0-9-:.]+)$|(^(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:prompt/[0-9a-zA-Z]{10}(?::[0-9]{1,5})?))$|(^arn:aws:sagemaker:[a-z0-9-]+:[0-9]{12}:endpoint/[a-zA-Z0-9-]+$)|(^arn:aws(-[^:]+)?:bedrock:([0-9a-z-]{1,20}):([0-9]{12}):(default-)?prompt-router/[a-zA-Z0-9-:.]+$))re"};
const FieldRule kConversationalModelId{"ConversationalModelId", 1, 2048, R"re((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63}))|([0-9]{12}:imported-model/[a-z0-9]{12})|([0-9]{12}:provisioned-model/[a-z0-9]{12})|([0-9]{12}:custom-model-deployment/[a-z0-9]{12})|([0-9]{12}:(inference-profile|application-inference-profile)/[a-zA-Z0-9-:.]+)))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63}))|(([0-9a-zA-Z][_-]?)+)|([a-zA-Z0-9-:.]+)|(^(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:prompt/[0-9a-zA-Z]{10}(?::[0-9]{1,5})?))$|(^arn:aws:sagemaker:[a-z0-9-]+:[0-9]{12}:endpoint/[a-zA-Z0-9-]+$)|(^arn:aws(-[^:]+)?:bedrock:([0-9a-z-]{1,20}):([0-9]{12}):(default-)?prompt-router/[a-zA-Z0-9-:.]+$))re"};
const FieldRule kRequestMetadataKeyString{"RequestMetadataKeyString", 1, 256, R"re([a-zA-Z0-9\s:_@$#=/+,-.]{1,256})re"};
const FieldRule kRequestMetadataValueString{"RequestMetadataValueString", 0, 256, R"re([a-zA-Z0-9\s:_@$#=/+,-.]{0,256})re"};
const FieldRule kAdditionalModelResponseFieldPath{"ConverseRequestAdditionalModelResponseFieldPathsListMemberString", 1, 256, nullptr};
}  // namespace rules

const std::vector<const FieldRule*>& AllFieldRules() {
  using namespace rules;
  static const std::vector<const FieldRule*> all = {
      &kJobName, &kCustomModelName, &kProvisionedModelName, &kRoleArn, &kIdempotencyToken, &kBaseModelIdentifier,
      &kModelIdentifier, &kS3Uri, &kKmsKeyId, &kTagKey, &kTagValue, &kTaggableResourcesArn, &kPaginationToken,
      &kModelCustomizationJobIdentifier, &kProvisionedModelId, &kGetFoundationModelIdentifier, &kModelArn,
      &kModelDeploymentName, &kCustomModelDeploymentIdentifier, &kCustomModelDeploymentDescription, &kCustomModelArn,
      &kEvaluationJobName, &kEvaluationJobIdentifier, &kEvaluationJobDescription, &kEvaluationMetricName,
      &kEvaluationDatasetName, &kEvaluationBedrockModelIdentifier, &kEvaluationModelInferenceParams,
      &kImportedModelName, &kModelImportJobIdentifier, &kImportedModelIdentifier, &kSubnetId, &kSecurityGroupId,
      &kInvokeModelIdentifier, &kConversationalModelId, &kRequestMetadataKeyString, &kRequestMetadataValueString,
      &kAdditionalModelResponseFieldPath};
  return all;
}

namespace {

// Each rule's pattern, compiled once on first use.
const LinearPattern* CompiledPattern(const FieldRule& rule) {
  static const std::map<const FieldRule*, LinearPattern> compiled = [] {
    std::map<const FieldRule*, LinearPattern> m;
    for (const FieldRule* r : AllFieldRules()) {
      if (!r->pattern) continue;
      auto p = LinearPattern::Compile(r->pattern);
      if (p.ok()) m.emplace(r, std::move(*p));  // the tests assert that every one compiles
    }
    return m;
  }();
  auto it = compiled.find(&rule);
  return it == compiled.end() ? nullptr : &it->second;
}

}  // namespace

Status ValidationError(const std::string& member, const std::string& constraint) {
  return Status::Aws("ValidationException", 400,
                     "1 validation error detected: Value at '" + member + "' failed to satisfy constraint: Member " +
                         constraint);
}

Status CheckLength(std::string_view value, const std::string& member, const FieldRule& rule) {
  if (value.size() < rule.min_length)
    return ValidationError(member, "must have length greater than or equal to " + std::to_string(rule.min_length));
  if (value.size() > rule.max_length)
    return ValidationError(member, "must have length less than or equal to " + std::to_string(rule.max_length));
  return Status::Ok();
}

Status CheckString(std::string_view value, const std::string& member, const FieldRule& rule) {
  LATHE_RETURN_IF_ERROR(CheckLength(value, member, rule));
  if (!rule.pattern) return Status::Ok();
  const LinearPattern* pattern = CompiledPattern(rule);
  if (!pattern) return Status::Internal("the pattern of " + std::string(rule.shape) + " does not compile");
  if (!pattern->FullMatch(value))
    return ValidationError(member, std::string("must satisfy regular expression pattern: ") + rule.pattern);
  return Status::Ok();
}

}  // namespace lathe::service
