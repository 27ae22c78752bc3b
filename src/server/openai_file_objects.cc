#include "server/openai_file_objects.h"

#include <filesystem>

#include "core/arn.h"

namespace lathe::server {

std::string S3OpenAIFileObjects::ScratchFile() const { return scratch_ + "/upload-" + NewResourceId(16); }

Status S3OpenAIFileObjects::Put(const std::string& account, const std::string& key, std::string_view bytes) {
  if (!buckets_->GetBucket(account, Bucket(account)).ok()) {
    s3::CreateBucketInput in;
    in.account = account;
    in.name = Bucket(account);
    in.request_region = region_;
    auto made = buckets_->CreateBucket(in);
    // Another upload may have made it meanwhile.
    if (!made.ok() && !buckets_->GetBucket(account, Bucket(account)).ok()) return made.status();
  }
  LATHE_RETURN_IF_ERROR(env_->CreateDirs(scratch_));
  const std::string path = ScratchFile();
  Status s = WriteFileAtomically(env_, path, std::string(bytes));
  if (s.ok()) s = jobs_->Upload(account, path, service::S3Uri{Bucket(account), key});
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return s;
}

Status S3OpenAIFileObjects::Get(const std::string& account, const std::string& bucket, const std::string& key,
                                uint64_t max_bytes, std::string* bytes) {
  LATHE_RETURN_IF_ERROR(env_->CreateDirs(scratch_));
  const std::string path = ScratchFile();
  Status s = jobs_->Download(account, service::S3Uri{bucket, key}, path, max_bytes);
  if (s.ok()) s = ReadFileToString(env_, path, bytes);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return s;
}

Status S3OpenAIFileObjects::Delete(const std::string& account, const std::string& key) {
  auto bucket = buckets_->GetBucket(account, Bucket(account));
  if (!bucket.ok()) return bucket.status();
  s3::DeleteObjectInput in;
  in.requester = s3::Requester{account, bucket->region, NewResourceId(16), ""};
  in.bucket = Bucket(account);
  in.key = key;
  return objects_->DeleteObject(in).status();
}

}  // namespace lathe::server
