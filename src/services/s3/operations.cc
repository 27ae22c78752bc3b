// S3's operation table: botocore's s3/2006-03-01 request URIs onto S3Backend (buckets) and
// S3Objects (objects). The handlers live in bucket_operations.cc, list_operations.cc and
// object_operations.cc.
#include <optional>

#include "aws/wire.h"
#include "aws/xml.h"
#include "services/s3/errors.h"
#include "services/s3/multipart.h"
#include "services/s3/object_shapes.h"
#include "services/s3/operation_helpers.h"
#include "services/s3/service.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {

Requester RequesterOf(const RestXmlInput& in) {
  return Requester{in.context->caller.account, in.context->region, in.context->request_id,
                   in.request->remote_address};
}

Status CheckExpectedOwner(const RestXmlInput& in, const Bucket& bucket) {
  const std::string* expected = in.request->header("x-amz-expected-bucket-owner");
  if (expected && *expected != bucket.account) return AccessDenied();
  return Status::Ok();
}

Result<Bucket> RequestedBucket(S3Backend* buckets, const RestXmlInput& in) {
  Result<Bucket> bucket = buckets->GetBucket(in.context->caller.account, BucketOf(in));
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(CheckExpectedOwner(in, *bucket));
  return bucket;
}

RestXmlOutput ErrorWithHeaders(const Status& error, const RestXmlInput& in, std::vector<http::Header> headers,
                               aws::XmlErrorDetails details) {
  http::Response written;
  if (auto key = in.labels.find("Key"); key != in.labels.end()) details.insert(details.begin(), {"Key", aws::XmlText(key->second)});
  aws::WriteRestXmlError(error, *in.context, &written, details);
  RestXmlOutput out;
  out.status = written.status;
  if (in.request->method != "HEAD") {
    out.body = std::move(written.body);
    for (http::Header& h : written.headers)
      if (!http::HeaderNameEquals(h.name, "Content-Type")) out.headers.push_back(std::move(h));
  }
  for (http::Header& h : headers) out.headers.push_back(std::move(h));
  return out;
}

namespace {

// S3's answer for a bucket that lives at another endpoint, or nullopt for a request naming no
// external bucket. x-amz-bucket-region lets botocore's redirector stop after one retry, where
// without it botocore asks HeadBucket, which is redirected in turn, without end.
std::optional<RestXmlOutput> RedirectIfExternal(const std::map<std::string, ExternalBucketLocation>& external,
                                                const RestXmlInput& in) {
  auto bucket = in.labels.find("Bucket");
  if (bucket == in.labels.end()) return std::nullopt;
  auto it = external.find(bucket->second);
  if (it == external.end()) return std::nullopt;
  Status error = Status::Aws("PermanentRedirect", 301,
                             "The bucket you are attempting to access must be addressed using the specified endpoint. "
                             "Please send all future requests to this endpoint. (lathe: " + it->first +
                                 " is an external bucket, at " + it->second.endpoint + ")");
  return ErrorWithHeaders(error, in, {{"x-amz-bucket-region", it->second.region}},
                          {{"Bucket", aws::XmlText(it->first)}, {"Endpoint", aws::XmlText(it->second.endpoint)}});
}

}  // namespace

