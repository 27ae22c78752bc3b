// GetCallerIdentity needs no permission: "No permissions are required to perform this
// operation" (its API reference); the audit trail still names it. Every other STS operation
// is sts:<Operation> on "*", so that one added later is not exempt by accident.
#include "services/sts/service.h"

namespace lathe::sts {

aws::AccessRequest StsAccess(const aws::OperationView& op) {
  if (op.operation != "GetCallerIdentity") return op.Default();
  aws::AccessRequest r;
  r.action = "sts:" + std::string(op.operation);
  r.resources = {"*"};
  return r;  // no checks
}

}  // namespace lathe::sts
