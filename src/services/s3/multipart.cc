#include "services/s3/multipart.h"

#include <algorithm>

#include "aws/wire.h"
#include "core/arn.h"
#include "services/s3/errors.h"

namespace lathe::s3 {
namespace {

constexpr size_t kCopyChunkBytes = 1 << 20;

// The object-to-be an upload keeps (metadata and tags), in the object rows' own document.
ObjectInfo PendingObject(const store::MultipartUpload& row) {
  store::ObjectVersion version;
  version.doc = row.doc.value("object", nlohmann::json::object());
  return ObjectFromRow(version);
}

UploadInfo InfoOf(const store::MultipartUpload& row) {
  UploadInfo info;
  info.upload_id = row.upload_id;
  info.bucket = row.bucket;
  info.key = row.key;
  info.initiated_ms = row.initiated_ms;
  info.checksum_algorithm = row.doc.value("checksumAlgorithm", "");
  info.checksum_type = row.doc.value("checksumType", "");
  info.metadata = PendingObject(row).metadata;
  return info;
}

PartInfo InfoOf(const store::UploadPart& row) {
  PartInfo info;
  info.part_number = row.part_number;
  info.size = row.size;
  info.etag = row.etag;
  info.modified_ms = row.modified_ms;
  info.checksums = row.doc.value("checksums", std::map<std::string, std::string>{});
  return info;
}

}  // namespace

std::string NewUploadId() { return NewResourceId(48); }

Result<UploadInfo> S3Multipart::Create(const CreateUploadInput& in) {
  Result<Bucket> bucket = objects_->OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  LATHE_RETURN_IF_ERROR(ValidateObjectKey(in.key));
  LATHE_RETURN_IF_ERROR(ValidateUserMetadata(in.metadata.user));
  LATHE_RETURN_IF_ERROR(ValidateTags(in.tags));
  if (!in.checksum_algorithm.empty() && !ParseFlexibleChecksum(in.checksum_algorithm))
    return InvalidRequest("Checksum algorithm " + aws::Printable(in.checksum_algorithm, 32) + " is not supported");
  if (!in.checksum_type.empty() && in.checksum_type != "COMPOSITE" && in.checksum_type != "FULL_OBJECT")
    return InvalidRequest("Value for x-amz-checksum-type header is invalid.");
  if (!in.checksum_type.empty() && in.checksum_algorithm.empty())
    return InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
  store::MultipartUpload row;
  row.upload_id = NewUploadId();
  row.bucket = in.bucket;
  row.key = in.key;
  row.initiated_ms = NowMillis();
  std::string type = in.checksum_type;
  // S3's default: FULL_OBJECT for CRC64NVME (its only type), COMPOSITE for the others.
  if (type.empty() && !in.checksum_algorithm.empty())
    type = *ParseFlexibleChecksum(in.checksum_algorithm) == ChecksumAlgorithm::kCrc64Nvme ? "FULL_OBJECT" : "COMPOSITE";
  ObjectInfo pending;
  pending.metadata = in.metadata;
  pending.tags = in.tags;
  row.doc = {{"object", ObjectDocument(pending)},
             {"checksumAlgorithm", in.checksum_algorithm.empty()
                                       ? std::string()
                                       : std::string(ChecksumName(*ParseFlexibleChecksum(in.checksum_algorithm)))},
             {"checksumType", type},
             {"account", in.requester.account}};
  LATHE_RETURN_IF_ERROR(index_->CreateUpload(row));
  return InfoOf(row);
}

Result<UploadInfo> S3Multipart::Check(const UploadRef& ref) {
  Result<Bucket> bucket = objects_->OwnedBucket(ref.requester, ref.bucket);
  if (!bucket.ok()) return bucket.status();
  if (ref.upload_id.empty() || ref.upload_id.size() > 128) return NoSuchUpload();
  Result<store::MultipartUpload> row = index_->GetUpload(ref.upload_id);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? NoSuchUpload() : row.status();
  if (row->bucket != ref.bucket || row->key != ref.key) return NoSuchUpload();
  return InfoOf(*row);
}

Result<PartInfo> S3Multipart::RecordPart(const UploadRef& ref, int part_number, const std::string& blob,
                                         uint64_t size, const std::string& etag,
                                         std::map<std::string, std::string> checksums) {
  store::UploadPart part;
  part.upload_id = ref.upload_id;
  part.part_number = part_number;
  part.blob = blob;
  part.size = size;
  part.etag = etag;
  part.modified_ms = NowMillis();
  part.doc = {{"checksums", checksums}};
  std::vector<std::string> freed;
  Status put = index_->PutPart(part, &freed);
  if (!put.ok()) {
    // The upload went away (aborted or completed) while this part arrived: its blob is nobody's.
    (void)blobs_->Remove(blob);
    return put.code() == Status::Code::kNotFound ? NoSuchUpload() : put;
  }
  objects_->RemoveBlobs(freed);
  return InfoOf(part);
}

Result<PartInfo> S3Multipart::UploadPart(const UploadRef& ref, int part_number, std::unique_ptr<ObjectBody> body,
                                         std::map<std::string, std::string> checksums) {
  Result<UploadInfo> upload = Check(ref);
  if (!upload.ok()) return upload.status();
  if (body->size() > kMaxPartBytes) return EntityTooLarge("A part may hold at most 5 GiB");
  Result<S3Objects::CommittedBody> committed = objects_->CommitBody(std::move(body));
  if (!committed.ok()) return committed.status();
  return RecordPart(ref, part_number, committed->blob, committed->size, committed->md5_hex, std::move(checksums));
}

Status S3Multipart::CopyBytes(const RandomAccessFile& file, uint64_t offset, uint64_t size,
                              store::BlobStore::Writer* out, Checksum* checksum) {
  std::string buf(std::min<uint64_t>(size, kCopyChunkBytes), '\0');
  while (size > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, buf.size()));
    LATHE_RETURN_IF_ERROR(file.Read(offset, n, buf.data()));
    std::string_view chunk(buf.data(), n);
    LATHE_RETURN_IF_ERROR(out->Append(chunk));
    if (checksum) checksum->Update(chunk);
    offset += n;
    size -= n;
  }
  return Status::Ok();
}

