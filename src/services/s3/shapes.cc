#include "services/s3/shapes.h"

#include "core/page_token.h"
#include "aws/xml.h"
#include "core/arn.h"
#include "core/page_token.h"
#include "core/sha256.h"
#include "services/s3/errors.h"

namespace lathe::s3 {
std::string_view TrimXmlSpace(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

Result<std::optional<std::string>> ParseCreateBucketConfiguration(std::string_view body) {
  if (body.empty()) return std::optional<std::string>();
  pugi::xml_document doc;
  LATHE_RETURN_IF_ERROR(aws::ParseXmlBounded(body, kMaxRequestXmlBytes, kMaxRequestXmlDepth, &doc));
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "CreateBucketConfiguration")
    return MalformedXmlSchema("the root element must be CreateBucketConfiguration, not " +
                              aws::Printable(root.name(), 64));
  std::optional<std::string> constraint;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "LocationConstraint") {
      if (constraint)
        return MalformedXmlSchema("LocationConstraint is given twice");
      std::string_view text = TrimXmlSpace(child.text().get());
      if (!text.empty()) constraint = std::string(text);
    } else if (name == "Location" || name == "Bucket" || name == "Tags") {
      return NotImplemented("CreateBucketConfiguration/" + std::string(name) +
                            " (directory buckets, bucket tags) is not implemented by lathe's s3");
    } else {
      return MalformedXmlSchema("CreateBucketConfiguration has no member " + aws::Printable(name, 64));
    }
  }
  return constraint;
}

Owner OwnerOf(const std::string& account) { return Owner{Sha256Hex("lathe-s3-owner:" + account), account}; }

aws::RestXmlOutput ListBucketsXml(const BucketPage& page, const Owner& owner, const std::string& prefix,
                                  bool with_regions) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "ListAllMyBucketsResult");
  pugi::xml_node o = root.append_child("Owner");
  aws::AppendTextElement(o, "DisplayName", owner.display_name);
  aws::AppendTextElement(o, "ID", owner.id);
  pugi::xml_node list = root.append_child("Buckets");
  for (const Bucket& b : page.buckets) {
    pugi::xml_node e = list.append_child("Bucket");
    aws::AppendTextElement(e, "Name", b.name);
    aws::AppendTextElement(e, "CreationDate", Iso8601(b.created_ms));
    if (with_regions) aws::AppendTextElement(e, "BucketRegion", b.region);
  }
  if (!page.continuation_token.empty())
    aws::AppendTextElement(root, "ContinuationToken", EncodePageToken(kBucketList, page.continuation_token));
  if (!prefix.empty()) aws::AppendTextElement(root, "Prefix", prefix);
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput LocationXml(const Bucket& bucket) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "LocationConstraint");
  if (bucket.region != "us-east-1") root.text().set(aws::XmlText(bucket.region).c_str());
  return aws::XmlOutput(doc);
}

}  // namespace lathe::s3
