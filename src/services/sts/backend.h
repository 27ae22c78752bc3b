// STS's semantics without a wire format. Identities come from the gateway's authentication
// (aws::Caller); STS keeps no state of its own yet.
#pragma once

#include <string>

#include "aws/service.h"

namespace lathe::sts {

struct CallerIdentity {
  std::string account, arn, user_id;
};

// GetCallerIdentity: who signed the request.
CallerIdentity Identify(const aws::Caller& caller);

}  // namespace lathe::sts
