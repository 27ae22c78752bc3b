// Multipart uploads on the wire, apart from where parts are kept: the CompleteMultipartUpload
// request body, the rules a completion must meet (S3's InvalidPart, InvalidPartOrder,
// EntityTooSmall), the multipart ETag, and the XML answers of the multipart operations.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aws/rest_xml.h"
#include "core/status.h"

namespace lathe::s3 {

inline constexpr int kMaxPartNumber = 10000;
// Every part but the last is at least this long (S3's minimum part size).
inline constexpr uint64_t kMinPartBytes = 5ull << 20;
inline constexpr uint64_t kMaxPartBytes = 5ull << 30;
// A CompleteMultipartUpload body naming 10000 parts with every checksum is about 2.5 MB; S3
// refuses larger bodies, and lathe buffers it within this bound.
inline constexpr size_t kMaxCompleteXmlBytes = 4u << 20;
inline constexpr size_t kMaxListParts = 1000;  // max-parts / max-uploads, as AWS bounds them

// One <Part> of a CompleteMultipartUpload body.
struct CompletedPart {
  int part_number = 0;
  std::string etag;                              // unquoted
  std::map<std::string, std::string> checksums;  // "CRC32" -> base64, when the client sent any
};

// <CompleteMultipartUpload><Part><PartNumber/><ETag/>[<ChecksumCRC32/>...]</Part>...: MalformedXML
// for anything else or for no parts; InvalidArgument for a part number outside 1..10000.
Result<std::vector<CompletedPart>> ParseCompleteMultipartUpload(std::string_view body);

// What is stored of an uploaded part, as the completion check needs it.
struct StoredPart {
  int part_number = 0;
  uint64_t size = 0;
  std::string etag;  // unquoted 32 hex
};

// Checks the client's list against the parts uploaded (`stored`, any order): part numbers
// strictly ascending (InvalidPartOrder), each one uploaded with that ETag (InvalidPart), every
// part but the last at least kMinPartBytes (EntityTooSmall). Returns the parts chosen, in order.
Result<std::vector<StoredPart>> CheckCompletion(const std::vector<CompletedPart>& requested,
                                                const std::vector<StoredPart>& stored);

// S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, then "-<count>" (unquoted).
std::string MultipartEtag(const std::vector<StoredPart>& parts);

// A part-number query value ("1".."10000"): InvalidArgument otherwise.
Result<int> ParsePartNumber(std::string_view text);

}  // namespace lathe::s3

namespace lathe::s3 {
struct UploadInfo;
struct PartInfo;
struct PartListing;
struct UploadListing;
struct ObjectInfo;
struct Owner;

aws::RestXmlOutput InitiateMultipartUploadXml(const UploadInfo& upload);
// `location`: the object's URL path ("/bucket/key", percent-encoded).
aws::RestXmlOutput CompleteMultipartUploadXml(const ObjectInfo& object, const std::string& location);
aws::RestXmlOutput CopyPartResultXml(const PartInfo& part);
aws::RestXmlOutput ListPartsXml(const PartListing& listing, int part_number_marker, size_t max_parts,
                                const Owner& owner);
struct ListUploadsEcho {
  std::string bucket, prefix, delimiter, key_marker, upload_id_marker;
  size_t max_uploads = 0;
  bool url_encoding = false;
};
aws::RestXmlOutput ListMultipartUploadsXml(const UploadListing& listing, const ListUploadsEcho& echo,
                                           const Owner& owner);
}  // namespace lathe::s3
