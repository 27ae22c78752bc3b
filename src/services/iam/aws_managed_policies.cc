#include "services/iam/aws_managed_policies.h"

namespace lathe::iam {

const std::vector<AwsManagedPolicy>& AwsManagedPolicies() {
  static const std::vector<AwsManagedPolicy> kPolicies = {
      {"AdministratorAccess", "/", "Provides full access to AWS services and resources.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"},
      {"PowerUserAccess", "/",
       "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]})"},
      {"IAMFullAccess", "/", "Provides full access to IAM via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]})"},
      {"IAMReadOnlyAccess", "/", "Provides read only access to IAM via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]})"},
      {"AmazonS3FullAccess", "/", "Provides full access to all buckets via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]})"},
      {"AmazonS3ReadOnlyAccess", "/", "Provides read only access to all buckets via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]})"},
      {"AmazonBedrockFullAccess", "/", "Provides full access to Amazon Bedrock and its dependent services.",
       R"({"Version":"2012-10-17","Statement":[{"Sid":"BedrockAll","Effect":"Allow","Action":["bedrock:*"],"Resource":"*"},{"Sid":"PassRoleToBedrock","Effect":"Allow","Action":["iam:PassRole"],"Resource":"arn:aws:iam::*:role/*AmazonBedrock*","Condition":{"StringEquals":{"iam:PassedToService":["bedrock.amazonaws.com"]}}}]})"},
      {"AmazonBedrockReadOnly", "/", "Provides read only access to Amazon Bedrock.",
       R"({"Version":"2012-10-17","Statement":[{"Sid":"AmazonBedrockReadOnly","Effect":"Allow","Action":["bedrock:Get*","bedrock:List*"],"Resource":"*"}]})"},
      {"AmazonSNSFullAccess", "/", "Provides full access to Amazon SNS via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Sid":"SNSFullAccess","Effect":"Allow","Action":"sns:*","Resource":"*"}]})"},
      {"AmazonEventBridgeFullAccess", "/", "Provides full access to Amazon EventBridge.",
       R"({"Version":"2012-10-17","Statement":[{"Sid":"EventBridgeActions","Effect":"Allow","Action":["events:*","schemas:*","scheduler:*","pipes:*"],"Resource":"*"}]})"},
      {"AWSStepFunctionsFullAccess", "/", "An access policy for providing a user/role/etc access to the AWS StepFunctions API.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"states:*","Resource":"*"}]})"},
      {"AWSLambda_FullAccess", "/", "Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","states:DescribeStateMachine","states:ListStateMachines","sns:ListTopics","events:ListRules"],"Resource":"*"}]})"},
      {"AmazonSageMakerFullAccess", "/", "Provides full access to Amazon SageMaker via the AWS Management Console and SDK.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sagemaker:*"],"Resource":"*"}]})"},
  };
  return kPolicies;
}

std::string AwsManagedPolicyArn(const AwsManagedPolicy& policy) {
  return "arn:aws:iam::aws:policy" + std::string(policy.path) + std::string(policy.name);
}

const AwsManagedPolicy* FindAwsManagedPolicy(std::string_view arn) {
  for (const AwsManagedPolicy& p : AwsManagedPolicies())
    if (AwsManagedPolicyArn(p) == arn) return &p;
  return nullptr;
}

}  // namespace lathe::iam
