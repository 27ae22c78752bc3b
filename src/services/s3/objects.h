// S3's object semantics without a wire format: keys, versions and delete markers, ranges and
// conditional reads, copies, listings with common prefixes, tags and user metadata. The bytes are
// blobs (store/blob_store.h) named by random ids, never by keys; which version holds which blob
// is the object index's (store/object_index.h). Every change that S3 reports to EventBridge
// ("Object Created", "Object Deleted") is published into the outbox in the same transaction as
// the change, when the bucket's notification configuration asks for it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/checksum.h"
#include "core/env.h"
#include "core/status.h"
#include "services/s3/backend.h"
#include "store/blob_store.h"
#include "store/object_index.h"

namespace lathe::s3 {

// AWS's bounds (Amazon S3 User Guide: "Naming objects", "Working with object metadata",
// "Categorizing your storage using tags"; API Reference: ListObjectsV2, DeleteObjects, PutObject).
inline constexpr size_t kMaxKeyBytes = 1024;
inline constexpr size_t kMaxUserMetadataBytes = 2048;  // names (without x-amz-meta-) plus values
inline constexpr size_t kMaxObjectTags = 10;
inline constexpr size_t kMaxTagKeyChars = 128;
inline constexpr size_t kMaxTagValueChars = 256;
inline constexpr size_t kMaxListKeys = 1000;
inline constexpr size_t kMaxDeleteObjects = 1000;
inline constexpr uint64_t kMaxPutObjectBytes = 5ull << 30;  // larger objects need multipart

// Who asks: the owner check, and the requester, request id and address events carry.
struct Requester {
  std::string account;
  std::string region;
  std::string request_id;
  std::string source_ip;
};

using Tags = std::vector<std::pair<std::string, std::string>>;  // in the order given

// What S3 keeps with an object's bytes and answers with them.
struct ObjectMetadata {
  std::string content_type;  // "" when none was given (the wire answers binary/octet-stream)
  std::string content_encoding, content_disposition, content_language, cache_control, expires;
  std::map<std::string, std::string> user;       // x-amz-meta-<name>: lowercase name -> value
  std::map<std::string, std::string> checksums;  // "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" -> base64
};

// One version of a key, or a delete marker.
struct ObjectInfo {
  std::string bucket, key;
  std::string version_id = store::kNullVersionId;
  bool delete_marker = false;
  bool is_latest = false;
  uint64_t size = 0;
  std::string etag;  // unquoted
  int64_t modified_ms = 0;
  ObjectMetadata metadata;
  Tags tags;
  std::string blob;  // BlobStore id; "" for a delete marker
};

// If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since (or their
// x-amz-copy-source-if-* forms). Absent dates are -1; a date the client wrote badly is ignored,
// as HTTP says.
struct Conditions {
  std::optional<std::string> if_match, if_none_match;  // ETag lists as sent ("*", quoted or not)
  int64_t if_modified_since_ms = -1, if_unmodified_since_ms = -1;
};

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

// An upload's bytes as they arrive: written to a new blob while their MD5 (the ETag) is
// computed. Destroyed before PutObject takes it, it leaves nothing behind (the blob writer
// removes its temporary file), so a refused or broken upload stores nothing.
class ObjectBody {
 public:
  ~ObjectBody();
  // An error is final (disk full: the temporary file is gone); EntityTooLarge past 5 GiB.
  Status Append(std::string_view data);
  uint64_t size() const { return size_; }
  // For a body made with Md5Source::kGivenByCaller: the bytes' MD5 (raw 16 bytes), which the
  // caller computed as it read them; set before the body is committed.
  void set_md5(std::string raw) { given_md5_ = std::move(raw); }

