#include "services/s3/objects.h"

#include "aws/wire.h"
#include "core/arn.h"
#include "services/s3/errors.h"
#include "services/s3/object_events.h"

namespace lathe::s3 {
namespace {

using nlohmann::json;

constexpr char kEnabled[] = "Enabled";

// The service's part of an index row: what S3 keeps besides bytes, size and ETag.
json ToDoc(const ObjectInfo& o) {
  json meta = json::object();
  auto put = [&meta](const char* name, const std::string& v) {
    if (!v.empty()) meta[name] = v;
  };
  const ObjectMetadata& m = o.metadata;
  put("content-type", m.content_type);
  put("content-encoding", m.content_encoding);
  put("content-disposition", m.content_disposition);
  put("content-language", m.content_language);
  put("cache-control", m.cache_control);
  put("expires", m.expires);
  json doc = {{"headers", meta}, {"user", m.user}, {"checksums", m.checksums}};
  json tags = json::array();
  for (const auto& [k, v] : o.tags) tags.push_back({k, v});
  doc["tags"] = tags;
  return doc;
}

ObjectInfo FromVersion(const store::ObjectVersion& v) {
  ObjectInfo o;
  o.bucket = v.bucket;
  o.key = v.key;
  o.version_id = v.version_id;
  o.delete_marker = v.delete_marker;
  o.is_latest = v.is_latest;
  o.size = v.size;
  o.etag = v.etag;
  o.modified_ms = v.modified_ms;
  o.blob = v.blob;
  const json& doc = v.doc;
  // A row this code wrote: a field it cannot read is left empty rather than failing the read.
  if (auto h = doc.find("headers"); h != doc.end() && h->is_object()) {
    auto get = [&h](const char* name) { return h->value(name, std::string()); };
    ObjectMetadata& m = o.metadata;
    m.content_type = get("content-type");
    m.content_encoding = get("content-encoding");
    m.content_disposition = get("content-disposition");
    m.content_language = get("content-language");
    m.cache_control = get("cache-control");
    m.expires = get("expires");
  }
  for (const char* field : {"user", "checksums"}) {
    auto f = doc.find(field);
    if (f == doc.end() || !f->is_object()) continue;
    auto& out = std::string_view(field) == "user" ? o.metadata.user : o.metadata.checksums;
    for (auto it = f->begin(); it != f->end(); ++it)
      if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  if (auto t = doc.find("tags"); t != doc.end() && t->is_array())
    for (const json& pair : *t)
      if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string())
        o.tags.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  return o;
}

store::ObjectVersion ToVersion(const ObjectInfo& o) {
  store::ObjectVersion v;
  v.bucket = o.bucket;
  v.key = o.key;
  v.version_id = o.version_id;
  v.delete_marker = o.delete_marker;
  v.blob = o.blob;
  v.size = o.size;
  v.etag = o.etag;
  v.modified_ms = o.modified_ms;
  v.doc = ToDoc(o);
  return v;
}

std::string_view Unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
  return etag;
}

// Whether an If-Match / If-None-Match list ("*", or ETags quoted or not, weak or strong,
// separated by commas) names `etag`.
bool EtagListMatches(std::string_view list, const std::string& etag) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.compare(0, 2, "W/") == 0) item.remove_prefix(2);
    if (item == "*" || Unquoted(item) == etag) return true;
  }
  return false;
}

enum class Verdict { kProceed, kNotModified, kFailed };

// RFC 7232 section 6's order, which is also S3's: If-Match decides before If-Unmodified-Since,
// If-None-Match before If-Modified-Since. HTTP dates have whole seconds.
Verdict Evaluate(const Conditions& c, const ObjectInfo& o, std::string* failed) {
  const int64_t modified_s = o.modified_ms / 1000;
  if (c.if_match) {
    if (!EtagListMatches(*c.if_match, o.etag)) return *failed = "If-Match", Verdict::kFailed;
  } else if (c.if_unmodified_since_ms >= 0 && modified_s > c.if_unmodified_since_ms / 1000) {
    return *failed = "If-Unmodified-Since", Verdict::kFailed;
  }
  if (c.if_none_match) {
    if (EtagListMatches(*c.if_none_match, o.etag)) return *failed = "If-None-Match", Verdict::kNotModified;
  } else if (c.if_modified_since_ms >= 0 && c.if_modified_since_ms <= NowMillis() &&
             modified_s <= c.if_modified_since_ms / 1000) {
    return *failed = "If-Modified-Since", Verdict::kNotModified;
  }
  return Verdict::kProceed;
}

