// S3's bucket operations: botocore's s3/2006-03-01 bucket requests onto S3Backend.
#include "aws/wire.h"
#include "core/page_token.h"
#include "services/s3/errors.h"
#include "services/s3/notifications.h"
#include "services/s3/names.h"
#include "services/s3/object_shapes.h"
#include "services/s3/operation_helpers.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {
namespace {

Result<size_t> MaxBuckets(const std::string& text) {
  Status invalid = InvalidArgument("max-buckets must be an integer between 1 and " + std::to_string(kMaxListBuckets) +
                                   ", not '" + aws::Printable(text, 32) + "'");
  if (text.empty() || text.size() > 5) return invalid;
  size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return invalid;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n < 1 || n > kMaxListBuckets) return invalid;
  return n;
}

}  // namespace

Result<RestXmlOutput> ListBuckets(S3Backend* backend, const RestXmlInput& in) {
  ListBucketsInput list;
  list.account = in.context->caller.account;
  bool any_parameter = false;
  if (const std::string* v = QueryValue(in, "max-buckets")) {
    Result<size_t> n = MaxBuckets(*v);
    if (!n.ok()) return n.status();
    list.max_buckets = *n;
    any_parameter = true;
  }
  if (const std::string* v = QueryValue(in, "continuation-token")) {
    std::optional<std::string> position = DecodePageToken(kBucketList, *v);
    if (!position) return Status::Aws("InvalidArgument", 400, "The continuation token provided is incorrect");
    list.continuation_token = *position;
    any_parameter = true;
  }
  if (const std::string* v = QueryValue(in, "prefix")) {
    list.prefix = *v;
    any_parameter = true;
  }
  if (const std::string* v = QueryValue(in, "bucket-region")) {
    list.bucket_region = *v;
    any_parameter = true;
  }
  Result<BucketPage> page = backend->ListBuckets(list);
  if (!page.ok()) return page.status();
  return ListBucketsXml(*page, OwnerOf(list.account), list.prefix, any_parameter);
}

Result<RestXmlOutput> CreateBucket(S3Backend* backend, const RestXmlInput& in) {
  CreateBucketInput create;
  create.account = in.context->caller.account;
  create.name = BucketOf(in);
  create.request_region = in.context->region;
  // The name first: S3 judges the name before the body.
  LATHE_RETURN_IF_ERROR(ValidateBucketName(create.name));
  Result<std::optional<std::string>> constraint = ParseCreateBucketConfiguration(in.body);
  if (!constraint.ok()) return constraint.status();
  create.location_constraint = *constraint;
  Result<Bucket> bucket = backend->CreateBucket(create);
  if (!bucket.ok()) return bucket.status();
  RestXmlOutput out;
  out.headers.push_back({"Location", "/" + bucket->name});
  return out;
}

Result<RestXmlOutput> HeadBucket(S3Backend* backend, const RestXmlInput& in) {
  Result<Bucket> bucket = backend->GetBucket(in.context->caller.account, BucketOf(in));
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(CheckExpectedOwner(in, *bucket));
  RestXmlOutput out;
  out.headers.push_back({"x-amz-bucket-region", bucket->region});
  out.headers.push_back({"x-amz-access-point-alias", "false"});
  return out;
}

Result<RestXmlOutput> DeleteBucket(S3Backend* backend, const RestXmlInput& in) {
  Result<Bucket> bucket = backend->GetBucket(in.context->caller.account, BucketOf(in));
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(CheckExpectedOwner(in, *bucket));
  LATHE_RETURN_IF_ERROR(backend->DeleteBucket(in.context->caller.account, BucketOf(in)));
  RestXmlOutput out;
  out.status = 204;
  return out;
}

Result<RestXmlOutput> GetBucketLocation(S3Backend* backend, const RestXmlInput& in) {
  Result<Bucket> bucket = backend->GetBucket(in.context->caller.account, BucketOf(in));
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(CheckExpectedOwner(in, *bucket));
  return LocationXml(*bucket);
}

Result<RestXmlOutput> PutBucketVersioning(S3Backend* buckets, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(buckets, in);
  if (!bucket.ok()) return bucket.status();
  Result<std::string> state = ParseVersioning(in.body);
  if (!state.ok()) return state.status();
  LATHE_RETURN_IF_ERROR(buckets->SetVersioning(in.context->caller.account, BucketOf(in), *state));
  return RestXmlOutput{};
}

Result<RestXmlOutput> GetBucketVersioning(S3Backend* buckets, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(buckets, in);
  if (!bucket.ok()) return bucket.status();
  return VersioningXml(bucket->versioning);
}

Result<RestXmlOutput> PutBucketNotificationConfiguration(S3Backend* buckets, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(buckets, in);
  if (!bucket.ok()) return bucket.status();
  Result<NotificationConfiguration> config = ParseNotificationConfiguration(in.body);
  if (!config.ok()) return config.status();
  LATHE_RETURN_IF_ERROR(
      buckets->SetNotifications(in.context->caller.account, BucketOf(in), NotificationConfigurationToJson(*config)));
  return RestXmlOutput{};
}

Result<RestXmlOutput> GetBucketNotificationConfiguration(S3Backend* buckets, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(buckets, in);
  if (!bucket.ok()) return bucket.status();
  return NotificationConfigurationXml(NotificationConfigurationFromJson(bucket->notifications));
}

}  // namespace lathe::s3
