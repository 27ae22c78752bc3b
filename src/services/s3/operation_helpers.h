// What the S3 operation files share (bucket_operations.cc, object_operations.cc): the request's
// bucket and key, its query values, the requester, and the handlers operations.cc tables.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "aws/rest_xml.h"
#include "services/s3/backend.h"
#include "services/s3/objects.h"

namespace lathe::s3 {

using aws::RestXmlInput;
using aws::RestXmlOutput;

inline const std::string& BucketOf(const RestXmlInput& in) { return in.labels.at("Bucket"); }
inline const std::string& KeyOf(const RestXmlInput& in) { return in.labels.at("Key"); }
inline const std::string* QueryValue(const RestXmlInput& in, const char* name) {
  auto it = in.query.find(name);
  return it == in.query.end() ? nullptr : &it->second;
}
// A request header's value, "" when absent.
inline std::string HeaderOr(const RestXmlInput& in, const char* name) {
  const std::string* v = in.request->header(name);
  return v ? *v : std::string();
}
// x-amz-checksum-<algorithm> for each stored checksum ("CRC32" -> base64).
void AppendChecksumHeaders(const std::map<std::string, std::string>& checksums, std::vector<http::Header>* headers);
Requester RequesterOf(const RestXmlInput& in);
// x-amz-expected-bucket-owner: the request goes ahead only if that account owns the bucket.
Status CheckExpectedOwner(const RestXmlInput& in, const Bucket& bucket);
// GetBucket and the expected-owner check.
Result<Bucket> RequestedBucket(S3Backend* buckets, const RestXmlInput& in);

// An error answer that carries headers (S3 sends x-amz-delete-marker with a delete marker's 404
// and 405): the <Error> document, or nothing for HEAD. `details` come after the <Key> a request
// with one gets.
RestXmlOutput ErrorWithHeaders(const Status& error, const RestXmlInput& in, std::vector<http::Header> headers,
                               aws::XmlErrorDetails details = {});

// What object and multipart operations both read from headers (object_operations.cc).
// Content-* and x-amz-meta-* headers.
ObjectMetadata MetadataOf(const RestXmlInput& in);
// If-* headers, or x-amz-copy-source-if-* with that prefix.
Conditions ConditionsOf(const RestXmlInput& in, const std::string& prefix);
// x-amz-copy-source: "[/]bucket/key[?versionId=v]", the key percent-encoded.
Status ParseCopySource(const std::string& header, std::string* bucket, std::string* key, std::string* version_id);
// x-amz-tagging.
Result<Tags> TagsFromHeader(const RestXmlInput& in);

// Bucket operations (bucket_operations.cc).
Result<RestXmlOutput> ListBuckets(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> CreateBucket(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> HeadBucket(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> DeleteBucket(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> GetBucketLocation(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> PutBucketVersioning(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> GetBucketVersioning(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> PutBucketNotificationConfiguration(S3Backend* buckets, const RestXmlInput& in);
Result<RestXmlOutput> GetBucketNotificationConfiguration(S3Backend* buckets, const RestXmlInput& in);

// Listings (list_operations.cc).
Result<RestXmlOutput> ListObjectsV2(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> ListObjectsV1(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> ListObjectVersions(S3Objects* objects, const RestXmlInput& in);

// Object operations (object_operations.cc).
Result<RestXmlOutput> PutObject(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> GetObject(S3Objects* objects, const RestXmlInput& in);  // HEAD too
Result<RestXmlOutput> DeleteObject(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> DeleteObjects(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> CopyObject(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> GetObjectTagging(S3Objects* objects, const RestXmlInput& in);
Result<RestXmlOutput> PutObjectTagging(S3Objects* objects, const RestXmlInput& in);

class S3Multipart;
// Multipart operations (multipart_operations.cc).
Result<RestXmlOutput> CreateMultipartUpload(S3Multipart* multipart, const RestXmlInput& in);
Result<RestXmlOutput> UploadPart(S3Multipart* multipart, const RestXmlInput& in);  // UploadPartCopy too
Result<RestXmlOutput> CompleteMultipartUpload(S3Multipart* multipart, const RestXmlInput& in);
Result<RestXmlOutput> AbortMultipartUpload(S3Multipart* multipart, const RestXmlInput& in);
Result<RestXmlOutput> ListParts(S3Multipart* multipart, const RestXmlInput& in);
Result<RestXmlOutput> ListMultipartUploads(S3Multipart* multipart, const RestXmlInput& in);

}  // namespace lathe::s3