Result<PartInfo> S3Multipart::UploadPartCopy(const UploadRef& ref, int part_number, const GetObjectInput& source) {
  Result<UploadInfo> upload = Check(ref);
  if (!upload.ok()) return upload.status();
  Result<ObjectRead> read = objects_->GetObject(source);
  if (!read.ok()) return read.status();
  if (read->not_modified) return PreconditionFailed("x-amz-copy-source-if-none-match / if-modified-since");
  uint64_t offset = read->range ? read->range->first : 0;
  uint64_t size = read->range ? read->range->length() : read->object.size;
  if (size > kMaxPartBytes) return EntityTooLarge("A part may hold at most 5 GiB");
  Result<std::unique_ptr<store::BlobStore::Writer>> writer = blobs_->Create();
  if (!writer.ok()) return writer.status();
  std::unique_ptr<Checksum> md5 = Checksum::New(ChecksumAlgorithm::kMd5);
  LATHE_RETURN_IF_ERROR(CopyBytes(*read->file, offset, size, writer->get(), md5.get()));
  Result<std::string> blob = (*writer)->Commit();
  if (!blob.ok()) return blob.status();
  return RecordPart(ref, part_number, *blob, size, HexEncode(md5->Digest()), {});
}

Result<ObjectInfo> S3Multipart::Complete(const UploadRef& ref, const std::vector<CompletedPart>& requested) {
  Result<UploadInfo> upload = Check(ref);
  if (!upload.ok()) return upload.status();
  Result<std::vector<store::UploadPart>> rows = index_->ListParts(ref.upload_id, 0, kMaxPartNumber);
  if (!rows.ok()) return rows.status();
  std::vector<StoredPart> stored;
  for (const store::UploadPart& p : *rows) stored.push_back({p.part_number, p.size, p.etag});
  Result<std::vector<StoredPart>> chosen = CheckCompletion(requested, stored);
  if (!chosen.ok()) return chosen.status();

  // The flexible checksum the upload asked for: each part's, as the client sent them in the
  // request (checked against what the part upload stored), then the object's.
  std::optional<ChecksumAlgorithm> algorithm;
  if (!upload->checksum_algorithm.empty()) algorithm = ParseFlexibleChecksum(upload->checksum_algorithm);
  const bool full_object = upload->checksum_type == "FULL_OBJECT";
  std::unique_ptr<Checksum> whole = algorithm && full_object ? Checksum::New(*algorithm) : nullptr;
  std::unique_ptr<Checksum> composite = algorithm && !full_object ? Checksum::New(*algorithm) : nullptr;

  Result<std::unique_ptr<store::BlobStore::Writer>> writer = blobs_->Create();
  if (!writer.ok()) return writer.status();
  uint64_t size = 0;
  for (size_t i = 0; i < chosen->size(); ++i) {
    const StoredPart& part = (*chosen)[i];
    const store::UploadPart* row = nullptr;
    for (const store::UploadPart& r : *rows)
      if (r.part_number == part.part_number) row = &r;
    if (algorithm) {
      const std::string name(ChecksumName(*algorithm));
      std::map<std::string, std::string> sent = row->doc.value("checksums", std::map<std::string, std::string>{});
      auto claimed = requested[i].checksums.find(name);
      auto have = sent.find(name);
      if (claimed != requested[i].checksums.end() && have != sent.end() && claimed->second != have->second)
        return Status::Aws("InvalidPart", 400,
                           "One or more of the specified parts could not be found. The part may not have been "
                           "uploaded, or the specified entity tag may not match the part's entity tag. (part " +
                               std::to_string(part.part_number) + ": its " + name + " differs)");
      if (composite) {
        if (have == sent.end())
          return InvalidRequest("Part " + std::to_string(part.part_number) + " was uploaded without the upload's " +
                                name + " checksum");
        std::optional<std::string> raw = Base64Decode(have->second);
        if (!raw) return InternalError("a stored part checksum is not base64");
        composite->Update(*raw);
      }
    }
    std::unique_ptr<RandomAccessFile> file;
    uint64_t blob_size = 0;
    LATHE_RETURN_IF_ERROR(blobs_->Open(row->blob, &file, &blob_size));
    if (blob_size != row->size) return InternalError("part " + std::to_string(row->part_number) + "'s bytes are missing");
    LATHE_RETURN_IF_ERROR(CopyBytes(*file, 0, row->size, writer->get(), whole.get()));
    size += row->size;
  }
  Result<std::string> blob = (*writer)->Commit();
  if (!blob.ok()) return blob.status();

  ObjectInfo object;
  object.bucket = ref.bucket;
  object.key = ref.key;
  object.size = size;
  object.etag = MultipartEtag(*chosen);
  object.modified_ms = NowMillis();
  object.metadata = upload->metadata;
  object.blob = *blob;
  if (whole) object.metadata.checksums[std::string(ChecksumName(*algorithm))] = Base64Encode(whole->Digest());
  if (composite)
    object.metadata.checksums[std::string(ChecksumName(*algorithm))] =
        Base64Encode(composite->Digest()) + "-" + std::to_string(chosen->size());
  Result<store::MultipartUpload> row = index_->GetUpload(ref.upload_id);
  if (row.ok()) object.tags = PendingObject(*row).tags;
  Result<ObjectInfo> recorded = objects_->RecordCompleted(ref.requester, ref.upload_id, object);
  if (!recorded.ok()) (void)blobs_->Remove(*blob);
  return recorded;
}

