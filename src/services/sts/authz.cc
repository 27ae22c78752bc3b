// STS's one operation needs no permission: "No permissions are required to perform this
// operation" (GetCallerIdentity's API reference); the audit trail still names it.
#include "services/sts/service.h"

namespace lathe::sts {

aws::AccessRequest StsAccess(const aws::OperationView& op) {
  aws::AccessRequest r;
  r.action = "sts:" + std::string(op.operation);
  r.resources = {"*"};
  return r;  // no checks
}

}  // namespace lathe::sts