 private:
  friend class S3Objects;
  ObjectBody(std::unique_ptr<store::BlobStore::Writer> writer, bool hash_here);
  std::unique_ptr<store::BlobStore::Writer> writer_;
  std::unique_ptr<Checksum> md5_;  // null when the caller gives the MD5
  std::string given_md5_;
  uint64_t size_ = 0;
};

// Where an upload's MD5 (its ETag) comes from: hashed by ObjectBody as bytes are appended, or
// given by a caller that hashes them already (the wire's upload reader, which checks
// Content-MD5 with it): MD5 is the costliest step of an upload, and is done once.
enum class Md5Source { kComputedHere, kGivenByCaller };

struct PutObjectInput {
  Requester requester;
  std::string bucket, key;
  ObjectMetadata metadata;
  Tags tags;
  // If-None-Match: * (write only when the key has no current object) and If-Match (write only
  // over that ETag): PreconditionFailed otherwise.
  bool if_none_match_any = false;
  std::optional<std::string> if_match;
};

struct GetObjectInput {
  Requester requester;
  std::string bucket, key;
  std::string version_id;  // "" = the latest
  Conditions conditions;
  std::optional<std::string> range;  // the Range header as sent
};

struct ObjectRead {
  ObjectInfo object;
  bool not_modified = false;       // 304: a condition says the client's copy is current
  std::optional<ByteRange> range;  // the bytes to send; nullopt = all of them
  // The version's bytes, opened before any later write could free its blob (an open file keeps
  // them readable), so a read racing an overwrite gets the old bytes whole; null with not_modified.
  std::shared_ptr<RandomAccessFile> file;
};

struct DeleteObjectInput {
  Requester requester;
  std::string bucket, key;
  std::string version_id;  // "" = the key (a delete marker when versioned)
};

struct DeleteObjectOutput {
  bool delete_marker = false;  // a marker was created, or the version removed was one
  std::string version_id;      // of the marker created or the version removed; "" when none
};

struct ObjectIdentifier {
  std::string key, version_id;
};

// One key of DeleteObjects: what happened, or the error (code and message) it met.
struct DeleteOutcome {
  ObjectIdentifier object;
  DeleteObjectOutput deleted;
  Status error;
};

struct CopyObjectInput {
  Requester requester;
  std::string source_bucket, source_key, source_version_id;  // "" = the latest
  Conditions source_conditions;
  std::string bucket, key;
  bool replace_metadata = false;  // x-amz-metadata-directive: REPLACE (else COPY)
  ObjectMetadata metadata;        // with replace_metadata
  bool replace_tags = false;      // x-amz-tagging-directive: REPLACE (else COPY)
  Tags tags;                      // with replace_tags
};

struct CopyObjectOutput {
  ObjectInfo object;
  std::string source_version_id;
};

struct ListObjectsInput {
  std::string account, bucket, prefix, delimiter;
  // Keys after this one (Marker, StartAfter or the continuation token's position); a common
  // prefix that sorts at or before it is not repeated.
  std::string after;
  size_t max_keys = kMaxListKeys;
};

struct ObjectListing {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last;  // the last key or common prefix returned: where the next page starts
};

struct ListVersionsInput {
  std::string account, bucket, prefix, delimiter;
  std::string key_marker, version_id_marker;
  size_t max_keys = kMaxListKeys;
};

struct VersionListing {
  std::vector<ObjectInfo> versions;  // delete markers included, by key then newest first
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker, next_version_id_marker;
};

class S3Objects {
 public:
  // All outlive the object store. Installs BucketHasContents as the buckets' contents check.
  S3Objects(S3Backend* buckets, store::ObjectIndex* index, store::BlobStore* blobs);

  S3Backend* buckets() const { return buckets_; }

  // For multipart parts (multipart.h): a body's blob committed without recording an object.
  struct CommittedBody {
    std::string blob;
    uint64_t size = 0;
    std::string md5_hex;
  };
  Result<CommittedBody> CommitBody(std::unique_ptr<ObjectBody> body);
  // Records the object a multipart upload assembled (its blob committed) and drops the upload
  // and its parts, in one transaction with the "Object Created" event; NoSuchUpload when the
  // upload went away meanwhile. Sets the version id and returns the object.
  Result<ObjectInfo> RecordCompleted(const Requester& requester, const std::string& upload_id, ObjectInfo object);

  // At start-up, before serving: removes temporary and unreferenced blobs (uploads and deletes
  // a crash interrupted). Returns how many files went.
  Result<size_t> RemoveOrphanBlobs();

  // Whether the bucket's notification configuration sends events to EventBridge. Until the
  // notifications are built nothing is published.
  using EventBridgeCheck = std::function<bool(const Bucket& bucket)>;
  void set_event_bridge_check(EventBridgeCheck check) { event_bridge_check_ = std::move(check); }