Status S3Multipart::Abort(const UploadRef& ref) {
  Result<UploadInfo> upload = Check(ref);
  if (!upload.ok()) return upload.status();
  std::vector<std::string> freed;
  Status aborted = index_->AbortUpload(ref.upload_id, &freed);
  if (!aborted.ok()) return aborted.code() == Status::Code::kNotFound ? NoSuchUpload() : aborted;
  objects_->RemoveBlobs(freed);
  return Status::Ok();
}

Result<PartListing> S3Multipart::ListParts(const UploadRef& ref, int part_number_marker, size_t max_parts) {
  Result<UploadInfo> upload = Check(ref);
  if (!upload.ok()) return upload.status();
  max_parts = std::min(max_parts, kMaxListParts);
  Result<std::vector<store::UploadPart>> rows = index_->ListParts(ref.upload_id, part_number_marker, max_parts + 1);
  if (!rows.ok()) return rows.status();
  PartListing out;
  out.upload = *upload;
  // max-parts=0 asks for nothing: an empty page that is not truncated, as ListObjects answers
  // max-keys=0 (a truncated page with no marker to go on from would have a client loop).
  if (max_parts == 0) return out;
  for (const store::UploadPart& p : *rows) {
    if (out.parts.size() == max_parts) {
      out.truncated = true;
      break;
    }
    out.parts.push_back(InfoOf(p));
  }
  if (!out.parts.empty()) out.next_marker = out.parts.back().part_number;
  return out;
}

