// S3's object operations on the wire: headers in (metadata, conditions, Range, copy source),
// headers out (ETag, Last-Modified, x-amz-version-id, x-amz-meta-*, Content-Range, ...), bodies
// streamed from the blob file in 1 MiB chunks.
#include <memory>

#include "aws/rest_path.h"
#include "aws/wire.h"
#include "services/s3/errors.h"
#include "services/s3/http_date.h"
#include "services/s3/object_shapes.h"
#include "services/s3/operation_helpers.h"
#include "services/s3/upload_body.h"

namespace lathe::s3 {
namespace {

constexpr size_t kStreamChunkBytes = 1 << 20;
constexpr std::string_view kMetaPrefix = "x-amz-meta-";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Content-Encoding without aws-chunked, which describes the upload's framing, not the object.
std::string StoredContentEncoding(const std::string& sent) {
  std::string out;
  size_t at = 0;
  while (at <= sent.size()) {
    size_t comma = std::min(sent.find(',', at), sent.size());
    std::string_view item = std::string_view(sent).substr(at, comma - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && Lower(item) != "aws-chunked") out += (out.empty() ? "" : ",") + std::string(item);
    at = comma + 1;
  }
  return out;
}

// Content-* headers and x-amz-meta-* as a PutObject or CopyObject (REPLACE) sends them. A
// repeated x-amz-meta- header is joined with commas, as S3 does.
}  // namespace

void AppendChecksumHeaders(const std::map<std::string, std::string>& checksums, std::vector<http::Header>* headers) {
  for (const auto& [algorithm, value] : checksums) headers->push_back({"x-amz-checksum-" + Lower(algorithm), value});
}

ObjectMetadata MetadataOf(const RestXmlInput& in) {
  ObjectMetadata m;
  m.content_type = HeaderOr(in, "Content-Type");
  m.content_encoding = StoredContentEncoding(HeaderOr(in, "Content-Encoding"));
  m.content_disposition = HeaderOr(in, "Content-Disposition");
  m.content_language = HeaderOr(in, "Content-Language");
  m.cache_control = HeaderOr(in, "Cache-Control");
  m.expires = HeaderOr(in, "Expires");
  for (const http::Header& h : in.request->headers) {
    if (h.name.size() <= kMetaPrefix.size() || Lower(h.name.substr(0, kMetaPrefix.size())) != kMetaPrefix) continue;
    std::string& value = m.user[Lower(h.name.substr(kMetaPrefix.size()))];
    value += (value.empty() ? "" : ",") + h.value;
  }
  return m;
}

Conditions ConditionsOf(const RestXmlInput& in, const std::string& prefix) {
  Conditions c;
  if (const std::string* v = in.request->header(prefix + "if-match")) c.if_match = *v;
  if (const std::string* v = in.request->header(prefix + "if-none-match")) c.if_none_match = *v;
  if (const std::string* v = in.request->header(prefix + "if-modified-since")) c.if_modified_since_ms = ParseHttpDate(*v);
  if (const std::string* v = in.request->header(prefix + "if-unmodified-since"))
    c.if_unmodified_since_ms = ParseHttpDate(*v);
  return c;
}

namespace {

std::string VersionIdOf(const RestXmlInput& in) {
  const std::string* v = QueryValue(in, "versionId");
  return v ? *v : std::string();
}

void AddVersionHeader(const ObjectInfo& o, std::vector<http::Header>* headers) {
  if (o.version_id != store::kNullVersionId) headers->push_back({"x-amz-version-id", o.version_id});
}

void AddChecksumHeaders(const ObjectInfo& o, std::vector<http::Header>* headers) {
  AppendChecksumHeaders(o.metadata.checksums, headers);
  if (!o.metadata.checksums.empty())
    headers->push_back({"x-amz-checksum-type", ChecksumTypeOf(o.metadata.checksums.begin()->second)});
}

// What GetObject and HeadObject answer about an object, with the response-* overrides a
// (presigned) GET may ask for. A whole-object checksum is sent only with the whole object (S3
// sends none for a range, which clients would otherwise check the range against).
std::vector<http::Header> ObjectHeaders(const ObjectInfo& o, const RestXmlInput& in, bool partial) {
  std::vector<http::Header> h;
  h.push_back({"ETag", QuotedEtag(o.etag)});
  h.push_back({"Last-Modified", FormatHttpDate(o.modified_ms)});
  h.push_back({"Accept-Ranges", "bytes"});
  // Objects share lathe's origin with the dashboard (/ui/): an uploaded HTML page, opened by a
  // (presigned) link, must not run scripts there. Browsers sandbox it and never sniff a type.
  h.push_back({"Content-Security-Policy", "sandbox; default-src 'none'"});
  h.push_back({"X-Content-Type-Options", "nosniff"});
  AddVersionHeader(o, &h);
  const ObjectMetadata& m = o.metadata;
  auto add = [&](const char* name, const char* override_param, const std::string& stored) {
    const std::string* asked = QueryValue(in, override_param);
    const std::string& value = asked ? *asked : stored;
    if (!value.empty()) h.push_back({name, value});
  };
  add("Content-Type", "response-content-type", m.content_type.empty() ? "binary/octet-stream" : m.content_type);
  add("Content-Encoding", "response-content-encoding", m.content_encoding);
  add("Content-Disposition", "response-content-disposition", m.content_disposition);
  add("Content-Language", "response-content-language", m.content_language);
  add("Cache-Control", "response-cache-control", m.cache_control);
  add("Expires", "response-expires", m.expires);
  for (const auto& [name, value] : m.user) h.push_back({std::string(kMetaPrefix) + name, value});
  if (!o.tags.empty()) h.push_back({"x-amz-tagging-count", std::to_string(o.tags.size())});
  const std::string* mode = in.request->header("x-amz-checksum-mode");
  if (mode && *mode == "ENABLED" && !partial) AddChecksumHeaders(o, &h);
  return h;
}

// The bytes [first, first + length) of the object's blob, read 1 MiB at a time as the server
// sends them: memory stays bounded whatever the object's size.
std::function<Result<bool>(std::string*)> StreamBlob(std::shared_ptr<RandomAccessFile> file, uint64_t first,
                                                     uint64_t length) {
  auto offset = std::make_shared<uint64_t>(first);
  auto remaining = std::make_shared<uint64_t>(length);
  return [file, offset, remaining](std::string* chunk) -> Result<bool> {
    if (*remaining == 0) return false;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(*remaining, kStreamChunkBytes));
    const size_t at = chunk->size();
    chunk->resize(at + n);
    LATHE_RETURN_IF_ERROR(file->Read(*offset, n, chunk->data() + at));
    *offset += n;
    *remaining -= n;
    return true;
  };
}

}  // namespace

