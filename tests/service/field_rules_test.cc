// The service models' patterns, matched by LinearPattern, accept and refuse the same strings as
// std::regex (ECMAScript, whole match) on short inputs; lengths are checked before patterns; and
// the ARNs lathe itself issues pass the patterns its own requests are held to.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>
#include <string>

#include "core/arn.h"
#include "core/linear_pattern.h"
#include "service/field_rules.h"

namespace lathe::service {
namespace {

// Valid examples of each shape, from Bedrock's documentation and lathe's own resources.
std::vector<std::string> Examples(const std::string& shape) {
  const std::string fm = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1";
  const std::string cm = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1/abcdefghij12";
  const std::string pm = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghij12";
  const std::string job = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/lathe.default-v1/abcdefghij12";
  if (shape == "JobName") return {"my-job", "job.v1+x", "a--b"};
  if (shape == "CustomModelName" || shape == "ProvisionedModelName") return {"support-pt", "a_b-c", "x"};
  if (shape == "RoleArn") return {"arn:aws:iam::123456789012:role/BedrockFineTuningRole", "arn:aws-cn:iam:::role/x"};
  if (shape == "IdempotencyToken") return {"abc-123", "a", "token-Z9"};
  if (shape == "ModelArn") return {fm, cm};
  if (shape == "CustomModelArn") return {cm, "arn:aws:bedrock:us-east-1:123456789012:custom-model/lathe.default-v1/abcdefghij12"};
  if (shape == "ImportedModelName") return {"qwen-0-5b", "a_b-c", "x"};
  if (shape == "SubnetId") return {"subnet-0a1b2c3d", "S-1"};
  if (shape == "SecurityGroupId") return {"sg-0123abcd", "-"};
  if (shape == "ModelImportJobIdentifier")
    return {"import-job", "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abcdefghij12"};
  if (shape == "ImportedModelIdentifier")
    return {"qwen-0-5b", "arn:aws:bedrock:us-east-1:123456789012:imported-model/abcdefghij12"};
  if (shape == "ModelDeploymentName") return {"bank-prod", "a_b-c", "x"};
  if (shape == "CustomModelDeploymentIdentifier")
    return {"arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefghij12", "bank-prod"};
  if (shape == "CustomModelDeploymentDescription") return {"the bank's assistant", "x"};
  if (shape == "BaseModelIdentifier" || shape == "ModelIdentifier")
    return {fm, cm, "amazon.titan-text-express-v1", "my_model", "lathe.default-v1"};
  if (shape == "S3Uri") return {"s3://my-bucket/data/train.jsonl", "s3://bucket/", "s3://abc"};
  if (shape == "KmsKeyId") return {"alias/my-key", "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"};
  if (shape == "TagKey" || shape == "TagValue") return {"team", "cost center:ml/x=1", "a+b@c"};
  if (shape == "TaggableResourcesArn") return {pm, job, cm, "my-resource"};
  if (shape == "PaginationToken") return {"100", "abc", ""};
  if (shape == "ModelCustomizationJobIdentifier") return {"my-job", job};
  if (shape == "ProvisionedModelId") return {"support-pt", pm};
  if (shape == "GetFoundationModelIdentifier") return {fm, "amazon.titan-text-express-v1"};
  if (shape == "InvokeModelIdentifier" || shape == "ConversationalModelId")
    return {"amazon.titan-text-express-v1", pm, "my_pt", fm};
  if (shape == "EvaluationJobName") return {"banking-eval", "a", "eval-model-20261202-081500-ab12", "a--b"};
  if (shape == "EvaluationJobIdentifier") return {"arn:aws:bedrock:us-east-1:123456789012:evaluation-job/abcdefghij12"};
  if (shape == "EvaluationJobDescription") return {"base vs tuned", "x"};
  if (shape == "EvaluationMetricName") return {"Builtin.Accuracy", "Lathe.rougeL", "my-metric_1"};
  if (shape == "EvaluationDatasetName") return {"banking", "Builtin.Bold", "data_set-1.v2"};
  if (shape == "RequestMetadataKeyString" || shape == "RequestMetadataValueString") return {"user", "a b,c.d"};
  return {};
}

// Short strings near the examples (every deletion, duplication and a few substitutions) and
// random strings over the characters the patterns use.
std::vector<std::string> Corpus(const std::string& shape) {
  std::set<std::string> out;
  for (const std::string& e : Examples(shape)) {
    out.insert(e);
    for (size_t i = 0; i < e.size(); ++i) {
      out.insert(e.substr(0, i) + e.substr(i + 1));
      out.insert(e.substr(0, i + 1) + e.substr(i));
      for (char c : std::string("Z-.:/_ \n"))
        if (c != e[i]) out.insert(e.substr(0, i) + c + e.substr(i + 1));
    }
  }
  std::mt19937 gen(7);
  const std::string alphabet = "az09AZ-._:/+@= \t$#,*'()!\\\n";
  for (int n = 0; n < 400; ++n) {
    std::string s(gen() % 14, ' ');
    for (char& c : s) c = alphabet[gen() % alphabet.size()];
    out.insert(s);
  }
  return {out.begin(), out.end()};
}

TEST(FieldRules, EveryPatternAgreesWithStdRegexOnShortStrings) {
  for (const FieldRule* rule : AllFieldRules()) {
    if (!rule->pattern) continue;
    SCOPED_TRACE(rule->shape);
    auto linear = LinearPattern::Compile(rule->pattern);
    ASSERT_TRUE(linear.ok()) << linear.status().ToString();
    const std::regex reference(rule->pattern, std::regex::ECMAScript);
    ASSERT_FALSE(Examples(rule->shape).empty()) << "add examples for " << rule->shape;
    for (const std::string& e : Examples(rule->shape)) EXPECT_TRUE(linear->FullMatch(e)) << e;
    int accepted = 0;
    for (const std::string& s : Corpus(rule->shape)) {
      const bool expected = std::regex_match(s, reference);
      accepted += expected;
      EXPECT_EQ(linear->FullMatch(s), expected) << "\"" << s << "\"";
    }
    EXPECT_GT(accepted, 0);
  }
}

TEST(FieldRules, LengthsAreCheckedBeforePatternsAndMessagesAreAws) {
  // What crashed the server: a 30,000-character name given to a recursive std::regex.
  Status s = CheckString(std::string(30000, 'a'), "provisionedModelName", rules::kProvisionedModelName);
  EXPECT_EQ(s.aws_code(), "ValidationException");
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value at 'provisionedModelName' failed to satisfy constraint: Member must "
            "have length less than or equal to 63");
  s = CheckString("", "jobName", rules::kJobName);
  EXPECT_NE(s.message().find("length greater than or equal to 1"), std::string::npos) << s.message();
  s = CheckString("bad name", "jobName", rules::kJobName);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value at 'jobName' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*");
  EXPECT_TRUE(CheckString("my-job", "jobName", rules::kJobName).ok());
  // Length only: lathe's file:// URIs are wider than S3Uri's pattern.
  EXPECT_TRUE(CheckLength("file:///data/train.jsonl", "trainingDataConfig.s3Uri", rules::kS3Uri).ok());
  EXPECT_FALSE(CheckLength(std::string(1025, 'a'), "trainingDataConfig.s3Uri", rules::kS3Uri).ok());
}

TEST(FieldRules, TheArnsLatheIssuesPassTheTaggableResourcePattern) {
  ArnScope scope;
  for (const std::string& resource :
       {"model-customization-job/amazon.titan-text-express-v1/" + NewResourceId(),
        "custom-model/lathe.default-v1/" + NewResourceId(), "provisioned-model/" + NewResourceId()}) {
    const std::string arn = BedrockArn(scope, resource);
    EXPECT_TRUE(CheckString(arn, "resourceARN", rules::kTaggableResourcesArn).ok()) << arn;
  }
}

}  // namespace
}  // namespace lathe::service
