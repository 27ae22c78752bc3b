#include "cli/s3_staging.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace lathe::cli {

// The default Env with s3:// names replaced by the staging's local copies.
class MappedEnv : public Env {
 public:
  explicit MappedEnv(const S3Staging* staging) : staging_(staging) {}

  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override {
    return base()->NewSequentialFile(Map(path), out);
  }
  Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    return base()->NewRandomAccessFile(Map(path), out);
  }
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    return base()->NewWritableFile(Map(path), out);
  }
  Status GetFileSize(const std::string& path, uint64_t* size) override { return base()->GetFileSize(Map(path), size); }
  bool FileExists(const std::string& path) override { return base()->FileExists(Map(path)); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base()->RenameFile(Map(from), Map(to));
  }
  Status RemoveFile(const std::string& path) override { return base()->RemoveFile(Map(path)); }
  Status CreateDirs(const std::string& path) override { return base()->CreateDirs(Map(path)); }

 private:
  static Env* base() { return Env::Default(); }
  std::string Map(const std::string& name) const {
    if (!service::IsS3Uri(name)) return name;
    if (auto f = staging_->files_.find(name); f != staging_->files_.end()) return f->second;
    for (const auto& [prefix, folder] : staging_->folders_) {
      if (name.compare(0, prefix.size(), prefix) == 0) return folder + "/" + name.substr(prefix.size());
      if (name.size() + 1 == prefix.size() && prefix.compare(0, name.size(), name) == 0) return folder;
    }
    // An s3:// name nobody staged: a path that cannot exist, so it fails as a missing file would.
    return "/nonexistent/" + name;
  }
  const S3Staging* staging_;
};

bool IsS3Name(const std::string& name) { return service::IsS3Uri(name); }

S3Staging::S3Staging(const ClientOptions& options) : client_(options), env_(std::make_unique<MappedEnv>(this)) {}

S3Staging::~S3Staging() {
  if (temp_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(temp_, ec);
}

Result<std::string> S3Staging::TempFolder() {
  if (!temp_.empty()) return temp_;
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/lathe-s3-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return Status::IOError("cannot create a temporary folder for s3:// data (" + pattern + "); set TMPDIR");
  temp_ = pattern;
  return temp_;
}

Status S3Staging::Input(const std::string& name) {
  if (!IsS3Name(name) || files_.count(name)) return Status::Ok();
  auto object = service::ParseS3ObjectUri(name);
  if (!object.ok()) return object.status();
  auto dir = TempFolder();
  if (!dir.ok()) return dir.status();
  // The copy's name is ours (a counter), never the key: keys are not paths.
  const std::string local = *dir + "/input-" + std::to_string(files_.size() + 1);
  LATHE_RETURN_IF_ERROR(client_.Download(*object, local));
  files_[name] = local;
  return Status::Ok();
}

Status S3Staging::OutputFolder(const std::string& uri) {
  auto prefix = service::ParseS3PrefixUri(uri);
  if (!prefix.ok()) return prefix.status();
  std::string key = prefix->ToString();
  if (key.back() != '/') key += '/';  // the bucket itself: "s3://b/"
  auto dir = TempFolder();
  if (!dir.ok()) return dir.status();
  const std::string local = *dir + "/output-" + std::to_string(folders_.size() + 1);
  LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(local));
  folders_[key] = local;
  return Status::Ok();
}

Status S3Staging::Upload(const std::string& uri, const std::vector<std::string>& names) {
  auto prefix = service::ParseS3PrefixUri(uri);
  if (!prefix.ok()) return prefix.status();
  std::string key = prefix->ToString();
  if (key.back() != '/') key += '/';
  auto folder = folders_.find(key);
  if (folder == folders_.end()) return Status::Internal(uri + " was not staged as an output folder");
  for (const auto& name : names) {
    const service::S3Uri object{prefix->bucket, prefix->key + name};
    LATHE_RETURN_IF_ERROR(client_.Upload(folder->second + "/" + name, object));
  }
  return Status::Ok();
}

Result<bool> S3Staging::Exists(const service::S3Uri& object) {
  auto size = client_.Head(object);
  if (size.ok()) return true;
  if (size.status().code() == Status::Code::kNotFound) return false;
  return size.status();
}

}  // namespace lathe::cli
