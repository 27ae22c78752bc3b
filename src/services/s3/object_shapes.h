// S3's XML for objects, as botocore's s3/2006-03-01 model names it: ListBucketResult (V1 and V2),
// ListVersionsResult, CopyObjectResult, DeleteResult, Tagging and VersioningConfiguration out;
// Delete, Tagging and VersioningConfiguration in (parsed within aws::ParseXmlBounded's bounds).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/rest_xml.h"
#include "services/s3/objects.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {

// DeleteObjects names up to 1000 keys of up to 1024 bytes each (escaped in XML): its body is
// bounded on its own.
inline constexpr size_t kMaxDeleteXmlBytes = 2 << 20;
// The list continuation tokens belong to (core/page_token.h).
inline constexpr std::string_view kObjectList = "s3:objects";

// encoding-type=url: S3's percent-encoding of keys in listings (everything but unreserved
// characters and '/'), which botocore undoes with unquote_plus.
std::string UrlEncodeKey(std::string_view key);

// What a listing echoes of its request.
struct ListEcho {
  std::string bucket, prefix, delimiter;
  size_t max_keys = kMaxListKeys;
  bool url_encoding = false;
  // V1: Marker; V2: StartAfter, ContinuationToken (as sent); versions: KeyMarker, VersionIdMarker.
  std::string marker, start_after, continuation_token, version_id_marker;
  bool fetch_owner = false;  // V2: Owner in each Contents
};

aws::RestXmlOutput ListObjectsV2Xml(const ObjectListing& page, const ListEcho& echo, const Owner& owner);
aws::RestXmlOutput ListObjectsV1Xml(const ObjectListing& page, const ListEcho& echo, const Owner& owner);
aws::RestXmlOutput ListVersionsXml(const VersionListing& page, const ListEcho& echo, const Owner& owner);
aws::RestXmlOutput CopyObjectResultXml(const ObjectInfo& copy);
aws::RestXmlOutput DeleteResultXml(const std::vector<DeleteOutcome>& outcomes, bool quiet);
aws::RestXmlOutput TaggingXml(const Tags& tags);
// <VersioningConfiguration/>, with <Status> once versioning was ever enabled.
aws::RestXmlOutput VersioningXml(const std::string& state);

struct DeleteRequest {
  std::vector<ObjectIdentifier> objects;
  bool quiet = false;
};
// <Delete><Object><Key/><VersionId/></Object>...<Quiet/></Delete>: MalformedXML for anything
// else, for no objects, or for more than 1000.
Result<DeleteRequest> ParseDelete(std::string_view body);
// <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>; MalformedXML otherwise.
// The tags are not validated here (ValidateTags).
Result<Tags> ParseTagging(std::string_view body);
// The x-amz-tagging header: "k1=v1&k2=v2", form-encoded. InvalidArgument when malformed.
Result<Tags> ParseTaggingHeader(std::string_view header);
// <VersioningConfiguration><Status>Enabled|Suspended</Status>[<MfaDelete/>]: the status.
Result<std::string> ParseVersioning(std::string_view body);

}  // namespace lathe::s3
