#include "service/job_data_locations.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "service/job_outputs.h"

namespace lathe::service {
namespace fs = std::filesystem;

namespace {

// What S3 said, as its SDKs print it: "NoSuchKey: The specified key does not exist."
std::string Said(const Status& s) { return s.aws_code().empty() ? s.message() : s.aws_code() + ": " + s.message(); }

// The local files under run_dir/<subdir> for each subdir that exists, with their keys relative to
// run_dir ("training_artifacts/step_wise_training_metrics.csv"), in key order.
Result<std::vector<std::pair<std::string, std::string>>> FilesToUpload(const std::string& run_dir,
                                                                         const std::vector<std::string>& subdirs) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& sub : subdirs) {
    const fs::path from = fs::path(run_dir) / sub;
    if (!fs::is_directory(from, ec)) continue;
    for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec))
        files.emplace_back(it->path().string(), fs::relative(it->path(), run_dir).generic_string());
    if (ec) return Status::IOError("cannot list " + from.string() + ": " + ec.message());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return files;
}

}  // namespace

Status JobDataLocations::NeedObjectStore(const std::string& uri) const {
  // LocalDataLocations words the refusal (and says what does work).
  if (objects_ == nullptr) return local_->FileForReading(uri).status();
  return Status::Ok();
}

Result<std::string> JobDataLocations::CheckInput(const std::string& uri) const {
  if (!IsS3Uri(uri)) return local_->FileForReading(uri);
  LATHE_RETURN_IF_ERROR(NeedObjectStore(uri));
  auto object = ParseS3ObjectUri(uri);
  if (!object.ok()) return object.status();
  return object->ToString();
}

Result<std::string> JobDataLocations::CheckOutput(const std::string& uri) const {
  if (!IsS3Uri(uri)) return local_->FolderForWriting(uri);
  LATHE_RETURN_IF_ERROR(NeedObjectStore(uri));
  auto prefix = ParseS3PrefixUri(uri);
  if (!prefix.ok()) return prefix.status();
  return prefix->ToString();
}

Result<std::string> JobDataLocations::FetchInput(const std::string& account, const std::string& input,
                                                 const std::string& snapshot, uint64_t max_bytes) const {
  if (!IsS3Uri(input)) {
    // Checked again as the job runs: a symlink swapped in since the request must not lead out
    // of fileRoots.
    auto now = local_->FileForReading(input);
    if (!now.ok()) return now.status();
    if (*now != input)
      return Status::InvalidArgument(input + ": now resolves to another file than when the job was created");
    return input;
  }
  auto object = ParseS3ObjectUri(input);
  if (!object.ok()) return object.status();
  // Written whole or not at all: one that exists is the copy this job took when it first ran.
  if (env_->FileExists(snapshot)) return snapshot;
  LATHE_RETURN_IF_ERROR(NeedObjectStore(input));
  LATHE_RETURN_IF_ERROR(env_->CreateDirs(fs::path(snapshot).parent_path().string()));
  Status s = objects_->Download(account, *object, snapshot, max_bytes);
  if (s.ok()) return snapshot;
  // S3's refusals in Bedrock's words; the rest (too large, a full disk) as they are.
  if (!s.aws_code().empty())
    return Status::InvalidArgument("Could not validate GetObject permissions to access Amazon S3 bucket: " +
                                   object->bucket + " at key " + object->key + " (" + input + ": " + Said(s) + ")");
  if (s.code() == Status::Code::kInvalidArgument) return s;
  return Status::IOError(input + ": could not be copied into the job's folder: " + s.message());
}

Status JobDataLocations::PrepareOutput(const std::string& account, const std::string& output) const {
  if (!IsS3Uri(output)) return local_->CreateFolderForWriting(output).status();
  auto prefix = ParseS3PrefixUri(output);
  if (!prefix.ok()) return prefix.status();
  LATHE_RETURN_IF_ERROR(NeedObjectStore(output));
  if (Status s = objects_->CheckBucket(account, prefix->bucket); !s.ok())
    return Status::InvalidArgument("Could not validate PutObject permissions to access Amazon S3 bucket: " +
                                   prefix->bucket + " (the output location " + output + ": " + Said(s) + ")");
  return Status::Ok();
}

Status JobDataLocations::CheckRoleAccess(const std::string& account, const std::string& role_arn,
                                         const std::vector<std::string>& inputs, const std::string& output) const {
  if (!role_access_) return Status::Ok();
  auto refusal = [&](const char* action, const S3Uri& at) {
    return role_access_(account, role_arn, action, "arn:aws:s3:::" + at.bucket + "/" + at.key);
  };
  for (const std::string& input : inputs) {
    if (!IsS3Uri(input)) continue;  // a local file is no S3 resource: fileRoots bound it
    auto object = ParseS3ObjectUri(input);
    if (!object.ok()) return object.status();
    if (std::string why = refusal("s3:GetObject", *object); !why.empty())
      return Status::InvalidArgument("Could not validate GetObject permissions to access Amazon S3 bucket: " +
                                     object->bucket + " at key " + object->key + " (" + input + ": AccessDenied: " +
                                     why + ")");
  }
  if (!IsS3Uri(output)) return Status::Ok();
  auto prefix = ParseS3PrefixUri(output);
  if (!prefix.ok()) return prefix.status();
  // The prefix itself stands for the keys under it: a policy's "arn:aws:s3:::b/out/*" covers it.
  if (std::string why = refusal("s3:PutObject", *prefix); !why.empty())
    return Status::InvalidArgument("Could not validate PutObject permissions to access Amazon S3 bucket: " +
                                   prefix->bucket + " (the output location " + output + ": AccessDenied: " + why + ")");
  return Status::Ok();
}

Result<std::string> JobDataLocations::PublishOutputs(const std::string& account, const std::string& output,
                                                     const std::string& run_dir,
                                                     const std::vector<std::string>& subdirs,
                                                     const std::string& name) const {
  if (!IsS3Uri(output)) {
    // The location is checked again (training took a while); the job's folder is staged beside
    // its final name and renamed into place, complete or absent.
    auto parent = local_->CreateFolderForWriting(output);
    const std::string out = (parent.ok() ? *parent : output) + "/" + name;
    Status copied = parent.ok() ? CopyJobOutputs(env_, run_dir, subdirs, out) : parent.status();
    if (!copied.ok()) return Status::IOError("The job's outputs could not be written to " + out + ": " + copied.message());
    return out;
  }
  auto prefix = ParseS3PrefixUri(output);
  if (!prefix.ok()) return prefix.status();
  const S3Uri folder{prefix->bucket, prefix->key + name + "/"};
  auto fail = [&](const std::string& why) {
    return Status::IOError("The job's outputs could not be uploaded to " + folder.ToString() + ": " + why);
  };
  LATHE_RETURN_IF_ERROR(NeedObjectStore(output));
  auto files = FilesToUpload(run_dir, subdirs);
  if (!files.ok()) return fail(files.status().message());
  // Everything is complete on disk before the first upload; S3 has no folder to rename, so a
  // failure midway leaves the files uploaded so far, and the job fails saying which one did not go.
  for (const auto& [path, relative] : *files) {
    const S3Uri object{folder.bucket, folder.key + relative};
    if (object.key.size() > kMaxS3KeyBytes) return fail(object.ToString() + ": the key would exceed 1024 bytes");
    if (Status s = objects_->Upload(account, path, object); !s.ok()) return fail(object.ToString() + ": " + Said(s));
  }
  return folder.ToString();
}

}  // namespace lathe::service
