// AWS's policy evaluation logic, case by case from AWS's own documentation: each case names the
// IAM User Guide page its policy and request come from (docs.aws.amazon.com/IAM/latest/UserGuide/
// <page>.html), with the decision AWS documents for it.
#include "services/iam/policy_evaluator.h"

#include <gtest/gtest.h>

#include "services/iam/condition.h"
#include "services/iam/wildcard.h"

namespace lathe::iam {
namespace {

struct Case {
  const char* source;  // the User Guide page
  const char* what;
  std::vector<const char*> policies;
  const char* action;
  const char* resource;
  ConditionContext context;
  Decision want;
  const char* deciding_sid = nullptr;  // the Sid that decided, when the case names one
};

std::vector<Case> Cases() {
  return {
      {"reference_policies_evaluation-logic", "an explicit Deny overrides an Allow",
       {R"({"Version":"2012-10-17","Statement":[{"Sid":"AllowAll","Effect":"Allow","Action":"s3:*","Resource":"*"}]})",
        R"({"Version":"2012-10-17","Statement":[{"Sid":"DenyDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]})"},
       "s3:DeleteBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {}, Decision::kExplicitDeny, "DenyDelete"},
      {"reference_policies_evaluation-logic", "what no statement allows is implicitly denied",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}})"},
       "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/key", {}, Decision::kImplicitDeny},
      {"reference_policies_evaluation-logic", "no policies at all: implicit deny", {}, "s3:GetObject", "*", {},
       Decision::kImplicitDeny},
      {"reference_policies_elements_action", "\"iam:*AccessKey*\" covers iam:CreateAccessKey",
       {R"({"Version":"2012-10-17","Statement":{"Sid":"Keys","Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}})"},
       "iam:CreateAccessKey", "*", {}, Decision::kAllowed, "Keys"},
      {"reference_policies_elements_action", "\"iam:*AccessKey*\" does not cover iam:ListUsers",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}})"},
       "iam:ListUsers", "*", {}, Decision::kImplicitDeny},
      {"reference_policies_elements_action", "action names are case-insensitive (IAM:listaccesskeys)",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"IAM:listaccesskeys","Resource":"*"}})"},
       "iam:ListAccessKeys", "*", {}, Decision::kAllowed},
      {"reference_policies_elements_action", "'?' matches one character (s3:?etObject)",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:?etObject","Resource":"*"}})"},
       "s3:GetObject", "*", {}, Decision::kAllowed},
      {"reference_policies_elements_notaction", "Allow with NotAction iam:* allows all but IAM",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}})"},
       "s3:ListAllMyBuckets", "*", {}, Decision::kAllowed},
      {"reference_policies_elements_notaction", "Allow with NotAction iam:* does not allow iam:CreateUser",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}})"},
       "iam:CreateUser", "*", {}, Decision::kImplicitDeny},
      {"reference_policies_elements_notaction", "Deny NotAction iam:* without MFA (BoolIfExists) denies S3",
       {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*",
           "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]})"},
       "s3:GetObject", "arn:aws:s3:::b/k", {}, Decision::kExplicitDeny, "DenyAllUsersNotUsingMFA"},
      {"reference_policies_elements_notaction", "... but not IAM itself",
       {R"({"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*",
           "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]})"},
       "iam:ChangePassword", "*", {}, Decision::kAllowed, "All"},
      {"reference_policies_elements_notaction", "... and with MFA present, S3 is allowed",
       {R"({"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*",
           "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]})"},
       "s3:GetObject", "arn:aws:s3:::b/k", {{"aws:multifactorauthpresent", {"true"}}}, Decision::kAllowed, "All"},
      {"reference_policies_elements_notresource", "Allow s3:* on NotResource HRBucket/Payroll allows other objects",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
          "NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]}})"},
       "s3:GetObject", "arn:aws:s3:::HRBucket/Handbook.pdf", {}, Decision::kAllowed},
      {"reference_policies_elements_notresource", "... and not the payroll objects",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
          "NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]}})"},
       "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2026.csv", {}, Decision::kImplicitDeny},
      {"reference_policies_elements_resource", "bucket/* covers every object in the bucket",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
          "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}})"},
       "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/a/b/c.txt", {}, Decision::kAllowed},
      {"reference_policies_elements_resource", "bucket/* does not cover the bucket itself",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket",
          "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}})"},
       "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {}, Decision::kImplicitDeny},
      {"reference_policies_elements_resource", "bucket/*/test/* covers 1/2/test/3/object.jpg",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
          "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}})"},
       "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg", {}, Decision::kAllowed},
      {"reference_policies_elements_resource", "user/accounting/* covers users on that path only",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser",
          "Resource":"arn:aws:iam::111122223333:user/accounting/*"}})"},
       "iam:GetUser", "arn:aws:iam::111122223333:user/marketing/bob", {}, Decision::kImplicitDeny},
      {"reference_policies_elements_resource", "the account segment's '*' (the fine-tuning guide's PassRole)",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:PassRole",
          "Resource":"arn:aws:iam::*:role/BedrockFineTuningRole"}})"},
       "iam:PassRole", "arn:aws:iam::123456789012:role/BedrockFineTuningRole", {}, Decision::kAllowed},
      {"reference_policies_elements_resource", "user names in Resource are case-sensitive",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser",
          "Resource":"arn:aws:iam::111122223333:user/Bob"}})"},
       "iam:GetUser", "arn:aws:iam::111122223333:user/bob", {}, Decision::kImplicitDeny},
      {"reference_policies_variables", "${aws:username} in Resource: a user manages their own keys",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*",
          "Resource":"arn:aws:iam::*:user/${aws:username}"}})"},
       "iam:CreateAccessKey", "arn:aws:iam::111122223333:user/alice", {{"aws:username", {"alice"}}},
       Decision::kAllowed},
      {"reference_policies_variables", "... and not another user's",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*",
          "Resource":"arn:aws:iam::*:user/${aws:username}"}})"},
       "iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob", {{"aws:username", {"alice"}}},
       Decision::kImplicitDeny},
      {"reference_policies_variables", "variables are text in a 2008-10-17 policy",
       {R"({"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
          "Resource":"arn:aws:s3:::b/${aws:username}/*"}})"},
       "s3:GetObject", "arn:aws:s3:::b/alice/x", {{"aws:username", {"alice"}}}, Decision::kImplicitDeny},
      {"reference_policies_examples_s3_home-directory-console", "s3:prefix StringLike home/${aws:username}/*",
       {R"({"Version":"2012-10-17","Statement":{"Sid":"AllowListingOfUserFolder","Effect":"Allow",
          "Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket",
          "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}}})"},
       "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket",
       {{"aws:username", {"alice"}}, {"s3:prefix", {"home/alice/photos/"}}}, Decision::kAllowed,
       "AllowListingOfUserFolder"},
      {"reference_policies_examples_s3_home-directory-console", "... another user's folder is not listed",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket",
          "Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}}})"},
       "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket",
       {{"aws:username", {"alice"}}, {"s3:prefix", {"home/bob/"}}}, Decision::kImplicitDeny},
      {"reference_policies_elements_condition_operators", "StringEquals aws:PrincipalTag/job-category",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*",
          "Resource":"arn:aws:iam::111122223333:user/*",
          "Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}})"},
       "iam:ListAccessKeys", "arn:aws:iam::111122223333:user/x", {{"aws:principaltag/job-category", {"iamuser-admin"}}},
       Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "a key absent from the context: the condition is false",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*",
          "Resource":"arn:aws:iam::111122223333:user/*",
          "Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}})"},
       "iam:ListAccessKeys", "arn:aws:iam::111122223333:user/x", {}, Decision::kImplicitDeny},
      {"reference_policies_elements_condition_operators", "... but true for a negated operator (StringNotLike)",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
          "Condition":{"StringNotLike":{"aws:PrincipalTag/team":"blocked*"}}}})"},
       "s3:GetObject", "arn:aws:s3:::b/k", {}, Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "StringEqualsIgnoreCase",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
          "Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"ML-Ops"}}}})"},
       "s3:GetObject", "*", {{"aws:principaltag/team", {"ml-ops"}}}, Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "negated operators with several values are an AND",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
          "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}})",
        R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})"},
       "bedrock:InvokeModel", "*", {{"aws:requestedregion", {"eu-central-1"}}}, Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "... and a region outside both is denied",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
          "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}})",
        R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})"},
       "bedrock:InvokeModel", "*", {{"aws:requestedregion", {"us-east-1"}}}, Decision::kExplicitDeny},
      {"reference_policies_elements_condition_operators", "NumericLessThanEquals s3:max-keys 10",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket",
          "Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}})"},
       "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {{"s3:max-keys", {"11"}}}, Decision::kImplicitDeny},
      {"reference_policies_elements_condition_operators", "NumericLessThanEquals s3:max-keys 10 (allowed)",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket",
          "Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}})"},
       "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", {{"s3:max-keys", {"10"}}}, Decision::kAllowed},
      {"reference_policies_examples_aws-dates", "DateGreaterThan/DateLessThan aws:CurrentTime inside the window",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"*",
          "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},
                       "DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}})"},
       "bedrock:InvokeModel", "*", {{"aws:currenttime", {"2020-05-05T12:00:00Z"}}}, Decision::kAllowed},
      {"reference_policies_examples_aws-dates", "... and after it",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"*",
          "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},
                       "DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}})"},
       "bedrock:InvokeModel", "*", {{"aws:currenttime", {"2020-07-01T00:00:00Z"}}}, Decision::kImplicitDeny},
      {"reference_policies_examples_aws_deny-ip", "NotIpAddress aws:SourceIp denies other addresses",
       {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"DenyOutsideRanges","Effect":"Deny","Action":"*","Resource":"*",
           "Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},
                        "Bool":{"aws:ViaAWSService":"false"}}}]})"},
       "s3:GetObject", "*", {{"aws:sourceip", {"198.51.100.7"}}, {"aws:viaawsservice", {"false"}}},
       Decision::kExplicitDeny, "DenyOutsideRanges"},
      {"reference_policies_examples_aws_deny-ip", "... and allows 203.0.113.9",
       {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
          {"Effect":"Deny","Action":"*","Resource":"*",
           "Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},
                        "Bool":{"aws:ViaAWSService":"false"}}}]})"},
       "s3:GetObject", "*", {{"aws:sourceip", {"203.0.113.9"}}, {"aws:viaawsservice", {"false"}}},
       Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "IpAddress with an IPv6 range",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
          "Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}})"},
       "s3:GetObject", "*", {{"aws:sourceip", {"2001:db8:1234:5678::2"}}}, Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "Bool aws:SecureTransport (JSON boolean false)",
       {R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
          {"Sid":"HttpsOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]})"},
       "s3:GetObject", "*", {{"aws:securetransport", {"false"}}}, Decision::kExplicitDeny, "HttpsOnly"},
      {"reference_policies_elements_condition_operators", "Null aws:TokenIssueTime true: long-term keys only",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*",
          "Condition":{"Null":{"aws:TokenIssueTime":"true"}}}})"},
       "ec2:RunInstances", "*", {}, Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "... temporary credentials are not",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*",
          "Condition":{"Null":{"aws:TokenIssueTime":"true"}}}})"},
       "ec2:RunInstances", "*", {{"aws:tokenissuetime", {"2026-01-01T00:00:00Z"}}}, Decision::kImplicitDeny},
      {"reference_policies_elements_condition_operators", "StringLikeIfExists: an absent key passes",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
          "Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}})"},
       "ec2:RunInstances", "*", {}, Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "... and a present one must match",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
          "Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}})"},
       "ec2:RunInstances", "*", {{"ec2:instancetype", {"p4d.24xlarge"}}}, Decision::kImplicitDeny},
      {"reference_policies_elements_condition_operators", "ArnLike aws:SourceArn with wildcards per segment",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
          "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}}})"},
       "s3:PutObject", "*", {{"aws:sourcearn", {"arn:aws:cloudtrail:us-east-2:111122223333:trail/main"}}},
       Decision::kAllowed},
      {"reference_policies_elements_condition_operators", "ArnLike: another account does not match",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
          "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}}})"},
       "s3:PutObject", "*", {{"aws:sourcearn", {"arn:aws:cloudtrail:us-east-2:444455556666:trail/main"}}},
       Decision::kImplicitDeny},
      {"reference_policies_condition-single-vs-multi-valued-context-keys", "ForAllValues: every tag key listed",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
          "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}})"},
       "ec2:CreateTags", "*", {{"aws:tagkeys", {"environment", "cost-center"}}}, Decision::kAllowed},
      {"reference_policies_condition-single-vs-multi-valued-context-keys", "ForAllValues: one unlisted key fails",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
          "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}})"},
       "ec2:CreateTags", "*", {{"aws:tagkeys", {"environment", "owner"}}}, Decision::kImplicitDeny},
      {"reference_policies_condition-single-vs-multi-valued-context-keys", "ForAllValues: no key at all passes",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
          "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}})"},
       "ec2:CreateTags", "*", {}, Decision::kAllowed},
      {"reference_policies_condition-single-vs-multi-valued-context-keys", "ForAnyValue: one listed key is enough",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
          "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}})"},
       "ec2:CreateTags", "*", {{"aws:tagkeys", {"owner", "environment"}}}, Decision::kAllowed},
      {"reference_policies_condition-single-vs-multi-valued-context-keys", "ForAnyValue: no key at all fails",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
          "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}})"},
       "ec2:CreateTags", "*", {}, Decision::kImplicitDeny},
      {"access_tags", "aws:RequestTag/environment must be preprod or production",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*",
          "Condition":{"StringEquals":{"aws:RequestTag/environment":["preprod","production"]}}}})"},
       "iam:CreateUser", "arn:aws:iam::111122223333:user/x", {{"aws:requesttag/environment", {"production"}}},
       Decision::kAllowed},
      {"access_tags", "aws:ResourceTag/Department equal to ${aws:PrincipalTag/Department}",
       {R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"bedrock:GetCustomModel","Resource":"*",
          "Condition":{"StringEquals":{"aws:ResourceTag/Department":"${aws:PrincipalTag/Department}"}}}})"},
       "bedrock:GetCustomModel", "*",
       {{"aws:resourcetag/department", {"research"}}, {"aws:principaltag/department", {"finance"}}},
       Decision::kImplicitDeny},
  };
}

