// SNS on lathe's endpoint (signing name "sns", query protocol, API version 2010-03-31).
// Besides the signed API it answers three unsigned GETs, as AWS's SNS does for the links in its
// messages (aws::Service::ServesUnsigned): the SubscribeURL
// (/?Action=ConfirmSubscription&TopicArn=..&Token=..), the UnsubscribeURL
// (/?Action=Unsubscribe&SubscriptionArn=..) and the SigningCertURL
// (/SimpleNotificationService-<id>.pem). Nothing else is served without a signature.
#pragma once

#include <memory>

#include "aws/query_protocol.h"
#include "services/sns/backend.h"
#include "services/sns/signing.h"

namespace lathe::sns {

// What IAM must allow per operation (authz.cc).
aws::AccessRequest SnsAccess(const aws::OperationView& op);

// The operation table over `backend`; `key` serves the certificate. Both outlive the service.
std::unique_ptr<aws::QueryService> NewSnsService(SnsBackend* backend, const SigningKey* key);

}  // namespace lathe::sns
