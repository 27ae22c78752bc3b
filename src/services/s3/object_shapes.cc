#include "services/s3/object_shapes.h"

#include "aws/rest_path.h"
#include "aws/xml.h"
#include "core/arn.h"
#include "core/page_token.h"
#include "services/s3/errors.h"

namespace lathe::s3 {
namespace {

using aws::AppendTextElement;

constexpr size_t kMaxRequestXmlDepthForObjects = 8;

const char* Bool(bool b) { return b ? "true" : "false"; }

std::string Encoded(const ListEcho& echo, const std::string& s) { return echo.url_encoding ? UrlEncodeKey(s) : s; }

void AppendOwner(pugi::xml_node parent, const Owner& owner) {
  pugi::xml_node o = parent.append_child("Owner");
  AppendTextElement(o, "DisplayName", owner.display_name);
  AppendTextElement(o, "ID", owner.id);
}

void AppendContents(pugi::xml_node root, const ObjectInfo& o, const ListEcho& echo, const Owner* owner) {
  pugi::xml_node c = root.append_child("Contents");
  AppendTextElement(c, "Key", Encoded(echo, o.key));
  AppendTextElement(c, "LastModified", Iso8601(o.modified_ms));
  AppendTextElement(c, "ETag", QuotedEtag(o.etag));
  AppendTextElement(c, "Size", std::to_string(o.size));
  if (owner) AppendOwner(c, *owner);
  AppendTextElement(c, "StorageClass", "STANDARD");
}

void AppendCommonPrefixes(pugi::xml_node root, const std::vector<std::string>& prefixes, const ListEcho& echo) {
  for (const std::string& p : prefixes) AppendTextElement(root.append_child("CommonPrefixes"), "Prefix", Encoded(echo, p));
}

// The only element of `node` named `name`; MalformedXML when it repeats.
Result<pugi::xml_node> Single(pugi::xml_node node, const char* name) {
  pugi::xml_node found = node.child(name);
  if (found && found.next_sibling(name)) return MalformedXmlSchema(std::string(name) + " is given twice");
  return found;
}

Result<pugi::xml_node> Root(std::string_view body, size_t max_bytes, const char* name, pugi::xml_document* doc) {
  if (body.empty()) return MalformedXmlSchema("the request body is empty");
  LATHE_RETURN_IF_ERROR(aws::ParseXmlBounded(body, max_bytes, kMaxRequestXmlDepthForObjects, doc));
  pugi::xml_node root = doc->document_element();
  if (std::string_view(root.name()) != name)
    return MalformedXmlSchema(std::string("the root element must be ") + name + ", not " + aws::Printable(root.name(), 64));
  return root;
}

}  // namespace

std::string UrlEncodeKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (unsigned char c : key) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~' || c == '/';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

aws::RestXmlOutput ListObjectsV2Xml(const ObjectListing& page, const ListEcho& echo, const Owner& owner) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "ListBucketResult");
  AppendTextElement(root, "Name", echo.bucket);
  AppendTextElement(root, "Prefix", Encoded(echo, echo.prefix));
  if (!echo.continuation_token.empty()) AppendTextElement(root, "ContinuationToken", echo.continuation_token);
  if (page.truncated) AppendTextElement(root, "NextContinuationToken", EncodePageToken(kObjectList, page.last));
  AppendTextElement(root, "KeyCount", std::to_string(page.objects.size() + page.common_prefixes.size()));
  AppendTextElement(root, "MaxKeys", std::to_string(echo.max_keys));
  if (!echo.delimiter.empty()) AppendTextElement(root, "Delimiter", Encoded(echo, echo.delimiter));
  AppendTextElement(root, "IsTruncated", Bool(page.truncated));
  if (!echo.start_after.empty()) AppendTextElement(root, "StartAfter", Encoded(echo, echo.start_after));
  for (const ObjectInfo& o : page.objects) AppendContents(root, o, echo, echo.fetch_owner ? &owner : nullptr);
  AppendCommonPrefixes(root, page.common_prefixes, echo);
  if (echo.url_encoding) AppendTextElement(root, "EncodingType", "url");
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput ListObjectsV1Xml(const ObjectListing& page, const ListEcho& echo, const Owner& owner) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "ListBucketResult");
  AppendTextElement(root, "Name", echo.bucket);
  // botocore decodes V1's Marker, NextMarker, Delimiter and keys, but not its Prefix.
  AppendTextElement(root, "Prefix", echo.prefix);
  AppendTextElement(root, "Marker", Encoded(echo, echo.marker));
  // S3 sends NextMarker only with a delimiter; without one the last key is the next marker.
  if (page.truncated && !echo.delimiter.empty()) AppendTextElement(root, "NextMarker", Encoded(echo, page.last));
  AppendTextElement(root, "MaxKeys", std::to_string(echo.max_keys));
  if (!echo.delimiter.empty()) AppendTextElement(root, "Delimiter", Encoded(echo, echo.delimiter));
  AppendTextElement(root, "IsTruncated", Bool(page.truncated));
  for (const ObjectInfo& o : page.objects) AppendContents(root, o, echo, &owner);
  AppendCommonPrefixes(root, page.common_prefixes, echo);
  if (echo.url_encoding) AppendTextElement(root, "EncodingType", "url");
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput ListVersionsXml(const VersionListing& page, const ListEcho& echo, const Owner& owner) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "ListVersionsResult");
  AppendTextElement(root, "Name", echo.bucket);
  AppendTextElement(root, "Prefix", Encoded(echo, echo.prefix));
  AppendTextElement(root, "KeyMarker", Encoded(echo, echo.marker));
  AppendTextElement(root, "VersionIdMarker", echo.version_id_marker);
  if (page.truncated) {
    AppendTextElement(root, "NextKeyMarker", Encoded(echo, page.next_key_marker));
    if (!page.next_version_id_marker.empty())
      AppendTextElement(root, "NextVersionIdMarker", page.next_version_id_marker);
  }
  AppendTextElement(root, "MaxKeys", std::to_string(echo.max_keys));
  if (!echo.delimiter.empty()) AppendTextElement(root, "Delimiter", Encoded(echo, echo.delimiter));
  AppendTextElement(root, "IsTruncated", Bool(page.truncated));
  for (const ObjectInfo& v : page.versions) {
    pugi::xml_node e = root.append_child(v.delete_marker ? "DeleteMarker" : "Version");
    AppendTextElement(e, "Key", Encoded(echo, v.key));
    AppendTextElement(e, "VersionId", v.version_id);
    AppendTextElement(e, "IsLatest", Bool(v.is_latest));
    AppendTextElement(e, "LastModified", Iso8601(v.modified_ms));
    if (!v.delete_marker) {
      AppendTextElement(e, "ETag", QuotedEtag(v.etag));
      AppendTextElement(e, "Size", std::to_string(v.size));
      AppendTextElement(e, "StorageClass", "STANDARD");
    }
    AppendOwner(e, owner);
  }
  AppendCommonPrefixes(root, page.common_prefixes, echo);
  if (echo.url_encoding) AppendTextElement(root, "EncodingType", "url");
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput CopyObjectResultXml(const ObjectInfo& copy) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "CopyObjectResult");
  AppendTextElement(root, "LastModified", Iso8601(copy.modified_ms));
  AppendTextElement(root, "ETag", QuotedEtag(copy.etag));
  for (const auto& [algorithm, value] : copy.metadata.checksums)
    AppendTextElement(root, ("Checksum" + algorithm).c_str(), value);
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput DeleteResultXml(const std::vector<DeleteOutcome>& outcomes, bool quiet) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "DeleteResult");
  for (const DeleteOutcome& o : outcomes) {
    if (o.error.ok()) {
      if (quiet) continue;
      pugi::xml_node d = root.append_child("Deleted");
      AppendTextElement(d, "Key", o.object.key);
      if (!o.object.version_id.empty()) AppendTextElement(d, "VersionId", o.object.version_id);
      if (o.deleted.delete_marker) {
        AppendTextElement(d, "DeleteMarker", "true");
        if (o.object.version_id.empty()) AppendTextElement(d, "DeleteMarkerVersionId", o.deleted.version_id);
      }
      continue;
    }
    pugi::xml_node e = root.append_child("Error");
    AppendTextElement(e, "Key", o.object.key);
    if (!o.object.version_id.empty()) AppendTextElement(e, "VersionId", o.object.version_id);
    AppendTextElement(e, "Code", o.error.aws_code().empty() ? "InternalError" : o.error.aws_code());
    AppendTextElement(e, "Message", o.error.message());
  }
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput TaggingXml(const Tags& tags) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "Tagging");
  pugi::xml_node set = root.append_child("TagSet");
  for (const auto& [k, v] : tags) {
    pugi::xml_node t = set.append_child("Tag");
    AppendTextElement(t, "Key", k);
    AppendTextElement(t, "Value", v);
  }
  return aws::XmlOutput(doc);
}