Status IndexError(const Status& s) { return InternalError("The object index failed: " + s.message()); }

}  // namespace

// ---- ObjectBody ----

ObjectBody::ObjectBody(std::unique_ptr<store::BlobStore::Writer> writer, bool hash_here)
    : writer_(std::move(writer)), md5_(hash_here ? Checksum::New(ChecksumAlgorithm::kMd5) : nullptr) {}

ObjectBody::~ObjectBody() = default;

Status ObjectBody::Append(std::string_view data) {
  if (!writer_) return InternalError("The upload's blob writer is spent");
  if (data.size() > kMaxPutObjectBytes - size_)
    return EntityTooLarge("Your proposed upload exceeds the maximum allowed object size of " +
                          std::to_string(kMaxPutObjectBytes) + " bytes; use a multipart upload");
  Status s = writer_->Append(data);
  if (!s.ok()) {
    writer_.reset();
    return InternalError("The object could not be stored: " + s.message());
  }
  if (md5_) md5_->Update(data);
  size_ += data.size();
  return Status::Ok();
}

// ---- S3Objects ----

S3Objects::S3Objects(S3Backend* buckets, store::ObjectIndex* index, store::BlobStore* blobs)
    : buckets_(buckets), index_(index), blobs_(blobs) {
  buckets_->set_contents_check([index](const std::string& bucket) { return index->BucketHasContents(bucket); });
}

Result<size_t> S3Objects::RemoveOrphanBlobs() {
  Result<std::set<std::string>> live = index_->LiveBlobs();
  if (!live.ok()) return live.status();
  return blobs_->RemoveOrphans(*live);
}

Result<Bucket> S3Objects::OwnedBucket(const Requester& requester, const std::string& bucket) {
  return buckets_->GetBucket(requester.account, bucket);
}

Result<ObjectInfo> S3Objects::Find(const std::string& bucket, const std::string& key, const std::string& version_id) {
  if (!version_id.empty() && !IsVersionId(version_id)) return InvalidVersionId();
  Result<store::ObjectVersion> v = index_->Get(bucket, key, version_id);
  if (!v.ok()) {
    if (v.status().code() != Status::Code::kNotFound) return IndexError(v.status());
    return version_id.empty() ? NoSuchKey() : NoSuchVersion();
  }
  return FromVersion(*v);
}

void S3Objects::RemoveBlobs(const std::vector<std::string>& freed) {
  // A failure leaves an orphan, which the next start-up removes: not the client's problem.
  for (const std::string& id : freed) (void)blobs_->Remove(id);
}

Status S3Objects::Record(const Bucket& bucket, const Requester& requester, const ObjectInfo& object,
                         const char* reason) {
  std::optional<store::OutboxEvent> event;
  if (Publishes(bucket))
    event = object.delete_marker ? ObjectDeletedEvent(requester, object, true)
                                 : ObjectCreatedEvent(requester, object, reason);
  std::vector<std::string> freed;
  Status s = index_->Put(ToVersion(object), event ? &*event : nullptr, &freed);
  if (!s.ok()) return IndexError(s);
  RemoveBlobs(freed);
  return Status::Ok();
}

Status S3Objects::CheckPut(const PutObjectInput& in) {
  Result<Bucket> bucket = OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(in.key));
  LATHE_RETURN_IF_ERROR(ValidateUserMetadata(in.metadata.user));
  LATHE_RETURN_IF_ERROR(ValidateTags(in.tags));
  return Status::Ok();
}

Result<std::unique_ptr<ObjectBody>> S3Objects::NewBody(Md5Source md5) {
  Result<std::unique_ptr<store::BlobStore::Writer>> writer = blobs_->Create();
  if (!writer.ok()) return InternalError("The object could not be stored: " + writer.status().message());
  return std::unique_ptr<ObjectBody>(new ObjectBody(std::move(*writer), md5 == Md5Source::kComputedHere));
}