Result<UploadListing> S3Multipart::ListUploads(const ListUploadsInput& in) {
  Result<Bucket> bucket = objects_->OwnedBucket(in.requester, in.bucket);
  if (!bucket.ok()) return bucket.status();
  const size_t max = std::min(in.max_uploads, kMaxListParts);
  UploadListing out;
  if (max == 0) return out;  // as ListParts: an empty page, not truncated
  std::string after_key = in.key_marker, after_id = in.upload_id_marker;
  // A key-marker alone means "keys after it": past every upload id of that key (ids are ASCII).
  if (!after_key.empty() && after_id.empty()) after_id = "\xff";
  // Pages of rows, folding keys under a common prefix (prefix + up to the delimiter) into one
  // entry and skipping past it, until `max` entries or the end.
  while (out.uploads.size() + out.common_prefixes.size() < max) {
    Result<std::vector<store::MultipartUpload>> rows = index_->ListUploads(in.bucket, in.prefix, after_key, after_id, max + 1);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return out;
    bool skipped = false;
    for (const store::MultipartUpload& row : *rows) {
      if (out.uploads.size() + out.common_prefixes.size() == max) {
        out.truncated = true;
        return out;
      }
      if (!in.delimiter.empty()) {
        size_t at = row.key.find(in.delimiter, in.prefix.size());
        if (at != std::string::npos) {
          std::string common = row.key.substr(0, at + in.delimiter.size());
          out.common_prefixes.push_back(common);
          out.next_key_marker = common;
          out.next_upload_id_marker.clear();
          // Past every key under `common`: keys are valid UTF-8, which never holds a 0xFF byte.
          after_key = common + '\xff';
          after_id = "\xff";
          skipped = true;
          break;
        }
      }
      out.uploads.push_back(InfoOf(row));
      out.next_key_marker = row.key;
      out.next_upload_id_marker = row.upload_id;
      after_key = row.key;
      after_id = row.upload_id;
    }
    if (!skipped && rows->size() <= max) return out;
  }
  // Full: whether anything follows decides IsTruncated.
  Result<std::vector<store::MultipartUpload>> more = index_->ListUploads(in.bucket, in.prefix, after_key, after_id, 1);
  if (!more.ok()) return more.status();
  out.truncated = !more->empty();
  return out;
}

}  // namespace lathe::s3
