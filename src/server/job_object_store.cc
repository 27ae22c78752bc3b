#include "server/job_object_store.h"

#include <algorithm>
#include <memory>

#include "core/arn.h"

namespace lathe::server {
namespace {

constexpr size_t kPiece = 1 << 20;  // bytes in memory at a time

}  // namespace

std::string JobArtifactContentType(const std::string& key) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".csv")) return "text/csv";
  if (ends_with(".json")) return "application/json";
  return "";
}

Result<s3::Requester> S3JobObjectStore::RequesterFor(const std::string& account, const std::string& bucket) {
  auto owned = buckets_->GetBucket(account, bucket);  // NoSuchBucket, AccessDenied
  if (!owned.ok()) return owned.status();
  s3::Requester r;
  r.account = account;
  r.region = owned->region;
  r.request_id = NewResourceId(16);
  return r;
}

Status S3JobObjectStore::CheckBucket(const std::string& account, const std::string& bucket) {
  return buckets_->GetBucket(account, bucket).status();
}

Status S3JobObjectStore::Download(const std::string& account, const service::S3Uri& object, const std::string& path,
                                  uint64_t max_bytes) {
  service::ObjectFacts ignored;
  return DownloadVersion(account, object, path, max_bytes, &ignored);
}

Status S3JobObjectStore::DownloadVersion(const std::string& account, const service::S3Uri& object,
                                         const std::string& path, uint64_t max_bytes, service::ObjectFacts* facts) {
  auto requester = RequesterFor(account, object.bucket);
  if (!requester.ok()) return requester.status();
  s3::GetObjectInput in;
  in.requester = *requester;
  in.bucket = object.bucket;
  in.key = object.key;
  auto read = objects_->GetObject(in);  // the latest version; NoSuchKey for none or a delete marker
  if (!read.ok()) return read.status();
  if (read->object.size > max_bytes)
    return Status::InvalidArgument(object.ToString() + " has " + std::to_string(read->object.size) +
                                   " bytes; a job reads at most " + std::to_string(max_bytes) + " bytes of this file");
  // GetObject opened the version's bytes: an overwrite of the key meanwhile makes a new blob,
  // so this copy is the version found, whole.
  facts->etag = read->object.etag;
  facts->version_id = read->object.version_id == store::kNullVersionId ? "" : read->object.version_id;
  facts->size = read->object.size;
  facts->modified_ms = read->object.modified_ms;
  const std::shared_ptr<RandomAccessFile>& file = read->file;
  std::unique_ptr<AtomicFileWriter> out;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env_, path, &out));
  std::string piece(kPiece, '\0');
  const uint64_t size = read->object.size;
  for (uint64_t offset = 0; offset < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kPiece, size - offset));
    LATHE_RETURN_IF_ERROR(file->Read(offset, n, piece.data()));
    LATHE_RETURN_IF_ERROR(out->Append(std::string_view(piece.data(), n)));
    offset += n;
  }
  return out->Commit();
}

Status S3JobObjectStore::Upload(const std::string& account, const std::string& path, const service::S3Uri& object) {
  auto requester = RequesterFor(account, object.bucket);
  if (!requester.ok()) return requester.status();
  s3::PutObjectInput in;
  in.requester = *requester;
  in.bucket = object.bucket;
  in.key = object.key;
  in.metadata.content_type = JobArtifactContentType(object.key);
  LATHE_RETURN_IF_ERROR(objects_->CheckPut(in));
  auto body = objects_->NewBody();
  if (!body.ok()) return body.status();
  std::unique_ptr<SequentialFile> file;
  LATHE_RETURN_IF_ERROR(env_->NewSequentialFile(path, &file));
  std::string piece(kPiece, '\0');
  for (;;) {
    size_t n = 0;
    LATHE_RETURN_IF_ERROR(file->Read(piece.size(), piece.data(), &n));
    if (n == 0) break;
    LATHE_RETURN_IF_ERROR((*body)->Append(std::string_view(piece.data(), n)));
  }
  return objects_->PutObject(in, std::move(*body)).status();
}

}  // namespace lathe::server