TEST(PolicyEvaluator, AwsDocumentedExamples) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(std::string(c.source) + ": " + c.what);
    std::vector<Policy> policies;
    for (size_t i = 0; i < c.policies.size(); ++i) {
      Result<Policy> p = ParsePolicy(c.policies[i], "policy" + std::to_string(i), "user");
      ASSERT_TRUE(p.ok()) << p.status().message();
      policies.push_back(std::move(*p));
    }
    AccessQuery q{c.action, c.resource, c.context};
    Evaluation e = Evaluate(policies, q);
    EXPECT_EQ(DecisionName(e.decision), DecisionName(c.want));
    EXPECT_EQ(e.deciding.has_value(), c.want != Decision::kImplicitDeny);
    if (c.deciding_sid) {
      ASSERT_TRUE(e.deciding);
      EXPECT_EQ(e.deciding->sid, c.deciding_sid);
    }
  }
}

TEST(PolicyEvaluator, TheDecidingStatementIsNamedBySidOrPosition) {
  Result<Policy> p = ParsePolicy(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},
    {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]})", "Reader", "user");
  ASSERT_TRUE(p.ok());
  Evaluation e = Evaluate({*p}, {"s3:GetObject", "arn:aws:s3:::b/k", {}});
  ASSERT_TRUE(e.deciding);
  EXPECT_EQ(e.deciding->index, 1u);
  EXPECT_EQ(e.deciding->Describe(), "Reader statement 2");
}

