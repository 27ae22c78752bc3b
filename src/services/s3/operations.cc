// S3's operation table: botocore's s3/2006-03-01 request URIs onto S3Backend.
#include "aws/wire.h"
#include "core/page_token.h"
#include "services/s3/errors.h"
#include "services/s3/names.h"
#include "services/s3/service.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {
using aws::RestXmlInput;
using aws::RestXmlOutput;

namespace {

const std::string& BucketOf(const RestXmlInput& in) { return in.labels.at("Bucket"); }

const std::string* QueryValue(const RestXmlInput& in, const char* name) {
  auto it = in.query.find(name);
  return it == in.query.end() ? nullptr : &it->second;
}

// x-amz-expected-bucket-owner: the request goes ahead only if that account owns the bucket.
Status CheckExpectedOwner(const RestXmlInput& in, const Bucket& bucket) {
  const std::string* expected = in.request->header("x-amz-expected-bucket-owner");
  if (expected && *expected != bucket.account) return AccessDenied();
  return Status::Ok();
}

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

}  // namespace

S3Service::S3Service(S3Backend* backend) {
  // Every subresource of botocore's s3/2006-03-01 request URIs, and uploadId (multipart uploads):
  // a request for one lathe lacks is NotImplemented, never answered by a plain operation.
  AddSubresourceKeys({"abac", "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
                      "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "list-type", "location",
                      "logging", "metadataConfiguration", "metadataInventoryTable", "metadataJournalTable",
                      "metadataTable", "metrics", "notification", "object-lock", "ownershipControls", "policy",
                      "policyStatus", "publicAccessBlock", "renameObject", "replication", "requestPayment",
                      "restore", "retention", "select", "select-type", "session", "tagging", "torrent", "uploads",
                      "uploadId", "versioning", "versions", "website"});
  // bucket.localhost:PORT, as the issue asks; s3.localhost too, so a client whose endpoint is
  // http://s3.localhost:PORT can address buckets either way.
  SetVirtualHostBases({"s3.localhost", "localhost"});
  Add("GET", "/", "ListBuckets", [backend](const RestXmlInput& in) { return ListBuckets(backend, in); });
  Add("PUT", "/{Bucket}", "CreateBucket", [backend](const RestXmlInput& in) { return CreateBucket(backend, in); });
  Add("HEAD", "/{Bucket}", "HeadBucket", [backend](const RestXmlInput& in) { return HeadBucket(backend, in); });
  Add("DELETE", "/{Bucket}", "DeleteBucket", [backend](const RestXmlInput& in) { return DeleteBucket(backend, in); });
  Add("GET", "/{Bucket}?location", "GetBucketLocation",
      [backend](const RestXmlInput& in) { return GetBucketLocation(backend, in); });
}

size_t S3Service::BodyLimit(const http::Request& request) const {
  return StreamsBody(request) ? 0 : kMaxRequestXmlBytes;
}

aws::XmlErrorDetails S3Service::ErrorDetails(const Status& error, const RestXmlInput& input) const {
  static constexpr std::string_view kBucketErrors[] = {"NoSuchBucket", "BucketAlreadyExists",
                                                       "BucketAlreadyOwnedByYou", "BucketNotEmpty",
                                                       "InvalidBucketName"};
  auto bucket = input.labels.find("Bucket");
  if (bucket == input.labels.end()) return {};
  for (std::string_view code : kBucketErrors)
    if (error.aws_code() == code) return {{"BucketName", aws::Printable(bucket->second, 255)}};
  return {};
}

}  // namespace lathe::s3