Result<S3Objects::CommittedBody> S3Objects::CommitBody(std::unique_ptr<ObjectBody> body) {
  if (!body || !body->writer_) return InternalError("The upload's body was not written");
  CommittedBody out;
  out.size = body->size_;
  const std::string md5 = body->md5_ ? body->md5_->Digest() : body->given_md5_;
  if (md5.size() != 16) return InternalError("The upload's MD5 was not given");
  out.md5_hex = HexEncode(md5);
  Result<std::string> blob = body->writer_->Commit();
  body->writer_.reset();
  if (!blob.ok()) return InternalError("The object could not be stored: " + blob.status().message());
  out.blob = *blob;
  return out;
}

Result<ObjectInfo> S3Objects::RecordCompleted(const Requester& requester, const std::string& upload_id,
                                              ObjectInfo object) {
  Result<Bucket> bucket = OwnedBucket(requester, object.bucket);
  if (!bucket.ok()) return bucket.status();
  object.version_id = bucket->versioning == kEnabled ? NewVersionId() : std::string(store::kNullVersionId);
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<store::OutboxEvent> event;
  if (Publishes(*bucket)) event = ObjectCreatedEvent(requester, object, "CompleteMultipartUpload");
  std::vector<std::string> freed;
  Status s = index_->CompleteUpload(upload_id, ToVersion(object), event ? &*event : nullptr, &freed);
  if (s.code() == Status::Code::kNotFound)
    return Status::Aws("NoSuchUpload", 404,
                       "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
                       "been aborted or completed.",
                       Status::Code::kNotFound);
  if (!s.ok()) return IndexError(s);
  RemoveBlobs(freed);
  object.is_latest = true;
  return object;
}

Result<ObjectInfo> S3Objects::PutObject(const PutObjectInput& in, std::unique_ptr<ObjectBody> body) {
  LATHE_RETURN_IF_ERROR(CheckPut(in));
  Result<Bucket> bucket = OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  Result<CommittedBody> committed = CommitBody(std::move(body));
  if (!committed.ok()) return committed.status();

  ObjectInfo object;
  object.bucket = in.bucket;
  object.key = in.key;
  object.version_id = bucket->versioning == kEnabled ? NewVersionId() : std::string(store::kNullVersionId);
  object.size = committed->size;
  object.etag = committed->md5_hex;
  object.metadata = in.metadata;
  object.tags = in.tags;
  object.blob = committed->blob;

  std::lock_guard<std::mutex> lock(mu_);
  Status s;
  if (in.if_none_match_any || in.if_match) {
    Result<ObjectInfo> current = Find(in.bucket, in.key, "");
    const bool exists = current.ok() && !current->delete_marker;
    if (!current.ok() && current.status().code() != Status::Code::kNotFound) s = current.status();
    else if (in.if_none_match_any && exists) s = PreconditionFailed("If-None-Match");
    else if (in.if_match && (!exists || !EtagListMatches(*in.if_match, current->etag)))
      s = exists ? PreconditionFailed("If-Match") : NoSuchKey();
  }
  object.modified_ms = NowMillis();
  if (s.ok()) s = Record(*bucket, in.requester, object, "PutObject");
  if (!s.ok()) {
    (void)blobs_->Remove(object.blob);
    return s;
  }
  object.is_latest = true;
  return object;
}

