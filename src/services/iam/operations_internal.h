// What IAM's operation files share: a way to add operations to the one IamService table, and
// the members most operations read. Each file maps one part of IAM's wire onto the backend.
#pragma once

#include <functional>
#include <string>

#include "aws/query_protocol.h"
#include "services/iam/backend.h"

namespace lathe::iam {

using AddOperation = std::function<void(std::string action, aws::QueryHandler handler, bool has_result)>;

void AddUserOperations(IamBackend* iam, const AddOperation& add);    // operations_users.cc
void AddGroupOperations(IamBackend* iam, const AddOperation& add);   // operations_groups.cc
void AddPolicyOperations(IamBackend* iam, const AddOperation& add);  // operations_policies.cc
void AddSimulateOperations(IamBackend* iam, const AddOperation& add);  // operations_simulate.cc

// The backend's policy methods of one kind of policy holder (users, groups).
struct HolderPolicyMethods {
  using Attachment = Status (IamBackend::*)(const std::string&, const std::string&, const std::string&);
  std::string kind;  // "User": PutUserPolicy, ..., UserName
  Status (IamBackend::*put)(const std::string&, const std::string&, const std::string&, const std::string&);
  Result<std::string> (IamBackend::*get)(const std::string&, const std::string&, const std::string&);
  Result<Page<std::string>> (IamBackend::*list)(const std::string&, const std::string&, const ListOptions&);
  Status (IamBackend::*del)(const std::string&, const std::string&, const std::string&);
  Attachment attach, detach;
  Result<Page<AttachedPolicy>> (IamBackend::*list_attached)(const std::string&, const std::string&, const ListOptions&);
};
// Put/Get/List/Delete<Kind>Policy, Attach/Detach<Kind>Policy, ListAttached<Kind>Policies
// (operations_holder_policies.cc).
void AddHolderPolicyOperations(IamBackend* iam, const AddOperation& add, const HolderPolicyMethods& methods);

// The member `name`, or QueryMissingParameter.
Result<std::string> Member(const aws::QueryParams& params, std::string_view name);
// UserName when given, else the name of the IAM user who signed the request (AWS's rule for
// GetUser and the access key operations); InvalidInput for the account's administrator key,
// which is no IAM user here.
Result<std::string> UserNameOrCaller(const aws::QueryParams& params, const aws::RequestContext& ctx);
// The IAM user name in a user ARN (arn:aws:iam::<account>:user/<path>/<name>), or "".
std::string UserNameFromArn(std::string_view arn);

}  // namespace lathe::iam