TEST(PolicyEvaluator, MissingContextKeysAreReportedForApplicableStatements) {
  Result<Policy> p = ParsePolicy(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"a/*"}}},
    {"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]})",
                                 "p", "user");
  ASSERT_TRUE(p.ok());
  Evaluation e = Evaluate({*p}, {"s3:ListBucket", "arn:aws:s3:::b", {}});
  EXPECT_EQ(e.decision, Decision::kImplicitDeny);
  EXPECT_EQ(e.missing_context_keys, std::vector<std::string>{"s3:prefix"});
}

TEST(PolicyEvaluator, UnknownConditionOperatorsAreMalformed) {
  Result<Policy> p = ParsePolicy(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*",
    "Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}})", "p", "user");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().aws_code(), "MalformedPolicyDocument");
  EXPECT_EQ(p.status().message(), "Invalid Condition type : StringEqualz");
  EXPECT_FALSE(ParseConditionOperator("NullIfExists"));
  EXPECT_FALSE(ParseConditionOperator("ForAnyValue:"));
  EXPECT_TRUE(ParseConditionOperator("ForAllValues:StringNotLikeIfExists"));
}

TEST(Wildcard, GreedyMatcherIsExactAndBounded) {
  EXPECT_TRUE(WildcardMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(WildcardMatch("a*b*c", "axxbyy"));
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_FALSE(WildcardMatch("?", ""));
  EXPECT_TRUE(WildcardMatch("S3:GET*", "s3:GetObject", true));
  EXPECT_FALSE(WildcardMatch("S3:GET*", "s3:GetObject", false));
  // A pattern that makes a backtracking matcher exponential: here a quadratic scan at most.
  std::string text(4000, 'a');
  EXPECT_FALSE(WildcardMatch("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
  EXPECT_FALSE(WildcardMatch("*", std::string(kMaxMatchLength + 1, 'a')));
}

TEST(Wildcard, ArnComponentsMatchSeparately) {
  EXPECT_TRUE(ArnMatch("arn:aws:s3:::*", "arn:aws:s3:::bucket/key:with:colons"));
  EXPECT_TRUE(ArnMatch("arn:aws:*", "arn:aws:iam::123456789012:role/x"));
  EXPECT_TRUE(ArnMatch("*", "not an arn"));
  EXPECT_FALSE(ArnMatch("arn:aws:s3:::bucket", "*"));
  // A '*' inside a component stays inside it.
  EXPECT_FALSE(ArnMatch("arn:aws:iam::*:role/R", "arn:aws:iam::1:2:role/R"));
  EXPECT_FALSE(ArnMatch("arn:aws:iam", "arn:aws:iam::1:role/R"));
}

TEST(ConditionDates, IsoDatesAndEpochSeconds) {
  EXPECT_EQ(ParseConditionDate("1970-01-02"), 86400000);
  EXPECT_EQ(ParseConditionDate("86400"), 86400000);
  EXPECT_EQ(ParseConditionDate("1970-01-02T00:00:00.5Z"), 86400500);
  EXPECT_FALSE(ParseConditionDate("tomorrow"));
  EXPECT_FALSE(ParseConditionDate(std::string(100, '1')));
}

}  // namespace
}  // namespace lathe::iam