Status ParseCopySource(const std::string& header, std::string* bucket, std::string* key, std::string* version_id) {
  if (header.size() > 4 * kMaxKeyBytes) return InvalidArgument("x-amz-copy-source is too long");
  std::string_view source = header;
  const size_t q = source.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : source.substr(q + 1);
  source = source.substr(0, q);
  if (!source.empty() && source.front() == '/') source.remove_prefix(1);
  const std::string decoded = aws::PercentDecode(source, false);
  const size_t slash = decoded.find('/');
  if (decoded.compare(0, 4, "arn:") == 0) return NotImplemented("Copying from an access point is not implemented");
  if (slash == std::string::npos || slash == 0 || slash + 1 == decoded.size())
    return InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  *bucket = decoded.substr(0, slash);
  *key = decoded.substr(slash + 1);
  version_id->clear();
  if (!query.empty()) {
    const std::map<std::string, std::string> params = aws::DecodeQuery(query);
    auto v = params.find("versionId");
    if (v == params.end() || params.size() != 1)
      return InvalidArgument("x-amz-copy-source accepts only a versionId parameter");
    if (v->second.empty() || !IsVersionId(v->second)) return InvalidVersionId();
    *version_id = v->second;
  }
  return Status::Ok();
}

namespace {

// COPY (the default) or REPLACE: whether the request's own value replaces the source's.
Result<bool> Directive(const RestXmlInput& in, const char* header, const char* what) {
  const std::string* v = in.request->header(header);
  if (!v || *v == "COPY") return false;
  if (*v == "REPLACE") return true;
  return InvalidArgument(std::string("Unknown ") + what + " directive.");
}

}  // namespace

