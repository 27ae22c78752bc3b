// What IAM must allow for each SageMaker Model Registry operation (AWS's Service Authorization
// Reference for SageMaker): sagemaker:<Operation> on the model package group
// (arn:aws:sagemaker:<region>:<account>:model-package-group/<name>, lower-cased as SageMaker's
// ARNs are) or the model package ARN given; "*" for the lists. A package named "<group>/<version>"
// acts on arn:...:model-package/<group>/<version>.
#include <cctype>

#include "aws/rest_json.h"
#include "core/arn.h"
#include "services/sagemaker/service.h"

namespace lathe::sagemaker {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

aws::AccessRequest SageMakerAccess(const aws::OperationView& op) {
  const std::string& region = op.context->region;
  const std::string& account = op.context->caller.account;
  std::string resource;
  std::string group = op.BodyMember("ModelPackageGroupName");
  std::string package = op.BodyMember("ModelPackageName");
  if (package.empty()) package = op.BodyMember("ModelPackageArn");
  if (op.operation == "ListModelPackages") group.clear();  // a filter, not the resource acted on
  if (package.compare(0, 4, "arn:") == 0) resource = package;
  else if (!package.empty()) resource = MakeArn("sagemaker", region, account, "model-package/" + Lower(package));
  else if (group.compare(0, 4, "arn:") == 0) resource = group;
  else if (!group.empty()) resource = MakeArn("sagemaker", region, account, "model-package-group/" + Lower(group));
  return aws::Require("sagemaker:" + std::string(op.operation), {resource.empty() ? "*" : resource});
}

}  // namespace lathe::sagemaker
