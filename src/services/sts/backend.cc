#include "services/sts/backend.h"

#include "core/arn.h"

namespace lathe::sts {

CallerIdentity Identify(const aws::Caller& caller) {
  CallerIdentity id{caller.account, caller.arn, caller.user_id};
  // The account root's UserId is the account number itself (AWS answers it so).
  if (id.user_id.empty()) id.user_id = caller.account;
  if (id.arn.empty()) id.arn = RootArn(caller.account);
  return id;
}

}  // namespace lathe::sts
