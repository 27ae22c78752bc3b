// What a role may do when a job acts with it: a Bedrock customization or evaluation job reads its
// data and writes its outputs as its role (service/job_data_locations.h's RoleAccess), so the
// role's own identity policies — inline and attached, by the evaluator enforcement uses — bound
// it. Roles lathe's IAM does not hold (the tutorials' role ARNs, never created in lathe) bound
// nothing: such jobs behave as before roles were evaluated.
#pragma once

#include <string>

#include "services/iam/backend.h"

namespace lathe::iam {

// "" when `role_arn` may do `action` on `resource` for a job of `account`, or when `account`
// holds no such role; otherwise AWS's refusal ("User: arn:aws:iam::...:role/R is not authorized
// to perform: s3:PutObject on resource: ... because no identity-based policy allows ...").
// A role whose policies cannot be read is refused (closed). The condition keys supplied are the
// principal's (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType AssumedRole).
std::string RoleRefusal(IamBackend* iam, const std::string& account, const std::string& role_arn,
                        const std::string& action, const std::string& resource);

}  // namespace lathe::iam
