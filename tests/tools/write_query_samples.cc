// Writes IAM and STS responses as lathe serialises them into a folder, one file per case
// (<operation>.<http status>.xml), for tests/aws/parse_with_botocore.py to read with botocore's own
// QueryParser. Usage: write_query_samples OUT_DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "services/iam/service.h"
#include "services/sts/service.h"
#include "store/metadata_store.h"

using namespace lathe;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_query_samples OUT_DIR\n");
    return 2;
  }
  const std::string out = argv[1];
  auto store = store::MetadataStore::Open(out + "/samples.db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  iam::IamBackend backend(store->get());
  auto iam_service = iam::NewIamService(&backend);
  auto sts_service = sts::NewStsService();
  aws::RequestContext ctx;
  ctx.request_id = "4a2b8c7e-0000-4000-8000-000000000001";
  ctx.region = "us-east-1";
  ctx.caller = {"LATHEKEY", "123456789012", "arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLEUSERID0001"};
  auto call = [&](aws::QueryService* service, const std::string& name, const std::string& form) {
    ctx.service = std::string(service->signing_name());
    http::Response r;
    service->ServeForm(ctx, "", form, &r);
    std::ofstream(out + "/" + name + "." + std::to_string(r.status) + ".xml", std::ios::binary) << r.body;
  };
  const std::string trust =
      "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal"
      "%22%3A%7B%22Service%22%3A%22bedrock.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
  const std::string s3 =
      "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B"
      "%22s3%3AGetObject%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F*%22%7D%7D";
  call(iam_service.get(), "CreateRole",
       "Action=CreateRole&Version=2010-05-08&RoleName=BedrockFineTuningRole&Description=fine-tuning&"
       "Tags.member.1.Key=team&Tags.member.1.Value=ml&AssumeRolePolicyDocument=" + trust);
  call(iam_service.get(), "GetRole", "Action=GetRole&Version=2010-05-08&RoleName=BedrockFineTuningRole");
  call(iam_service.get(), "PutRolePolicy",
       "Action=PutRolePolicy&Version=2010-05-08&RoleName=BedrockFineTuningRole&PolicyName=BedrockS3Access&"
       "PolicyDocument=" + s3);
  call(iam_service.get(), "GetRolePolicy",
       "Action=GetRolePolicy&Version=2010-05-08&RoleName=BedrockFineTuningRole&PolicyName=BedrockS3Access");
  call(iam_service.get(), "ListRolePolicies", "Action=ListRolePolicies&Version=2010-05-08&RoleName=BedrockFineTuningRole");
  call(iam_service.get(), "AttachRolePolicy",
       "Action=AttachRolePolicy&Version=2010-05-08&RoleName=BedrockFineTuningRole&"
       "PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAmazonS3FullAccess");
  call(iam_service.get(), "ListAttachedRolePolicies",
       "Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=BedrockFineTuningRole");
  call(iam_service.get(), "CreateRole-second",
       "Action=CreateRole&Version=2010-05-08&RoleName=Second&AssumeRolePolicyDocument=" + trust);
  call(iam_service.get(), "ListRoles", "Action=ListRoles&Version=2010-05-08&MaxItems=1");
  call(iam_service.get(), "DeleteRole", "Action=DeleteRole&Version=2010-05-08&RoleName=BedrockFineTuningRole");
  call(iam_service.get(), "GetRole", "Action=GetRole&Version=2010-05-08&RoleName=Missing");
  call(sts_service.get(), "GetCallerIdentity", "Action=GetCallerIdentity&Version=2011-06-15");
  return 0;
}
