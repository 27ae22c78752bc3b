// The AWS managed policies lathe knows the documents of, so that attaching one to a user or group
// grants what it grants on AWS. Each document is AWS's own statement for the service lathe serves,
// abbreviated to the services lathe has (AWS's full documents also cover CloudWatch, KMS, EC2
// networking and more, which do not exist here). Roles accept any AWS managed policy name, as
// before: a role's permissions are not enforced on the jobs that use it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lathe::iam {

struct AwsManagedPolicy {
  std::string_view name;  // "AdministratorAccess"
  std::string_view path;  // "/" or "/job-function/", "/service-role/"
  std::string_view description;
  std::string_view document;
};

const std::vector<AwsManagedPolicy>& AwsManagedPolicies();
// The policy `arn` names (arn:aws:iam::aws:policy<path><name>), or nullptr.
const AwsManagedPolicy* FindAwsManagedPolicy(std::string_view arn);
std::string AwsManagedPolicyArn(const AwsManagedPolicy& policy);

}  // namespace lathe::iam