aws::RestXmlOutput VersioningXml(const std::string& state) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "VersioningConfiguration");
  if (!state.empty()) AppendTextElement(root, "Status", state);
  return aws::XmlOutput(doc);
}

Result<DeleteRequest> ParseDelete(std::string_view body) {
  pugi::xml_document doc;
  Result<pugi::xml_node> root = Root(body, kMaxDeleteXmlBytes, "Delete", &doc);
  if (!root.ok()) return root.status();
  DeleteRequest out;
  for (pugi::xml_node child : root->children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "Quiet") {
      const std::string_view v = child.text().get();
      if (v != "true" && v != "false") return MalformedXmlSchema("Quiet must be true or false");
      out.quiet = v == "true";
    } else if (name == "Object") {
      if (out.objects.size() == kMaxDeleteObjects)
        return MalformedXmlSchema("at most " + std::to_string(kMaxDeleteObjects) + " objects per request");
      Result<pugi::xml_node> key = Single(child, "Key");
      if (!key.ok()) return key.status();
      if (!*key) return MalformedXmlSchema("an Object has no Key");
      Result<pugi::xml_node> version = Single(child, "VersionId");
      if (!version.ok()) return version.status();
      out.objects.push_back(ObjectIdentifier{key->text().get(), *version ? version->text().get() : ""});
    } else {
      return MalformedXmlSchema("Delete has no member " + aws::Printable(name, 64));
    }
  }
  if (out.objects.empty()) return MalformedXmlSchema("Delete names no Object");
  return out;
}