Result<ObjectRead> S3Objects::GetObject(const GetObjectInput& in, ObjectInfo* marker) {
  Result<Bucket> bucket = OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(in.key));
  // Blobs are freed under mu_: holding it from the lookup to the open means the file opened is
  // the version found, even when a PutObject replaces it meanwhile.
  std::lock_guard<std::mutex> lock(mu_);
  Result<ObjectInfo> object = Find(in.bucket, in.key, in.version_id);
  if (!object.ok()) return object.status();
  if (object->delete_marker) {
    if (marker) *marker = *object;
    return in.version_id.empty() ? NoSuchKey() : DeleteMarkerNotAllowed();
  }
  ObjectRead read;
  std::string condition;
  switch (Evaluate(in.conditions, *object, &condition)) {
    case Verdict::kFailed:
      return PreconditionFailed(condition);
    case Verdict::kNotModified:
      read.not_modified = true;
      break;
    case Verdict::kProceed:
      if (in.range) {
        Result<std::optional<ByteRange>> range = ResolveRange(*in.range, object->size);
        if (!range.ok()) return range.status();
        read.range = *range;
      }
      break;
  }
  if (!read.not_modified) {
    std::unique_ptr<RandomAccessFile> file;
    uint64_t size = 0;
    Status s = blobs_->Open(object->blob, &file, &size);
    if (!s.ok()) return InternalError("The object's bytes could not be read: " + s.message());
    if (size != object->size)
      return InternalError("The object's bytes are " + std::to_string(size) + " long, its record says " +
                           std::to_string(object->size));
    read.file = std::move(file);
  }
  read.object = std::move(*object);
  return read;
}

Result<DeleteObjectOutput> S3Objects::DeleteLocked(const Bucket& bucket, const Requester& requester,
                                                   const std::string& key, const std::string& version_id) {
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(key));
  DeleteObjectOutput out;
  const bool versioned = !bucket.versioning.empty();
  if (!version_id.empty() || !versioned) {
    // A version for good (unversioned buckets hold only the null version).
    const std::string id = version_id.empty() ? std::string(store::kNullVersionId) : version_id;
    Result<ObjectInfo> existing = Find(bucket.name, key, id);
    if (!existing.ok()) {
      if (existing.status().code() != Status::Code::kNotFound) return existing.status();
      if (!version_id.empty()) out.version_id = version_id;  // S3 echoes the version asked for
      return out;
    }
    std::optional<store::OutboxEvent> event;
    if (Publishes(bucket)) event = ObjectDeletedEvent(requester, *existing, false);
    std::vector<std::string> freed;
    Status s = index_->Remove(bucket.name, key, id, event ? &*event : nullptr, &freed);
    if (!s.ok() && s.code() != Status::Code::kNotFound) return IndexError(s);
    RemoveBlobs(freed);
    out.delete_marker = existing->delete_marker;
    if (!version_id.empty()) out.version_id = version_id;
    return out;
  }
  // Versioned, no version named: a delete marker becomes the latest version (a new one when
  // Enabled; the null version, replacing whatever it was, when Suspended).
  ObjectInfo marker;
  marker.bucket = bucket.name;
  marker.key = key;
  marker.version_id = bucket.versioning == kEnabled ? NewVersionId() : std::string(store::kNullVersionId);
  marker.delete_marker = true;
  marker.modified_ms = NowMillis();
  LATHE_RETURN_IF_ERROR(Record(bucket, requester, marker, "DeleteObject"));
  out.delete_marker = true;
  out.version_id = marker.version_id;
  return out;
}

Result<DeleteObjectOutput> S3Objects::DeleteObject(const DeleteObjectInput& in) {
  Result<Bucket> bucket = OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteLocked(*bucket, in.requester, in.key, in.version_id);
}

