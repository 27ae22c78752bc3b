// The multipart operations on the wire: CreateMultipartUpload, UploadPart (and UploadPartCopy,
// which shares its route), CompleteMultipartUpload, AbortMultipartUpload, ListParts and
// ListMultipartUploads, onto S3Multipart.
#include <algorithm>

#include "aws/wire.h"
#include "core/page_token.h"
#include "services/s3/errors.h"
#include "services/s3/multipart.h"
#include "services/s3/multipart_shapes.h"
#include "services/s3/object_shapes.h"
#include "services/s3/operation_helpers.h"
#include "services/s3/shapes.h"
#include "services/s3/upload_body.h"

namespace lathe::s3 {
namespace {

UploadRef RefOf(const RestXmlInput& in) {
  const std::string* id = QueryValue(in, "uploadId");
  return UploadRef{RequesterOf(in), BucketOf(in), KeyOf(in), id ? *id : std::string()};
}

// max-parts / max-uploads: 0..1000 (S3 caps larger values at 1000).
Result<size_t> MaxOf(const RestXmlInput& in, const char* name) {
  const std::string* v = QueryValue(in, name);
  if (!v) return kMaxListParts;
  Status invalid = InvalidArgument(std::string(name) + " must be a non-negative integer, not '" + aws::Printable(*v, 32) + "'");
  if (v->empty() || v->size() > 9) return invalid;
  size_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return invalid;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return std::min(n, kMaxListParts);
}

}  // namespace

Result<RestXmlOutput> CreateMultipartUpload(S3Multipart* multipart, const RestXmlInput& in) {
  CreateUploadInput create;
  create.requester = RequesterOf(in);
  create.bucket = BucketOf(in);
  create.key = KeyOf(in);
  Result<Bucket> bucket = RequestedBucket(multipart->objects()->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  create.metadata = MetadataOf(in);
  Result<Tags> tags = TagsFromHeader(in);
  if (!tags.ok()) return tags.status();
  create.tags = std::move(*tags);
  create.checksum_algorithm = HeaderOr(in, "x-amz-checksum-algorithm");
  create.checksum_type = HeaderOr(in, "x-amz-checksum-type");
  Result<UploadInfo> upload = multipart->Create(create);
  if (!upload.ok()) return upload.status();
  return InitiateMultipartUploadXml(*upload);
}

Result<RestXmlOutput> UploadPart(S3Multipart* multipart, const RestXmlInput& in) {
  const std::string* number_text = QueryValue(in, "partNumber");
  if (!number_text) return InvalidArgument("UploadPart needs partNumber");
  Result<int> number = ParsePartNumber(*number_text);
  if (!number.ok()) return number.status();
  UploadRef ref = RefOf(in);
  if (const std::string* source = in.request->header("x-amz-copy-source")) {
    GetObjectInput read;
    read.requester = ref.requester;
    LATHE_RETURN_IF_ERROR(ParseCopySource(*source, &read.bucket, &read.key, &read.version_id));
    read.conditions = ConditionsOf(in, "x-amz-copy-source-");
    if (const std::string* range = in.request->header("x-amz-copy-source-range")) read.range = *range;
    Result<PartInfo> part = multipart->UploadPartCopy(ref, *number, read);
    if (!part.ok()) return part.status();
    return CopyPartResultXml(*part);
  }
  // NoSuchUpload (and the bucket's errors) before a byte of the body is read.
  Result<UploadInfo> upload = multipart->Check(ref);
  if (!upload.ok()) return upload.status();
  Result<std::unique_ptr<ObjectBody>> body = multipart->objects()->NewBody(Md5Source::kGivenByCaller);
  if (!body.ok()) return body.status();
  std::map<std::string, std::string> checksums;
  LATHE_RETURN_IF_ERROR(ReadUploadBody(in, body->get(), &checksums));
  Result<PartInfo> part = multipart->UploadPart(ref, *number, std::move(*body), checksums);
  if (!part.ok()) return part.status();
  RestXmlOutput out;
  out.headers.push_back({"ETag", QuotedEtag(part->etag)});
  AppendChecksumHeaders(part->checksums, &out.headers);
  return out;
}

Result<RestXmlOutput> CompleteMultipartUpload(S3Multipart* multipart, const RestXmlInput& in) {
  UploadRef ref = RefOf(in);
  Result<std::vector<CompletedPart>> parts = ParseCompleteMultipartUpload(in.body);
  if (!parts.ok()) return parts.status();
  Result<ObjectInfo> object = multipart->Complete(ref, *parts);
  if (!object.ok()) return object.status();
  RestXmlOutput out = CompleteMultipartUploadXml(*object, "/" + UrlEncodeKey(ref.bucket) + "/" + UrlEncodeKey(ref.key));
  if (object->version_id != store::kNullVersionId) out.headers.push_back({"x-amz-version-id", object->version_id});
  return out;
}

Result<RestXmlOutput> AbortMultipartUpload(S3Multipart* multipart, const RestXmlInput& in) {
  LATHE_RETURN_IF_ERROR(multipart->Abort(RefOf(in)));
  RestXmlOutput out;
  out.status = 204;
  return out;
}

Result<RestXmlOutput> ListParts(S3Multipart* multipart, const RestXmlInput& in) {
  Result<size_t> max = MaxOf(in, "max-parts");
  if (!max.ok()) return max.status();
  int marker = 0;
  if (const std::string* v = QueryValue(in, "part-number-marker"); v && !v->empty()) {
    if (*v != "0") {
      Result<int> n = ParsePartNumber(*v);
      if (!n.ok()) return n.status();
      marker = *n;
    }
  }
  Result<PartListing> listing = multipart->ListParts(RefOf(in), marker, *max);
  if (!listing.ok()) return listing.status();
  return ListPartsXml(*listing, marker, *max, OwnerOf(in.context->caller.account));
}

Result<RestXmlOutput> ListMultipartUploads(S3Multipart* multipart, const RestXmlInput& in) {
  ListUploadsInput list;
  list.requester = RequesterOf(in);
  list.bucket = BucketOf(in);
  Result<Bucket> bucket = RequestedBucket(multipart->objects()->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  Result<size_t> max = MaxOf(in, "max-uploads");
  if (!max.ok()) return max.status();
  list.max_uploads = *max;
  ListUploadsEcho echo;
  for (auto [name, field, echoed] : {std::tuple{"prefix", &list.prefix, &echo.prefix},
                                     std::tuple{"delimiter", &list.delimiter, &echo.delimiter},
                                     std::tuple{"key-marker", &list.key_marker, &echo.key_marker},
                                     std::tuple{"upload-id-marker", &list.upload_id_marker, &echo.upload_id_marker}}) {
    if (const std::string* v = QueryValue(in, name)) {
      if (v->size() > kMaxKeyBytes) return InvalidArgument(std::string(name) + " is longer than 1024 bytes");
      *field = *echoed = *v;
    }
  }
  if (const std::string* v = QueryValue(in, "encoding-type")) {
    if (*v != "url") return InvalidArgument("Invalid Encoding Method specified in Request");
    echo.url_encoding = true;
  }
  echo.bucket = list.bucket;
  echo.max_uploads = list.max_uploads;
  Result<UploadListing> listing = multipart->ListUploads(list);
  if (!listing.ok()) return listing.status();
  return ListMultipartUploadsXml(*listing, echo, OwnerOf(in.context->caller.account));
}

}  // namespace lathe::s3