S3Service::S3Service(S3Backend* buckets, S3Objects* objects, S3Multipart* multipart,
                     std::map<std::string, ExternalBucketLocation> external_buckets)
    : external_(std::make_shared<const std::map<std::string, ExternalBucketLocation>>(std::move(external_buckets))) {
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
  SetAccessRules(S3AccessRules());
  // Every operation naming a bucket first asks whether the bucket is external.
  auto guarded = [external = external_](auto* backend, auto f) {
    return [backend, f, external](const RestXmlInput& in) -> Result<RestXmlOutput> {
      if (std::optional<RestXmlOutput> redirect = RedirectIfExternal(*external, in)) return *redirect;
      return f(backend, in);
    };
  };
  auto b = [&](Result<RestXmlOutput> (*f)(S3Backend*, const RestXmlInput&)) { return guarded(buckets, f); };
  auto o = [&](Result<RestXmlOutput> (*f)(S3Objects*, const RestXmlInput&)) { return guarded(objects, f); };
  auto m = [&](Result<RestXmlOutput> (*f)(S3Multipart*, const RestXmlInput&)) { return guarded(multipart, f); };
  Add("GET", "/", "ListBuckets", b(ListBuckets));
  Add("PUT", "/{Bucket}", "CreateBucket", b(CreateBucket));
  Add("HEAD", "/{Bucket}", "HeadBucket", b(HeadBucket));
  Add("DELETE", "/{Bucket}", "DeleteBucket", b(DeleteBucket));
  Add("GET", "/{Bucket}?location", "GetBucketLocation", b(GetBucketLocation));
  Add("PUT", "/{Bucket}?versioning", "PutBucketVersioning", b(PutBucketVersioning));
  Add("GET", "/{Bucket}?versioning", "GetBucketVersioning", b(GetBucketVersioning));
  Add("PUT", "/{Bucket}?notification", "PutBucketNotificationConfiguration", b(PutBucketNotificationConfiguration));
  Add("GET", "/{Bucket}?notification", "GetBucketNotificationConfiguration", b(GetBucketNotificationConfiguration));

  Add("GET", "/{Bucket}?list-type=2", "ListObjectsV2", o(ListObjectsV2));
  Add("GET", "/{Bucket}", "ListObjects", o(ListObjectsV1));
  Add("GET", "/{Bucket}?versions", "ListObjectVersions", o(ListObjectVersions));
  Add("POST", "/{Bucket}?delete", "DeleteObjects", o(DeleteObjects));

  // CopyObject too (x-amz-copy-source), which has no body to read.
  Add("PUT", "/{Bucket}/{Key+}", "PutObject", o(PutObject), aws::RequestBody::kStreamed);
  Add("GET", "/{Bucket}/{Key+}", "GetObject", o(GetObject));
  Add("HEAD", "/{Bucket}/{Key+}", "HeadObject", o(GetObject));
  Add("DELETE", "/{Bucket}/{Key+}", "DeleteObject", o(DeleteObject));
  Add("GET", "/{Bucket}/{Key+}?tagging", "GetObjectTagging", o(GetObjectTagging));
  Add("PUT", "/{Bucket}/{Key+}?tagging", "PutObjectTagging", o(PutObjectTagging));

  Add("POST", "/{Bucket}/{Key+}?uploads", "CreateMultipartUpload", m(CreateMultipartUpload));
  // UploadPartCopy too (x-amz-copy-source), which has no body to read.
  Add("PUT", "/{Bucket}/{Key+}?uploadId", "UploadPart", m(UploadPart), aws::RequestBody::kStreamed);
  Add("POST", "/{Bucket}/{Key+}?uploadId", "CompleteMultipartUpload", m(CompleteMultipartUpload));
  Add("DELETE", "/{Bucket}/{Key+}?uploadId", "AbortMultipartUpload", m(AbortMultipartUpload));
  Add("GET", "/{Bucket}/{Key+}?uploadId", "ListParts", m(ListParts));
  Add("GET", "/{Bucket}?uploads", "ListMultipartUploads", m(ListMultipartUploads));
}

size_t S3Service::BodyLimit(const http::Request& request) const {
  // DeleteObjects names up to 1000 keys; every other request but an upload is a small document.
  if (request.method == "POST") {
    const auto query = aws::DecodeQuery(request.query());
    if (query.count("delete")) return kMaxDeleteXmlBytes;
    // CompleteMultipartUpload names up to 10000 parts.
    if (query.count("uploadId")) return kMaxCompleteXmlBytes;
  }
  return StreamsBody(request) ? 0 : kMaxRequestXmlBytes;
}

aws::XmlErrorDetails S3Service::ErrorDetails(const Status& error, const RestXmlInput& input) const {
  static constexpr std::string_view kBucketErrors[] = {"NoSuchBucket", "BucketAlreadyExists",
                                                       "BucketAlreadyOwnedByYou", "BucketNotEmpty",
                                                       "InvalidBucketName"};
  if (auto key = input.labels.find("Key"); key != input.labels.end()) {
    if (error.aws_code() == "NoSuchKey") return {{"Key", aws::XmlText(key->second)}};
    if (error.aws_code() == "NoSuchVersion") {
      auto version = input.query.find("versionId");
      return {{"Key", aws::XmlText(key->second)},
              {"VersionId", version == input.query.end() ? "" : aws::Printable(version->second, 64)}};
    }
  }
  auto bucket = input.labels.find("Bucket");
  if (bucket == input.labels.end()) return {};
  for (std::string_view code : kBucketErrors)
    if (error.aws_code() == code) return {{"BucketName", aws::Printable(bucket->second, 255)}};
  return {};
}

}  // namespace lathe::s3