Result<Tags> TagsFromHeader(const RestXmlInput& in) {
  const std::string* v = in.request->header("x-amz-tagging");
  if (!v) return Tags{};
  return ParseTaggingHeader(*v);
}


Result<RestXmlOutput> PutObject(S3Objects* objects, const RestXmlInput& in) {
  if (in.request->header("x-amz-copy-source")) return CopyObject(objects, in);
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  PutObjectInput put;
  put.requester = RequesterOf(in);
  put.bucket = BucketOf(in);
  put.key = KeyOf(in);
  put.metadata = MetadataOf(in);
  Result<Tags> tags = TagsFromHeader(in);
  if (!tags.ok()) return tags.status();
  put.tags = std::move(*tags);
  if (const std::string* v = in.request->header("If-None-Match")) {
    if (*v != "*") return NotImplemented("If-None-Match on PutObject accepts only *");
    put.if_none_match_any = true;
  }
  if (const std::string* v = in.request->header("If-Match")) put.if_match = *v;
  // Everything that can be refused is, before a byte of the body is read.
  LATHE_RETURN_IF_ERROR(objects->CheckPut(put));
  Result<std::unique_ptr<ObjectBody>> body = objects->NewBody(Md5Source::kGivenByCaller);
  if (!body.ok()) return body.status();
  LATHE_RETURN_IF_ERROR(ReadUploadBody(in, body->get(), &put.metadata.checksums));
  Result<ObjectInfo> object = objects->PutObject(put, std::move(*body));
  if (!object.ok()) return object.status();
  RestXmlOutput out;
  out.headers.push_back({"ETag", QuotedEtag(object->etag)});
  AddVersionHeader(*object, &out.headers);
  AddChecksumHeaders(*object, &out.headers);
  return out;
}

Result<RestXmlOutput> GetObject(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  if (QueryValue(in, "partNumber")) return NotImplemented("GetObject by partNumber is not implemented yet");
  GetObjectInput get;
  get.requester = RequesterOf(in);
  get.bucket = BucketOf(in);
  get.key = KeyOf(in);
  get.version_id = VersionIdOf(in);
  get.conditions = ConditionsOf(in, "");
  if (const std::string* range = in.request->header("Range")) get.range = *range;
  ObjectInfo marker;
  Result<ObjectRead> read = objects->GetObject(get, &marker);
  if (!read.ok()) {
    if (!marker.delete_marker) return read.status();
    std::vector<http::Header> headers = {{"x-amz-delete-marker", "true"},
                                         {"Last-Modified", FormatHttpDate(marker.modified_ms)}};
    AddVersionHeader(marker, &headers);
    return ErrorWithHeaders(read.status(), in, std::move(headers));
  }
  const ObjectInfo& object = read->object;
  RestXmlOutput out;
  // No checksum with a 304 either: it has no body to check (botocore would try).
  out.headers = ObjectHeaders(object, in, read->range.has_value() || read->not_modified);
  if (read->not_modified) {
    out.status = 304;
    return out;
  }
  uint64_t first = 0, length = object.size;
  if (read->range) {
    out.status = 206;
    first = read->range->first;
    length = read->range->length();
    out.headers.push_back({"Content-Range", "bytes " + std::to_string(read->range->first) + "-" +
                                                std::to_string(read->range->last) + "/" + std::to_string(object.size)});
  }
  out.content_length = static_cast<int64_t>(length);
  if (in.request->method == "HEAD") return out;  // the length of what GET would send, and no body
  out.body_stream = StreamBlob(read->file, first, length);
  return out;
}