Result<std::vector<DeleteOutcome>> S3Objects::DeleteObjects(const Requester& requester, const std::string& bucket,
                                                            const std::vector<ObjectIdentifier>& objects) {
  if (objects.size() > kMaxDeleteObjects)
    return MalformedXmlSchema("at most " + std::to_string(kMaxDeleteObjects) + " objects per request");
  Result<Bucket> owned = OwnedBucket(requester, bucket);
  if (!owned.ok()) return owned.status();
  std::vector<DeleteOutcome> outcomes;
  outcomes.reserve(objects.size());
  for (const ObjectIdentifier& id : objects) {
    DeleteOutcome outcome;
    outcome.object = id;
    std::lock_guard<std::mutex> lock(mu_);
    Result<DeleteObjectOutput> deleted = DeleteLocked(*owned, requester, id.key, id.version_id);
    if (deleted.ok()) outcome.deleted = *deleted;
    else outcome.error = deleted.status();
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

Result<CopyObjectOutput> S3Objects::CopyObject(const CopyObjectInput& in) {
  Result<Bucket> bucket = OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  Result<Bucket> source_bucket = OwnedBucket(in.requester, in.source_bucket);
  if (!source_bucket.ok()) return source_bucket.status();
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(in.key));
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(in.source_key));
  if (in.replace_metadata) LATHE_RETURN_IF_ERROR(ValidateUserMetadata(in.metadata.user));
  if (in.replace_tags) LATHE_RETURN_IF_ERROR(ValidateTags(in.tags));

  // Under the lock: the source's blob cannot be freed between reading its row and sharing it.
  std::lock_guard<std::mutex> lock(mu_);
  Result<ObjectInfo> source = Find(in.source_bucket, in.source_key, in.source_version_id);
  if (!source.ok()) return source.status();
  if (source->delete_marker) {
    if (!in.source_version_id.empty())
      return InvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.");
    return NoSuchKey();
  }
  std::string condition;
  if (Evaluate(in.source_conditions, *source, &condition) != Verdict::kProceed)
    return PreconditionFailed("x-amz-copy-source-" + condition);
  if (in.bucket == in.source_bucket && in.key == in.source_key && !in.replace_metadata &&
      (in.source_version_id.empty() || source->is_latest))
    return InvalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's "
        "metadata, storage class, website redirect location or encryption attributes.");

  ObjectInfo copy;
  copy.bucket = in.bucket;
  copy.key = in.key;
  copy.version_id = bucket->versioning == kEnabled ? NewVersionId() : std::string(store::kNullVersionId);
  copy.blob = source->blob;
  copy.size = source->size;
  copy.etag = source->etag;
  copy.modified_ms = NowMillis();
  copy.metadata = in.replace_metadata ? in.metadata : source->metadata;
  copy.metadata.checksums = source->metadata.checksums;  // the same bytes
  copy.tags = in.replace_tags ? in.tags : source->tags;
  LATHE_RETURN_IF_ERROR(Record(*bucket, in.requester, copy, "CopyObject"));
  copy.is_latest = true;
  return CopyObjectOutput{std::move(copy), source->version_id};
}

Result<ObjectInfo> S3Objects::GetObjectTagging(const Requester& requester, const std::string& bucket,
                                               const std::string& key, const std::string& version_id) {
  Result<Bucket> owned = OwnedBucket(requester, bucket);
  if (!owned.ok()) return owned.status();
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(key));
  Result<ObjectInfo> object = Find(bucket, key, version_id);
  if (!object.ok()) return object.status();
  if (object->delete_marker) return version_id.empty() ? NoSuchKey() : DeleteMarkerNotAllowed();
  return object;
}

Result<std::string> S3Objects::PutObjectTagging(const Requester& requester, const std::string& bucket,
                                                const std::string& key, const std::string& version_id,
                                                const Tags& tags) {
  Result<Bucket> owned = OwnedBucket(requester, bucket);
  if (!owned.ok()) return owned.status();
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(key));
  LATHE_RETURN_IF_ERROR(ValidateTags(tags));
  std::lock_guard<std::mutex> lock(mu_);
  Result<ObjectInfo> object = Find(bucket, key, version_id);
  if (!object.ok()) return object.status();
  if (object->delete_marker) return version_id.empty() ? NoSuchKey() : DeleteMarkerNotAllowed();
  if (!object->is_latest)
    // ObjectIndex::Put makes what it writes the latest version: an older version's tags need
    // an index update that keeps the order (see docs/compatibility.md).
    return NotImplemented("lathe's s3 tags only the latest version of an object");
  object->tags = tags;
  // The same version again: no event (S3 sends "Object Tags Added" only to EventBridge rules
  // lathe does not have yet) and no blob freed (the row still holds it).
  std::vector<std::string> freed;
  Status s = index_->Put(ToVersion(*object), nullptr, &freed);
  if (!s.ok()) return IndexError(s);
  RemoveBlobs(freed);
  return object->version_id;
}

nlohmann::json ObjectDocument(const ObjectInfo& object) { return ToDoc(object); }
ObjectInfo ObjectFromRow(const store::ObjectVersion& row) { return FromVersion(row); }

}  // namespace lathe::s3
