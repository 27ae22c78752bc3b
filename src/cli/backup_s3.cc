// BackupToS3 / RestoreFromS3 (backup_s3.h): a local backup folder carried to and from a prefix.
#include "cli/backup_s3.h"

#include <stdlib.h>

#include <filesystem>

#include "cli/s3_client.h"
#include "service/s3_uri.h"

namespace lathe::cli {
namespace {

namespace fs = std::filesystem;

// A folder under $TMPDIR, removed with everything in it when this goes.
class TempFolder {
 public:
  Status Make() {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string pattern = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/lathe-backup-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      return Status::IOError("cannot create a temporary folder for the backup (" + pattern +
                             "); set TMPDIR to a folder with room for the whole backup");
    path_ = pattern;
    return Status::Ok();
  }
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

service::S3Uri Under(const service::S3Uri& prefix, const std::string& rel) { return {prefix.bucket, prefix.key + rel}; }

}  // namespace

Result<store::BackupReport> BackupToS3(const std::string& data_dir, const std::string& uri, const ClientOptions& client,
                                       const std::string& lathe_version) {
  auto prefix = service::ParseS3PrefixUri(uri);
  if (!prefix.ok()) return prefix.status();
  S3Client s3(client);
  const service::S3Uri manifest = Under(*prefix, store::kBackupManifestName);
  auto existing = s3.Head(manifest);
  if (existing.ok())
    return Status::AlreadyExists(manifest.ToString() + " exists: a backup is there already; give another prefix");
  if (existing.status().code() != Status::Code::kNotFound) return existing.status();

  TempFolder temp;
  LATHE_RETURN_IF_ERROR(temp.Make());
  const std::string local = temp.path() + "/backup";
  auto report = store::BackupDataDir(data_dir, local, lathe_version);
  if (!report.ok()) return report.status();
  auto files = store::BackupManifestFiles(local);
  if (!files.ok()) return files.status();
  for (const std::string& rel : *files) LATHE_RETURN_IF_ERROR(s3.Upload(local + "/" + rel, Under(*prefix, rel)));
  LATHE_RETURN_IF_ERROR(s3.Upload(local + "/" + store::kBackupManifestName, manifest));
  return report;
}

Result<store::RestoreReport> RestoreFromS3(const std::string& uri, const std::string& data_dir, const ClientOptions& client) {
  auto prefix = service::ParseS3PrefixUri(uri);
  if (!prefix.ok()) return prefix.status();
  std::error_code ec;
  // Checked again by RestoreDataDir; here before anything is downloaded.
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec))
    return Status::InvalidArgument("the data directory " + data_dir + " is not empty: restore into a new or empty one");
  S3Client s3(client);
  TempFolder temp;
  LATHE_RETURN_IF_ERROR(temp.Make());
  const std::string local = temp.path() + "/backup";
  fs::create_directories(local, ec);
  if (ec) return Status::IOError("cannot create " + local + ": " + ec.message());
  const service::S3Uri manifest = Under(*prefix, store::kBackupManifestName);
  Status got = s3.Download(manifest, local + "/" + store::kBackupManifestName);
  if (got.code() == Status::Code::kNotFound)
    return Status::NotFound(manifest.ToString() + " does not exist: " + prefix->ToString() +
                            " holds no lathe backup, or one whose upload did not finish (manifest.json goes last)");
  LATHE_RETURN_IF_ERROR(got);
  auto files = store::BackupManifestFiles(local);  // every path checked before one is written
  if (!files.ok()) return files.status();
  for (const std::string& rel : *files) {
    fs::create_directories(fs::path(local + "/" + rel).parent_path(), ec);
    Status s = s3.Download(Under(*prefix, rel), local + "/" + rel);
    if (s.code() == Status::Code::kNotFound)
      return Status::Corruption(Under(*prefix, rel).ToString() + " is missing: the backup is incomplete; nothing was restored");
    LATHE_RETURN_IF_ERROR(s);
  }
  return store::RestoreDataDir(local, data_dir);
}

}  // namespace lathe::cli
