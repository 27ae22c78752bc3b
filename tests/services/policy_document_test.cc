#include "services/iam/policy_document.h"

#include <gtest/gtest.h>

namespace lathe::iam {
namespace {

void ExpectMalformed(std::string_view doc, PolicyKind kind, std::string_view message) {
  Status s = ValidatePolicyDocument(doc, kind);
  ASSERT_FALSE(s.ok()) << doc;
  EXPECT_EQ(s.aws_code(), "MalformedPolicyDocument") << doc;
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_EQ(s.message(), message) << doc;
}

constexpr PolicyKind kId = PolicyKind::kIdentity;
constexpr PolicyKind kTrust = PolicyKind::kTrust;

TEST(PolicyDocument, AcceptsTheTutorialsPolicies) {
  EXPECT_TRUE(ValidatePolicyDocument(R"({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]})", kTrust).ok());
  EXPECT_TRUE(ValidatePolicyDocument(R"({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"]}]})", kId).ok());
  EXPECT_TRUE(ValidatePolicyDocument(R"({"Version":"2008-10-17","Statement":{"Sid":"S1","Effect":"Deny",
    "NotAction":"iam:*","NotResource":"*","Condition":{"Bool":{"aws:SecureTransport":false},
    "StringLike":{"s3:prefix":["a/*","b/*"]}}}})", kId).ok());
  EXPECT_TRUE(ValidatePolicyDocument(R"({"Statement":[{"Effect":"Allow","Principal":"*",
    "Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]})", kTrust).ok());
}

TEST(PolicyDocument, RefusesSyntaxErrorsWithAwsMessages) {
  ExpectMalformed("{", kId, "Syntax errors in policy.");
  ExpectMalformed("[]", kId, "Syntax errors in policy.");
  ExpectMalformed(R"({"Version":"2012-10-17","Statement":[]})", kId, "Syntax errors in policy.");
  ExpectMalformed(R"({"Version":"2012-10-17","Statement":"x"})", kId, "Syntax errors in policy.");
  ExpectMalformed(R"({"Version":"2012-10-17","Extra":1,"Statement":{}})", kId, "Syntax errors in policy.");
  ExpectMalformed(R"({"Version":"2012-10-17"})", kId, "Missing required field Statement");
  ExpectMalformed(R"({"Version":"2020-01-01","Statement":{}})", kId, "The policy must contain a valid version string");
  ExpectMalformed(R"({"Statement":{"Action":"s3:*","Resource":"*"}})", kId, "Missing required field Effect");
  ExpectMalformed(R"({"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}})", kId, "Invalid effect: Maybe");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Resource":"*"}})", kId, "Policy statement must contain actions.");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}})", kId,
                  "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Action":"s3:*"}})", kId, "Policy statement must contain resources.");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}})", kId,
                  "Resource bucket must be in ARN format or \"*\".");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"x"}})", kId,
                  "Syntax errors in policy.");
  ExpectMalformed(R"({"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},
                                   {"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]})", kId,
                  "Statement IDs (SID) in a single policy must be unique.");
}

TEST(PolicyDocument, UnknownConditionOperatorsAreRefused) {
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
    "Condition":{"StringEqualsSometimes":{"aws:username":"x"}}}})", kId,
                  "Invalid Condition type : StringEqualsSometimes");
}

TEST(PolicyDocument, TrustPoliciesNeedAPrincipalAndNoResource) {
  ExpectMalformed(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"x"},
    "Action":"sts:AssumeRole","Resource":"*"}]})", kTrust, "Has prohibited field Resource");
  ExpectMalformed(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]})", kTrust,
                  "Missing required field Principal");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"sts:AssumeRole"}})", kTrust,
                  "Invalid principal in policy: \"Robot\"");
  ExpectMalformed(R"({"Statement":{"Effect":"Allow","Principal":{"Service":"x"},"Action":"s3:*","Resource":"*"}})",
                  kId, "Policy document should not specify a principal.");
}

TEST(PolicyDocument, BoundsDepthAndSizeBeforeParsing) {
  std::string deep = R"({"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":)";
  std::string nest;
  for (int i = 0; i < 100000; ++i) nest += "[";
  ExpectMalformed(deep + nest, kId, "Syntax errors in policy.");
  // Brackets inside strings do not count.
  EXPECT_TRUE(ValidatePolicyDocument(R"({"Statement":{"Sid":"","Effect":"Allow","Action":"s3:*",
    "Resource":"arn:aws:s3:::b/[[[[[[[[[[[[{{{{{{{{{{\"]]]"}})", kId).ok());
  Status huge = ValidatePolicyDocument(std::string(kMaxPolicyBytes + 1, ' '), kId);
  EXPECT_EQ(huge.aws_code(), "ValidationError");
  EXPECT_EQ(ValidatePolicyDocument("", kId).aws_code(), "ValidationError");
  // Outside the model's character range (U+0100 and above, control characters).
  EXPECT_EQ(ValidatePolicyDocument("{\"Statement\":\"\xE6\x97\xA5\"}", kId).aws_code(), "ValidationError");
  EXPECT_EQ(ValidatePolicyDocument(std::string("{\0}", 3), kId).aws_code(), "ValidationError");
  EXPECT_EQ(ValidatePolicyDocument("{\"a\":\"\xff\"}", kId).aws_code(), "MalformedPolicyDocument");
  EXPECT_EQ(PolicyQuotaChars("{ \"a\" :\n\t\"b\" }"), 9u);
}

}  // namespace
}  // namespace lathe::iam
