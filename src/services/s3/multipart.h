// Multipart uploads: parts written as blobs of their own while the upload is open, then
// assembled into one new blob when it completes (the object is then read like any other, ranges
// included). An upload, its parts and the object it becomes are rows of the object index, so a
// crash leaves the upload as it was before the interrupted step: a part half received is gone
// (its temporary file is removed at start-up), the parts before it remain; a completion either
// made the object (and dropped the upload) or did not happen.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "services/s3/multipart_shapes.h"
#include "services/s3/objects.h"
#include "store/blob_store.h"
#include "store/object_index.h"

namespace lathe::s3 {

struct CreateUploadInput {
  Requester requester;
  std::string bucket, key;
  ObjectMetadata metadata;  // the object's, kept until completion (checksums: none yet)
  Tags tags;
  std::string checksum_algorithm;  // x-amz-checksum-algorithm: "" or CRC32, CRC32C, ...
  std::string checksum_type;       // x-amz-checksum-type: "" , COMPOSITE or FULL_OBJECT
};

struct UploadRef {
  Requester requester;
  std::string bucket, key, upload_id;
};

struct PartInfo {
  int part_number = 0;
  uint64_t size = 0;
  std::string etag;  // unquoted
  int64_t modified_ms = 0;
  std::map<std::string, std::string> checksums;  // as the client's checksum header gave them
};

struct UploadInfo {
  std::string upload_id, bucket, key;
  int64_t initiated_ms = 0;
  std::string checksum_algorithm, checksum_type;
  ObjectMetadata metadata;
};

struct PartListing {
  UploadInfo upload;
  std::vector<PartInfo> parts;
  bool truncated = false;
  int next_marker = 0;
};

struct UploadListing {
  std::vector<UploadInfo> uploads;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};

struct ListUploadsInput {
  Requester requester;
  std::string bucket, prefix, delimiter, key_marker, upload_id_marker;
  size_t max_uploads = kMaxListParts;
};

class S3Multipart {
 public:
  // Both outlive this.
  S3Multipart(S3Objects* objects, store::ObjectIndex* index, store::BlobStore* blobs)
      : objects_(objects), index_(index), blobs_(blobs) {}

  S3Objects* objects() const { return objects_; }

  Result<UploadInfo> Create(const CreateUploadInput& in);
  // NoSuchUpload unless the upload is open for that bucket and key (checked before a part's
  // body is read).
  Result<UploadInfo> Check(const UploadRef& ref);
  // Records a part whose bytes `body` received (replacing a part of that number).
  Result<PartInfo> UploadPart(const UploadRef& ref, int part_number, std::unique_ptr<ObjectBody> body,
                              std::map<std::string, std::string> checksums);
  // A part copied from (a range of) an existing object: x-amz-copy-source[-range].
  Result<PartInfo> UploadPartCopy(const UploadRef& ref, int part_number, const GetObjectInput& source);
  // Assembles the parts named into the object (InvalidPart, InvalidPartOrder, EntityTooSmall);
  // the upload is gone afterwards.
  Result<ObjectInfo> Complete(const UploadRef& ref, const std::vector<CompletedPart>& parts);
  Status Abort(const UploadRef& ref);
  Result<PartListing> ListParts(const UploadRef& ref, int part_number_marker, size_t max_parts);
  Result<UploadListing> ListUploads(const ListUploadsInput& in);

 private:
  // Writes `size` bytes of `file` from `offset` into `out`, adding them to `checksum` when given.
  Status CopyBytes(const RandomAccessFile& file, uint64_t offset, uint64_t size, store::BlobStore::Writer* out,
                   Checksum* checksum);
  Result<PartInfo> RecordPart(const UploadRef& ref, int part_number, const std::string& blob, uint64_t size,
                              const std::string& etag, std::map<std::string, std::string> checksums);

  S3Objects* objects_;
  store::ObjectIndex* index_;
  store::BlobStore* blobs_;
};

// An upload id: 48 random URL-safe characters (what S3's look like in length).
std::string NewUploadId();
inline Status NoSuchUpload() {
  return Status::Aws("NoSuchUpload", 404,
                     "The specified upload does not exist. The upload ID may be invalid, or the upload may have "
                     "been aborted or completed.",
                     Status::Code::kNotFound);
}

}  // namespace lathe::s3
