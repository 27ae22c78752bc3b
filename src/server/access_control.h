// `lathe serve`'s AccessControl (aws/access.h): IAM decides (services/iam/enforcement.h) and
// every call lands in the audit trail (services/iam/audit_trail.h); calls that change something
// are also EventBridge events, "AWS API Call via CloudTrail", as CloudTrail delivers them.
#pragma once

#include <functional>
#include <memory>

#include "aws/access.h"
#include "services/iam/audit_trail.h"
#include "services/iam/enforcement.h"
#include "store/metadata_store.h"

namespace lathe::server {

class ServerAccessControl : public aws::AccessControl {
 public:
  // All outlive this. `trail` may be null (no audit trail); `store` receives the EventBridge
  // events (null: none).
  ServerAccessControl(iam::IamBackend* iam, iam::AuditTrail* trail, store::MetadataStore* store)
      : enforcer_(iam, ResourceTags(store)), trail_(trail), store_(store) {}
  std::optional<std::string> Authorize(const aws::RequestContext& context, const http::Request& request,
                                       const aws::AccessRequest& access) override;
  void Record(const aws::RequestContext& context, const http::Request& request, const aws::AccessRequest& access,
              int http_status, std::string_view error_code) override;

 private:
  // aws:ResourceTag/<key> from the tags the services keep by ARN in `store`.
  static iam::ResourceTagLookup ResourceTags(store::MetadataStore* store);

  iam::Enforcer enforcer_;
  iam::AuditTrail* trail_;
  store::MetadataStore* store_;
};

// The "AWS API Call via CloudTrail" event of a record, or nullopt when CloudTrail would not send
// one: read-only calls, S3's object-level data events, and calls that never reached a service.
std::optional<store::OutboxEvent> CloudTrailEvent(const iam::AuditRecord& record);

}  // namespace lathe::server
