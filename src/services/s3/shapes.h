// S3's XML bodies for buckets: what botocore's RestXMLSerializer sends and its RestXMLParser
// (and GetBucketLocation's own handler) reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aws/rest_xml.h"
#include "services/s3/backend.h"

namespace lathe::s3 {

// Request XML bodies are small: bounded before parsing (aws::ParseXmlBounded).
inline constexpr size_t kMaxRequestXmlBytes = 64 << 10;
inline constexpr size_t kMaxRequestXmlDepth = 8;
// The list ListBuckets' continuation tokens belong to (core/page_token.h).
inline constexpr std::string_view kBucketList = "s3:buckets";

// An ETag as S3 writes it (headers and XML alike): the stored hex in double quotes.
inline std::string QuotedEtag(const std::string& etag) { return "\"" + etag + "\""; }
// S3's x-amz-checksum-type of a stored checksum: a multipart object's checksum of its parts'
// checksums ("<base64>-<parts>") is COMPOSITE, any other is of the whole object.
inline const char* ChecksumTypeOf(const std::string& value) {
  return value.find('-') != std::string::npos ? "COMPOSITE" : "FULL_OBJECT";
}

// XML text without the whitespace around it (element values in request bodies).
std::string_view TrimXmlSpace(std::string_view s);

// <CreateBucketConfiguration><LocationConstraint>ap-south-1</LocationConstraint>...: the
// constraint, or nullopt for an empty body or an empty element. MalformedXML for anything that
// is not that document; NotImplemented for its directory-bucket and tag members.
Result<std::optional<std::string>> ParseCreateBucketConfiguration(std::string_view body);

// The owner S3 reports for an account: a 64-hex canonical user id derived from it, and the
// account as display name.
struct Owner {
  std::string id, display_name;
};
Owner OwnerOf(const std::string& account);

// <ListAllMyBucketsResult><Owner/><Buckets><Bucket>...</Bucket></Buckets>[<ContinuationToken/>
// <Prefix/>]. `with_regions`: each Bucket carries BucketRegion (AWS adds it once a request sends
// any ListBuckets parameter).
aws::RestXmlOutput ListBucketsXml(const BucketPage& page, const Owner& owner, const std::string& prefix,
                                  bool with_regions);

// <LocationConstraint>region</LocationConstraint>, empty for us-east-1 (S3's legacy answer).
aws::RestXmlOutput LocationXml(const Bucket& bucket);

}  // namespace lathe::s3