Result<RestXmlOutput> DeleteObject(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  Result<DeleteObjectOutput> deleted =
      objects->DeleteObject(DeleteObjectInput{RequesterOf(in), BucketOf(in), KeyOf(in), VersionIdOf(in)});
  if (!deleted.ok()) return deleted.status();
  RestXmlOutput out;
  out.status = 204;
  if (deleted->delete_marker) out.headers.push_back({"x-amz-delete-marker", "true"});
  if (!deleted->version_id.empty()) out.headers.push_back({"x-amz-version-id", deleted->version_id});
  return out;
}

Result<RestXmlOutput> DeleteObjects(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  Result<DeleteRequest> request = ParseDelete(in.body);
  if (!request.ok()) return request.status();
  Result<std::vector<DeleteOutcome>> outcomes = objects->DeleteObjects(RequesterOf(in), BucketOf(in), request->objects);
  if (!outcomes.ok()) return outcomes.status();
  return DeleteResultXml(*outcomes, request->quiet);
}

Result<RestXmlOutput> CopyObject(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  CopyObjectInput copy;
  copy.requester = RequesterOf(in);
  copy.bucket = BucketOf(in);
  copy.key = KeyOf(in);
  LATHE_RETURN_IF_ERROR(ParseCopySource(*in.request->header("x-amz-copy-source"), &copy.source_bucket,
                                        &copy.source_key, &copy.source_version_id));
  copy.source_conditions = ConditionsOf(in, "x-amz-copy-source-");
  Result<bool> replace_metadata = Directive(in, "x-amz-metadata-directive", "metadata");
  if (!replace_metadata.ok()) return replace_metadata.status();
  copy.replace_metadata = *replace_metadata;
  if (copy.replace_metadata) copy.metadata = MetadataOf(in);
  Result<bool> replace_tags = Directive(in, "x-amz-tagging-directive", "tagging");
  if (!replace_tags.ok()) return replace_tags.status();
  copy.replace_tags = *replace_tags;
  if (copy.replace_tags) {
    Result<Tags> tags = TagsFromHeader(in);
    if (!tags.ok()) return tags.status();
    copy.tags = std::move(*tags);
  }
  Result<CopyObjectOutput> copied = objects->CopyObject(copy);
  if (!copied.ok()) return copied.status();
  RestXmlOutput out = CopyObjectResultXml(copied->object);
  AddVersionHeader(copied->object, &out.headers);
  if (copied->source_version_id != store::kNullVersionId)
    out.headers.push_back({"x-amz-copy-source-version-id", copied->source_version_id});
  return out;
}

Result<RestXmlOutput> GetObjectTagging(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  Result<ObjectInfo> object = objects->GetObjectTagging(RequesterOf(in), BucketOf(in), KeyOf(in), VersionIdOf(in));
  if (!object.ok()) return object.status();
  RestXmlOutput out = TaggingXml(object->tags);
  AddVersionHeader(*object, &out.headers);
  return out;
}

Result<RestXmlOutput> PutObjectTagging(S3Objects* objects, const RestXmlInput& in) {
  Result<Bucket> bucket = RequestedBucket(objects->buckets(), in);
  if (!bucket.ok()) return bucket.status();
  Result<Tags> tags = ParseTagging(in.body);
  if (!tags.ok()) return tags.status();
  Result<std::string> version =
      objects->PutObjectTagging(RequesterOf(in), BucketOf(in), KeyOf(in), VersionIdOf(in), *tags);
  if (!version.ok()) return version.status();
  RestXmlOutput out;
  if (*version != store::kNullVersionId) out.headers.push_back({"x-amz-version-id", *version});
  return out;
}

}  // namespace lathe::s3
