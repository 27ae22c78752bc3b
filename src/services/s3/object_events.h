// The EventBridge events S3 sends for object changes (Amazon S3 User Guide, "EventBridge event
// message structure"): source "aws.s3", detail-type "Object Created" / "Object Deleted", the
// bucket ARN as the resource, and a detail naming the bucket, the object, the request and why.
#pragma once

#include <string>

#include "services/s3/objects.h"
#include "store/metadata_store.h"

namespace lathe::s3 {

// reason: "PutObject", "CopyObject", "CompleteMultipartUpload".
store::OutboxEvent ObjectCreatedEvent(const Requester& requester, const ObjectInfo& object, const char* reason);
// `object` is the version removed or the delete marker created (deletion-type "Permanently
// Deleted" or "Delete Marker Created"); reason "DeleteObject".
store::OutboxEvent ObjectDeletedEvent(const Requester& requester, const ObjectInfo& object, bool marker_created);

}  // namespace lathe::s3