  // Everything PutObject refuses before reading a byte: the bucket (NoSuchBucket, AccessDenied),
  // the key, metadata and tags. The wire calls it first, then streams the body.
  Status CheckPut(const PutObjectInput& in);
  Result<std::unique_ptr<ObjectBody>> NewBody(Md5Source md5 = Md5Source::kComputedHere);
  // Commits the body's blob and records it as the key's new version (a new version id when
  // versioning is Enabled, "null" otherwise, replacing the null version).
  Result<ObjectInfo> PutObject(const PutObjectInput& in, std::unique_ptr<ObjectBody> body);

  // GetObject and HeadObject. NoSuchKey (or NoSuchVersion, or InvalidArgument for a version id
  // that cannot be one), PreconditionFailed, InvalidRange. When the answer is a delete marker
  // (NoSuchKey for the latest, MethodNotAllowed for a version), *marker is set to it.
  Result<ObjectRead> GetObject(const GetObjectInput& in, ObjectInfo* marker = nullptr);

  // Idempotent: deleting a missing key or version succeeds.
  Result<DeleteObjectOutput> DeleteObject(const DeleteObjectInput& in);
  // Each key on its own; the bucket is checked once (its error fails the whole request).
  Result<std::vector<DeleteOutcome>> DeleteObjects(const Requester& requester, const std::string& bucket,
                                                   const std::vector<ObjectIdentifier>& objects);

  // The copy shares the source's blob (blobs are immutable): no bytes are copied.
  Result<CopyObjectOutput> CopyObject(const CopyObjectInput& in);

  Result<ObjectListing> ListObjects(const ListObjectsInput& in);
  Result<VersionListing> ListObjectVersions(const ListVersionsInput& in);

  // The version's tags, and its version id.
  Result<ObjectInfo> GetObjectTagging(const Requester& requester, const std::string& bucket, const std::string& key,
                                      const std::string& version_id);
  // Replaces the version's tags (an empty set removes them); returns its version id.
  Result<std::string> PutObjectTagging(const Requester& requester, const std::string& bucket, const std::string& key,
                                       const std::string& version_id, const Tags& tags);

 private:
  friend class S3Multipart;  // bucket checks and blob removal are the same for uploads
  Result<Bucket> OwnedBucket(const Requester& requester, const std::string& bucket);
  // The version named (or the latest), delete markers included. NoSuchKey / NoSuchVersion.
  Result<ObjectInfo> Find(const std::string& bucket, const std::string& key, const std::string& version_id);
  // Records `object` (with the "Object Created" event when the bucket asks) and removes the
  // blobs it frees. The caller holds mu_.
  Status Record(const Bucket& bucket, const Requester& requester, const ObjectInfo& object, const char* reason);
  Result<DeleteObjectOutput> DeleteLocked(const Bucket& bucket, const Requester& requester, const std::string& key,
                                          const std::string& version_id);
  void RemoveBlobs(const std::vector<std::string>& freed);
  bool Publishes(const Bucket& bucket) const { return event_bridge_check_ && event_bridge_check_(bucket); }

  S3Backend* buckets_;
  store::ObjectIndex* index_;
  store::BlobStore* blobs_;
  EventBridgeCheck event_bridge_check_;
  // Read-modify-write steps on the index (conditional puts, delete markers, tags) are one step;
  // bodies are streamed outside it.
  std::mutex mu_;
};

// An object's row document (metadata and tags, as the index keeps it) and the object of a row:
// a multipart upload keeps its object-to-be the same way.
nlohmann::json ObjectDocument(const ObjectInfo& object);
ObjectInfo ObjectFromRow(const store::ObjectVersion& row);

// Checks by hand, lengths before content. KeyTooLongError past 1024 bytes; InvalidArgument for
// an empty key or invalid UTF-8.
Status ValidateObjectKey(std::string_view key);
// MetadataTooLarge past 2 KB of names and values; InvalidArgument for a name or value that is
// not printable ASCII text (what an HTTP header can carry back).
Status ValidateUserMetadata(const std::map<std::string, std::string>& user);
// InvalidTag for a bad key or value or a repeated key, BadRequest for more than 10.
Status ValidateTags(const Tags& tags);
// A version id lathe could have made ("null" or NewVersionId's shape).
bool IsVersionId(std::string_view id);
// 32 random URL-safe characters.
std::string NewVersionId();
// The Range header against an object of `size` bytes: nullopt for none or one S3 ignores (not
// a single bytes= range), InvalidRange when no byte of it exists.
Result<std::optional<ByteRange>> ResolveRange(std::string_view header, uint64_t size);

}  // namespace lathe::s3
