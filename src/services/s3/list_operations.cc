// ListObjectsV2, ListObjects (V1) and ListObjectVersions on the wire: query parameters in,
// ListBucketResult / ListVersionsResult out (object_shapes.h).
#include "aws/wire.h"
#include "core/page_token.h"
#include "services/s3/errors.h"
#include "services/s3/object_shapes.h"
#include "services/s3/operation_helpers.h"

namespace lathe::s3 {
namespace {

// max-keys: 0..1000; S3 answers at most 1000 whatever larger number is asked for.
Result<size_t> MaxKeys(const RestXmlInput& in) {
  const std::string* v = QueryValue(in, "max-keys");
  if (!v) return kMaxListKeys;
  Status invalid = InvalidArgument("Provided max-keys not an integer or within integer range: '" +
                                   aws::Printable(*v, 32) + "'");
  if (v->empty() || v->size() > 10) return invalid;
  size_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return invalid;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return std::min(n, kMaxListKeys);
}

// The parameters every listing shares; their bucket checked (owner, expected owner).
Result<ListEcho> CommonParameters(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  ListEcho echo;
  echo.bucket = BucketOf(in);
  if (const std::string* v = QueryValue(in, "prefix")) echo.prefix = *v;
  if (const std::string* v = QueryValue(in, "delimiter")) echo.delimiter = *v;
  if (const std::string* v = QueryValue(in, "encoding-type")) {
    if (*v != "url") return InvalidArgument("Invalid Encoding Method specified in Request");
    echo.url_encoding = true;
  }
  Result<size_t> max_keys = MaxKeys(in);
  if (!max_keys.ok()) return max_keys.status();
  echo.max_keys = *max_keys;
  return echo;
}

ListObjectsInput ListInput(const RestXmlInput& in, const ListEcho& echo) {
  ListObjectsInput list;
  list.account = in.context->caller.account;
  list.bucket = echo.bucket;
  list.prefix = echo.prefix;
  list.delimiter = echo.delimiter;
  list.max_keys = echo.max_keys;
  return list;
}

}  // namespace

Result<RestXmlOutput> ListObjectsV2(S3Objects* objects, const RestXmlInput& in) {
  Result<ListEcho> echo = CommonParameters(objects, in);
  if (!echo.ok()) return echo.status();
  ListObjectsInput list = ListInput(in, *echo);
  if (const std::string* v = QueryValue(in, "start-after")) echo->start_after = *v;
  if (const std::string* v = QueryValue(in, "fetch-owner")) echo->fetch_owner = *v == "true";
  if (const std::string* v = QueryValue(in, "continuation-token")) {
    std::optional<std::string> position = DecodePageToken(kObjectList, *v);
    if (!position) return InvalidArgument("The continuation token provided is incorrect");
    echo->continuation_token = *v;
    list.after = *position;  // StartAfter only counts on the first page
  } else {
    list.after = echo->start_after;
  }
  Result<ObjectListing> page = objects->ListObjects(list);
  if (!page.ok()) return page.status();
  return ListObjectsV2Xml(*page, *echo, OwnerOf(list.account));
}

Result<RestXmlOutput> ListObjectsV1(S3Objects* objects, const RestXmlInput& in) {
  Result<ListEcho> echo = CommonParameters(objects, in);
  if (!echo.ok()) return echo.status();
  ListObjectsInput list = ListInput(in, *echo);
  if (const std::string* v = QueryValue(in, "marker")) echo->marker = list.after = *v;
  Result<ObjectListing> page = objects->ListObjects(list);
  if (!page.ok()) return page.status();
  return ListObjectsV1Xml(*page, *echo, OwnerOf(list.account));
}

Result<RestXmlOutput> ListObjectVersions(S3Objects* objects, const RestXmlInput& in) {
  Result<ListEcho> echo = CommonParameters(objects, in);
  if (!echo.ok()) return echo.status();
  ListVersionsInput list;
  list.account = in.context->caller.account;
  list.bucket = echo->bucket;
  list.prefix = echo->prefix;
  list.delimiter = echo->delimiter;
  list.max_keys = echo->max_keys;
  if (const std::string* v = QueryValue(in, "key-marker")) echo->marker = list.key_marker = *v;
  if (const std::string* v = QueryValue(in, "version-id-marker")) echo->version_id_marker = list.version_id_marker = *v;
  Result<VersionListing> page = objects->ListObjectVersions(list);
  if (!page.ok()) return page.status();
  return ListVersionsXml(*page, *echo, OwnerOf(list.account));
}

}  // namespace lathe::s3
