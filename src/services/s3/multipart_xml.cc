// The XML answers of the multipart operations (botocore's s3 model: InitiateMultipartUploadResult,
// CompleteMultipartUploadResult, CopyPartResult, ListPartsResult, ListMultipartUploadsResult).
#include "aws/xml.h"
#include "core/arn.h"
#include "services/s3/http_date.h"
#include "services/s3/multipart.h"
#include "services/s3/multipart_shapes.h"
#include "services/s3/object_shapes.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {
namespace {

using aws::AppendTextElement;

void AppendOwner(pugi::xml_node parent, const char* name, const Owner& owner) {
  pugi::xml_node o = parent.append_child(name);
  AppendTextElement(o, "ID", owner.id);
  AppendTextElement(o, "DisplayName", owner.display_name);
}

void AppendChecksums(pugi::xml_node parent, const std::map<std::string, std::string>& checksums) {
  for (const auto& [algorithm, value] : checksums) AppendTextElement(parent, ("Checksum" + algorithm).c_str(), value);
}

}  // namespace

aws::RestXmlOutput InitiateMultipartUploadXml(const UploadInfo& upload) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "InitiateMultipartUploadResult");
  AppendTextElement(root, "Bucket", upload.bucket);
  AppendTextElement(root, "Key", upload.key);
  AppendTextElement(root, "UploadId", upload.upload_id);
  aws::RestXmlOutput out = aws::XmlOutput(doc);
  if (!upload.checksum_algorithm.empty()) {
    out.headers.push_back({"x-amz-checksum-algorithm", upload.checksum_algorithm});
    out.headers.push_back({"x-amz-checksum-type", upload.checksum_type});
  }
  return out;
}

aws::RestXmlOutput CompleteMultipartUploadXml(const ObjectInfo& object, const std::string& location) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "CompleteMultipartUploadResult");
  AppendTextElement(root, "Location", location);
  AppendTextElement(root, "Bucket", object.bucket);
  AppendTextElement(root, "Key", object.key);
  AppendTextElement(root, "ETag", QuotedEtag(object.etag));
  AppendChecksums(root, object.metadata.checksums);
  if (!object.metadata.checksums.empty()) {
    const std::string& value = object.metadata.checksums.begin()->second;
    AppendTextElement(root, "ChecksumType", ChecksumTypeOf(value));
  }
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput CopyPartResultXml(const PartInfo& part) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "CopyPartResult");
  AppendTextElement(root, "ETag", QuotedEtag(part.etag));
  AppendTextElement(root, "LastModified", Iso8601(part.modified_ms));
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput ListPartsXml(const PartListing& listing, int part_number_marker, size_t max_parts,
                                const Owner& owner) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "ListPartsResult");
  AppendTextElement(root, "Bucket", listing.upload.bucket);
  AppendTextElement(root, "Key", listing.upload.key);
  AppendTextElement(root, "UploadId", listing.upload.upload_id);
  AppendTextElement(root, "PartNumberMarker", std::to_string(part_number_marker));
  AppendTextElement(root, "NextPartNumberMarker", std::to_string(listing.next_marker));
  AppendTextElement(root, "MaxParts", std::to_string(max_parts));
  AppendTextElement(root, "IsTruncated", listing.truncated ? "true" : "false");
  AppendOwner(root, "Initiator", owner);
  AppendOwner(root, "Owner", owner);
  AppendTextElement(root, "StorageClass", "STANDARD");
  if (!listing.upload.checksum_algorithm.empty()) {
    AppendTextElement(root, "ChecksumAlgorithm", listing.upload.checksum_algorithm);
    AppendTextElement(root, "ChecksumType", listing.upload.checksum_type);
  }
  for (const PartInfo& p : listing.parts) {
    pugi::xml_node part = root.append_child("Part");
    AppendTextElement(part, "PartNumber", std::to_string(p.part_number));
    AppendTextElement(part, "LastModified", Iso8601(p.modified_ms));
    AppendTextElement(part, "ETag", QuotedEtag(p.etag));
    AppendTextElement(part, "Size", std::to_string(p.size));
    AppendChecksums(part, p.checksums);
  }
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput ListMultipartUploadsXml(const UploadListing& listing, const ListUploadsEcho& echo,
                                           const Owner& owner) {
  auto key = [&echo](const std::string& k) { return echo.url_encoding ? UrlEncodeKey(k) : k; };
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "ListMultipartUploadsResult");
  AppendTextElement(root, "Bucket", echo.bucket);
  AppendTextElement(root, "KeyMarker", key(echo.key_marker));
  AppendTextElement(root, "UploadIdMarker", echo.upload_id_marker);
  if (listing.truncated) {
    AppendTextElement(root, "NextKeyMarker", key(listing.next_key_marker));
    AppendTextElement(root, "NextUploadIdMarker", listing.next_upload_id_marker);
  }
  if (!echo.prefix.empty()) AppendTextElement(root, "Prefix", key(echo.prefix));
  if (!echo.delimiter.empty()) AppendTextElement(root, "Delimiter", key(echo.delimiter));
  AppendTextElement(root, "MaxUploads", std::to_string(echo.max_uploads));
  AppendTextElement(root, "IsTruncated", listing.truncated ? "true" : "false");
  if (echo.url_encoding) AppendTextElement(root, "EncodingType", "url");
  for (const UploadInfo& u : listing.uploads) {
    pugi::xml_node e = root.append_child("Upload");
    AppendTextElement(e, "Key", key(u.key));
    AppendTextElement(e, "UploadId", u.upload_id);
    AppendOwner(e, "Initiator", owner);
    AppendOwner(e, "Owner", owner);
    AppendTextElement(e, "StorageClass", "STANDARD");
    AppendTextElement(e, "Initiated", Iso8601(u.initiated_ms));
    if (!u.checksum_algorithm.empty()) {
      AppendTextElement(e, "ChecksumAlgorithm", u.checksum_algorithm);
      AppendTextElement(e, "ChecksumType", u.checksum_type);
    }
  }
  for (const std::string& p : listing.common_prefixes) AppendTextElement(root.append_child("CommonPrefixes"), "Prefix", key(p));
  return aws::XmlOutput(doc);
}

}  // namespace lathe::s3