Result<Tags> ParseTagging(std::string_view body) {
  pugi::xml_document doc;
  Result<pugi::xml_node> root = Root(body, kMaxRequestXmlBytes, "Tagging", &doc);
  if (!root.ok()) return root.status();
  Result<pugi::xml_node> set = Single(*root, "TagSet");
  if (!set.ok()) return set.status();
  if (!*set) return MalformedXmlSchema("Tagging has no TagSet");
  Tags tags;
  for (pugi::xml_node tag : set->children()) {
    if (tag.type() != pugi::node_element) continue;
    if (std::string_view(tag.name()) != "Tag") return MalformedXmlSchema("TagSet holds only Tag elements");
    if (tags.size() > kMaxObjectTags) break;  // ValidateTags says how many is too many
    Result<pugi::xml_node> key = Single(tag, "Key");
    if (!key.ok()) return key.status();
    Result<pugi::xml_node> value = Single(tag, "Value");
    if (!value.ok()) return value.status();
    if (!*key || !*value) return MalformedXmlSchema("a Tag needs a Key and a Value");
    tags.emplace_back(key->text().get(), value->text().get());
  }
  return tags;
}

Result<Tags> ParseTaggingHeader(std::string_view header) {
  Tags tags;
  if (header.empty()) return tags;
  if (header.size() > 16 << 10) return InvalidArgument("The x-amz-tagging header is too long");
  while (!header.empty()) {
    const size_t amp = header.find('&');
    std::string_view pair = header.substr(0, amp);
    header = amp == std::string_view::npos ? std::string_view() : header.substr(amp + 1);
    if (pair.empty()) continue;
    if (tags.size() > kMaxObjectTags) break;  // ValidateTags refuses them
    const size_t eq = pair.find('=');
    tags.emplace_back(aws::PercentDecode(pair.substr(0, eq), true),
                      eq == std::string_view::npos ? std::string() : aws::PercentDecode(pair.substr(eq + 1), true));
  }
  return tags;
}

Result<std::string> ParseVersioning(std::string_view body) {
  pugi::xml_document doc;
  Result<pugi::xml_node> root = Root(body, kMaxRequestXmlBytes, "VersioningConfiguration", &doc);
  if (!root.ok()) return root.status();
  std::string status;
  for (pugi::xml_node child : root->children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "Status") {
      status = child.text().get();
      if (status != "Enabled" && status != "Suspended") return MalformedXmlSchema("Status must be Enabled or Suspended");
    } else if (name == "MfaDelete") {
      if (std::string_view(child.text().get()) == "Enabled")
        return NotImplemented("MFA delete is not implemented by lathe's s3");
    } else {
      return MalformedXmlSchema("VersioningConfiguration has no member " + aws::Printable(name, 64));
    }
  }
  if (status.empty()) return MalformedXmlSchema("VersioningConfiguration needs a Status");
  return status;
}

}  // namespace lathe::s3
