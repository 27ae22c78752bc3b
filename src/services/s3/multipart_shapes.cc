#include "services/s3/multipart_shapes.h"

#include <algorithm>
#include <unordered_map>

#include "aws/xml.h"
#include "core/checksum.h"
#include "services/s3/errors.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {
namespace {

constexpr size_t kMaxCompleteXmlDepth = 4;  // CompleteMultipartUpload > Part > PartNumber

// ETags arrive quoted ("\"abc\"") from SDKs and bare from hand-written XML; S3 accepts both.
std::string Unquote(std::string_view etag) {
  etag = TrimXmlSpace(etag);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

Result<CompletedPart> ParsePart(pugi::xml_node part) {
  CompletedPart out;
  bool have_number = false;
  for (pugi::xml_node child : part.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    const std::string_view text = TrimXmlSpace(child.text().get());
    if (name == "PartNumber") {
      if (have_number) return MalformedXmlSchema("a Part has two PartNumber elements");
      Result<int> number = ParsePartNumber(text);
      if (!number.ok()) return number.status();
      out.part_number = *number;
      have_number = true;
    } else if (name == "ETag") {
      out.etag = Unquote(text);
    } else if (name.size() > 8 && name.substr(0, 8) == "Checksum") {
      std::optional<ChecksumAlgorithm> algorithm = ParseFlexibleChecksum(name.substr(8));
      if (!algorithm) return MalformedXmlSchema("Part has no member " + aws::Printable(name, 64));
      out.checksums[std::string(ChecksumName(*algorithm))] = std::string(text);
    } else {
      return MalformedXmlSchema("Part has no member " + aws::Printable(name, 64));
    }
  }
  if (!have_number) return MalformedXmlSchema("a Part has no PartNumber");
  if (out.etag.empty()) return MalformedXmlSchema("Part " + std::to_string(out.part_number) + " has no ETag");
  return out;
}

}  // namespace

Result<int> ParsePartNumber(std::string_view text) {
  Status invalid = InvalidArgument("Part number must be an integer between 1 and " + std::to_string(kMaxPartNumber) +
                                   ", inclusive");
  if (text.empty() || text.size() > 5) return invalid;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return invalid;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > kMaxPartNumber) return invalid;
  return n;
}

Result<std::vector<CompletedPart>> ParseCompleteMultipartUpload(std::string_view body) {
  if (body.empty()) return MalformedXmlSchema("the body is empty; it must list the parts to assemble");
  pugi::xml_document doc;
  LATHE_RETURN_IF_ERROR(aws::ParseXmlBounded(body, kMaxCompleteXmlBytes, kMaxCompleteXmlDepth, &doc));
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "CompleteMultipartUpload")
    return MalformedXmlSchema("the root element must be CompleteMultipartUpload, not " + aws::Printable(root.name(), 64));
  std::vector<CompletedPart> parts;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    if (std::string_view(child.name()) != "Part")
      return MalformedXmlSchema("CompleteMultipartUpload has no member " + aws::Printable(child.name(), 64));
    if (parts.size() == static_cast<size_t>(kMaxPartNumber))
      return MalformedXmlSchema("more than " + std::to_string(kMaxPartNumber) + " parts");
    Result<CompletedPart> part = ParsePart(child);
    if (!part.ok()) return part.status();
    parts.push_back(std::move(*part));
  }
  if (parts.empty()) return MalformedXmlSchema("CompleteMultipartUpload names no Part");
  return parts;
}

Result<std::vector<StoredPart>> CheckCompletion(const std::vector<CompletedPart>& requested,
                                                const std::vector<StoredPart>& stored) {
  std::unordered_map<int, const StoredPart*> by_number;
  for (const StoredPart& p : stored) by_number[p.part_number] = &p;
  std::vector<StoredPart> chosen;
  chosen.reserve(requested.size());
  for (size_t i = 0; i < requested.size(); ++i) {
    const CompletedPart& want = requested[i];
    if (i > 0 && want.part_number <= requested[i - 1].part_number)
      return Status::Aws("InvalidPartOrder", 400,
                         "The list of parts was not in ascending order. Parts must be ordered by part number.");
    auto it = by_number.find(want.part_number);
    if (it == by_number.end() || it->second->etag != want.etag)
      return Status::Aws("InvalidPart", 400,
                         "One or more of the specified parts could not be found. The part may not have been "
                         "uploaded, or the specified entity tag may not match the part's entity tag. (part " +
                             std::to_string(want.part_number) + ")");
    chosen.push_back(*it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i)
    if (chosen[i].size < kMinPartBytes)
      return Status::Aws("EntityTooSmall", 400,
                         "Your proposed upload is smaller than the minimum allowed object size: part " +
                             std::to_string(chosen[i].part_number) + " is " + std::to_string(chosen[i].size) +
                             " bytes; every part but the last must be at least 5 MiB");
  return chosen;
}

std::string MultipartEtag(const std::vector<StoredPart>& parts) {
  std::unique_ptr<Checksum> md5 = Checksum::New(ChecksumAlgorithm::kMd5);
  for (const StoredPart& p : parts) {
    // The part's ETag is its MD5 in hex (stored by lathe, so well formed).
    std::string raw;
    for (size_t i = 0; i + 1 < p.etag.size(); i += 2)
      raw.push_back(static_cast<char>(aws::HexDigit(p.etag[i]) * 16 + aws::HexDigit(p.etag[i + 1])));
    md5->Update(raw);
  }
  return HexEncode(md5->Digest()) + "-" + std::to_string(parts.size());
}

}  // namespace lathe::s3
