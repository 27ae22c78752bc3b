// What IAM must allow for each S3 operation, as AWS's Service Authorization Reference for S3
// names it: object operations act on arn:aws:s3:::bucket/key, bucket operations on
// arn:aws:s3:::bucket, listing supplies s3:prefix (and s3:delimiter, s3:max-keys), a copy also
// reads its source, a versioned read or delete is the *Version action, and DeleteObjects is
// s3:DeleteObject on each key it names.
#include "services/s3/object_shapes.h"
#include "services/s3/operation_helpers.h"
#include "services/s3/service.h"

namespace lathe::s3 {
namespace {

using aws::AccessCheck;
using aws::AccessContext;
using aws::AccessRequest;
using aws::OperationView;

std::string BucketArn(const std::string& bucket) { return "arn:aws:s3:::" + bucket; }
std::string ObjectArn(const std::string& bucket, const std::string& key) { return BucketArn(bucket) + "/" + key; }

struct Rule {
  std::string_view operation, action;
  bool object;  // acts on bucket/key, else on the bucket
};
constexpr Rule kRules[] = {
    {"CreateBucket", "s3:CreateBucket", false},
    {"HeadBucket", "s3:ListBucket", false},
    {"DeleteBucket", "s3:DeleteBucket", false},
    {"GetBucketLocation", "s3:GetBucketLocation", false},
    {"PutBucketVersioning", "s3:PutBucketVersioning", false},
    {"GetBucketVersioning", "s3:GetBucketVersioning", false},
    {"PutBucketNotificationConfiguration", "s3:PutBucketNotification", false},
    {"GetBucketNotificationConfiguration", "s3:GetBucketNotification", false},
    {"ListMultipartUploads", "s3:ListBucketMultipartUploads", false},
    {"HeadObject", "s3:GetObject", true},
    {"GetObjectTagging", "s3:GetObjectTagging", true},
    {"PutObjectTagging", "s3:PutObjectTagging", true},
    {"CreateMultipartUpload", "s3:PutObject", true},
    {"CompleteMultipartUpload", "s3:PutObject", true},
    {"AbortMultipartUpload", "s3:AbortMultipartUpload", true},
    {"ListParts", "s3:ListMultipartUploadParts", true},
};

// Listing's condition keys, from its query parameters.
AccessContext ListingContext(const OperationView& op) {
  AccessContext c;
  for (const auto& [param, key] : {std::pair<const char*, const char*>{"prefix", "s3:prefix"},
                                   {"delimiter", "s3:delimiter"},
                                   {"max-keys", "s3:max-keys"}})
    if (op.query && op.query->count(param)) c[key] = {op.Query(param)};
  return c;
}

// A copy (x-amz-copy-source) also reads its source.
void AddCopySource(const OperationView& op, AccessRequest* r) {
  const std::string* header = op.request->header("x-amz-copy-source");
  if (!header) return;
  std::string bucket, key, version;
  if (!ParseCopySource(*header, &bucket, &key, &version).ok()) return;  // refused by the operation
  r->checks.push_back({version.empty() ? "s3:GetObject" : "s3:GetObjectVersion", {ObjectArn(bucket, key)}, {}});
}

AccessRequest S3Access(const OperationView& op) {
  const std::string bucket = op.Label("Bucket"), key = op.Label("Key");
  const bool versioned = op.query && op.query->count("versionId");
  for (const Rule& rule : kRules)
    if (rule.operation == op.operation)
      return aws::Require(std::string(rule.action), {rule.object ? ObjectArn(bucket, key) : BucketArn(bucket)});
  if (op.operation == "ListBuckets") return aws::Require("s3:ListAllMyBuckets");
  if (op.operation == "ListObjectsV2" || op.operation == "ListObjects")
    return aws::Require("s3:ListBucket", {BucketArn(bucket)}, ListingContext(op));
  if (op.operation == "ListObjectVersions")
    return aws::Require("s3:ListBucketVersions", {BucketArn(bucket)}, ListingContext(op));
  if (op.operation == "GetObject")
    return aws::Require(versioned ? "s3:GetObjectVersion" : "s3:GetObject", {ObjectArn(bucket, key)});
  if (op.operation == "DeleteObject")
    return aws::Require(versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject", {ObjectArn(bucket, key)});
  if (op.operation == "PutObject" || op.operation == "UploadPart") {
    AccessRequest r = aws::Require("s3:PutObject", {ObjectArn(bucket, key)});
    AddCopySource(op, &r);
    if (op.operation == "PutObject" && op.request->header("x-amz-tagging"))
      r.checks.push_back({"s3:PutObjectTagging", {ObjectArn(bucket, key)}, {}});
    return r;
  }
  if (op.operation == "DeleteObjects") {
    AccessRequest r;
    r.action = "s3:DeleteObject";
    r.resources = {BucketArn(bucket)};
    Result<DeleteRequest> request = ParseDelete(op.body);
    if (!request.ok()) return aws::Require("s3:DeleteObject", {ObjectArn(bucket, "*")});  // refused by the operation
    AccessCheck plain{"s3:DeleteObject", {}, {}}, versions{"s3:DeleteObjectVersion", {}, {}};
    for (const ObjectIdentifier& o : request->objects)
      (o.version_id.empty() ? plain : versions).resources.push_back(ObjectArn(bucket, o.key));
    for (AccessCheck* c : {&plain, &versions})
      if (!c->resources.empty()) r.checks.push_back(std::move(*c));
    return r;
  }
  return op.Default();
}

}  // namespace

aws::AccessRules S3AccessRules() { return S3Access; }

}  // namespace lathe::s3
