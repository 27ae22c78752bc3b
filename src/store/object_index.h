// Where S3 objects, their versions and multipart uploads are recorded: tables in lathe's metadata
// database (metadata_store.h), so that an object's row and the "Object Created" event it causes
// are one transaction (the event outbox). The bytes are blobs (blob_store.h), named here by id.
// The index knows S3's version bookkeeping but nothing of its wire format: the JSON `doc` of each
// row belongs to the S3 service (content type, user metadata, checksums, tags, part sizes).
//
// Keys are compared as bytes (S3 lists keys in UTF-8 binary order). Thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::store {

// The version id of objects written while a bucket's versioning is off or suspended.
inline constexpr char kNullVersionId[] = "null";

struct ObjectVersion {
  std::string bucket, key;
  std::string version_id = kNullVersionId;
  bool delete_marker = false;
  bool is_latest = false;  // set on reads; Put makes the written version the latest
  std::string blob;        // BlobStore id; "" for a delete marker
  uint64_t size = 0;
  std::string etag;        // unquoted: 32 hex, or 32 hex + "-<parts>" for multipart
  int64_t modified_ms = 0;
  nlohmann::json doc = nlohmann::json::object();
};

struct MultipartUpload {
  std::string upload_id, bucket, key;
  int64_t initiated_ms = 0;
  nlohmann::json doc = nlohmann::json::object();
};

struct UploadPart {
  std::string upload_id;
  int part_number = 0;  // 1..10000
  std::string blob;
  uint64_t size = 0;
  std::string etag;     // unquoted 32 hex
  int64_t modified_ms = 0;
  nlohmann::json doc = nlohmann::json::object();
};

class ObjectIndex {
 public:
  // Creates its tables in `store` when missing. `store` outlives the index.
  static Result<std::unique_ptr<ObjectIndex>> Open(MetadataStore* store);

  // Objects and versions. A version with the same (bucket, key, version_id) is replaced (the
  // "null" version, when versioning is off or suspended); every other version of the key stays
  // and stops being the latest. `event`, when given, is published in the same transaction. The
  // blobs no longer referenced by any row are appended to *freed: the caller removes them from
  // the BlobStore after this returns (a crash before that leaves orphans, removed at start-up).
  Status Put(const ObjectVersion& version, const OutboxEvent* event, std::vector<std::string>* freed);
  // The latest version when version_id is "", which may be a delete marker (the caller decides
  // what that means). NotFound when there is no such key or version.
  Result<ObjectVersion> Get(const std::string& bucket, const std::string& key, const std::string& version_id);
  // Removes one version for good (the latest when version_id is ""); when it was the latest, the
  // newest remaining version becomes the latest. NotFound when absent. Event and freed blobs as
  // for Put.
  Status Remove(const std::string& bucket, const std::string& key, const std::string& version_id,
                const OutboxEvent* event, std::vector<std::string>* freed);

  // Latest versions that are not delete markers, whose key starts with `prefix` and sorts after
  // `after` (bytewise), in key order; at most `limit`. Listing with a delimiter calls this
  // repeatedly, skipping past each common prefix.
  Result<std::vector<ObjectVersion>> ListLatest(const std::string& bucket, const std::string& prefix,
                                                const std::string& after, size_t limit);
  // Every version (delete markers too), by key, then newest first; starting after the version
  // (after_key, after_version_id), or at after_key's first version when after_version_id is ""
  // (S3's KeyMarker alone starts after the key: pass after_key + '\0'). A version marker that no
  // longer exists continues with the next key.
  Result<std::vector<ObjectVersion>> ListVersions(const std::string& bucket, const std::string& prefix,
                                                  const std::string& after_key,
                                                  const std::string& after_version_id, size_t limit);
  // Whether the bucket holds any version or multipart upload (DeleteBucket's BucketNotEmpty).
  Result<bool> BucketHasContents(const std::string& bucket);

  // Multipart uploads.
  Status CreateUpload(const MultipartUpload& upload);
  // NotFound when absent (completed or aborted).
  Result<MultipartUpload> GetUpload(const std::string& upload_id);
  // By key, then initiation time; starting after (after_key, after_upload_id), or at after_key's
  // first upload when after_upload_id is "" (as ListVersions).
  Result<std::vector<MultipartUpload>> ListUploads(const std::string& bucket, const std::string& prefix,
                                                   const std::string& after_key,
                                                   const std::string& after_upload_id, size_t limit);
  // Replaces a part of the same number; NotFound when the upload is gone (the part's own blob
  // is then the caller's to remove). The replaced part's blob goes to *freed.
  Status PutPart(const UploadPart& part, std::vector<std::string>* freed);
  // By part number, after `after_part`; at most `limit`. NotFound when the upload is gone.
  Result<std::vector<UploadPart>> ListParts(const std::string& upload_id, int after_part, size_t limit);
  // In one transaction: the upload and its parts are removed and `version` (whose blob holds the
  // assembled object) is Put. NotFound when the upload is gone. Every part's blob goes to *freed.
  Status CompleteUpload(const std::string& upload_id, const ObjectVersion& version, const OutboxEvent* event,
                        std::vector<std::string>* freed);
  Status AbortUpload(const std::string& upload_id, std::vector<std::string>* freed);

  // Every blob id a row refers to (versions and parts): what BlobStore::RemoveOrphans keeps.
  Result<std::set<std::string>> LiveBlobs();

 private:
  explicit ObjectIndex(MetadataStore* store) : store_(store) {}
  MetadataStore* store_;
};

}  // namespace lathe::store
