#include "service/job_artifacts.h"

#include <unistd.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "core/env.h"

namespace lathe::service {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kCheckpointParts[] = {"params", "optim", "best", "rng"};

std::string PartName(const char* part, int64_t generation) {
  return std::string(part) + "-" + std::to_string(generation) + ".pt";
}

std::string CheckpointKey(const std::string& job_id, const std::string& name) {
  return "checkpoints/" + job_id + "/" + name;
}

// The generation a state.json names; 0 when it names none.
int64_t GenerationOf(const std::string& state_text) {
  const json state = json::parse(state_text, nullptr, false);
  if (!state.is_object() || !state.contains("generation") || !state["generation"].is_number_integer()) return 0;
  return std::max<int64_t>(0, state["generation"].get<int64_t>());
}

int64_t LocalGeneration(const std::string& dir) {
  std::string text;
  if (!ReadFileToString(Env::Default(), dir + "/state.json", &text).ok()) return 0;
  return GenerationOf(text);
}

// A name inside a model folder, as stored: relative, '/'-separated, no "." or ".." parts, at most
// 8 levels, printable.
bool SafeRelativeName(const std::string& name) {
  if (name.empty() || name.size() > 512 || name.front() == '/' || name.back() == '/') return false;
  int depth = 0;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || ++depth > 8) return false;
    start = end + 1;
  }
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  return true;
}

}  // namespace

Status JobArtifacts::UploadCheckpoint(const std::string& job_id, const std::string& dir, int64_t* uploaded) {
  std::string state;
  if (!ReadFileToString(Env::Default(), dir + "/state.json", &state).ok()) return Status::Ok();  // none yet
  const int64_t g = GenerationOf(state);
  if (g <= *uploaded) return Status::Ok();
  int64_t replaced = *uploaded;
  if (replaced == 0) {  // the first upload: a worker before this one may have left one
    auto in_bucket = BucketGeneration(job_id);
    if (!in_bucket.ok()) return in_bucket.status();
    replaced = *in_bucket;
  }
  // Hard links hold this generation's files while they go up: the trainer deletes them once it
  // has written the next one, and a half-sent file must not be mistaken for a whole one.
  const std::string snapshot = dir + ".upload";
  std::error_code ec;
  fs::remove_all(snapshot, ec);
  fs::create_directories(snapshot, ec);
  if (ec) return Status::IOError("cannot create " + snapshot + ": " + ec.message());
  for (const char* part : kCheckpointParts) {
    fs::create_hard_link(dir + "/" + PartName(part, g), snapshot + "/" + PartName(part, g), ec);
    if (ec) {  // replaced meanwhile: the next call uploads the newer checkpoint
      fs::remove_all(snapshot, ec);
      return Status::Ok();
    }
  }
  Status s = WriteFileAtomically(Env::Default(), snapshot + "/state.json", state);
  for (const char* part : kCheckpointParts)
    if (s.ok()) s = objects_->Upload(account_, snapshot + "/" + PartName(part, g), Object(CheckpointKey(job_id, PartName(part, g))));
  if (s.ok()) s = objects_->Upload(account_, snapshot + "/state.json", Object(CheckpointKey(job_id, "state.json")));
  fs::remove_all(snapshot, ec);
  if (!s.ok()) return s;
  if (replaced > 0 && replaced != g) (void)DeleteGeneration(job_id, replaced);  // state.json now names g
  *uploaded = g;
  return Status::Ok();
}

Result<int64_t> JobArtifacts::BucketGeneration(const std::string& job_id) {
  std::error_code ec;
  fs::create_directories(scratch_, ec);
  const std::string path = scratch_ + "/" + job_id + ".state.json";
  Status s = objects_->Download(account_, Object(CheckpointKey(job_id, "state.json")), path, kMaxCheckpointStateBytes);
  if (!s.ok()) return s.aws_code() == "NoSuchKey" || s.http_status() == 404 ? Result<int64_t>(int64_t{0}) : Result<int64_t>(s);
  std::string state;
  s = ReadFileToString(Env::Default(), path, &state);
  fs::remove(path, ec);
  if (!s.ok()) return s;
  return GenerationOf(state);
}

Status JobArtifacts::RemoveCheckpoint(const std::string& job_id, int64_t generation) {
  auto in_bucket = BucketGeneration(job_id);
  if (!in_bucket.ok()) return in_bucket.status();
  LATHE_RETURN_IF_ERROR(objects_->Delete(account_, Object(CheckpointKey(job_id, "state.json"))));
  Status first = *in_bucket > 0 ? DeleteGeneration(job_id, *in_bucket) : Status::Ok();
  Status mine = generation > 0 && generation != *in_bucket ? DeleteGeneration(job_id, generation) : Status::Ok();
  return first.ok() ? mine : first;
}

Status JobArtifacts::DeleteGeneration(const std::string& job_id, int64_t generation) {
  Status first = Status::Ok();
  for (const char* part : kCheckpointParts) {
    Status s = objects_->Delete(account_, Object(CheckpointKey(job_id, PartName(part, generation))));
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

Result<int64_t> JobArtifacts::DownloadCheckpoint(const std::string& job_id, const std::string& dir) {
  const int64_t local = LocalGeneration(dir);
  const std::string incoming = dir + ".download";
  std::error_code ec;
  fs::remove_all(incoming, ec);
  fs::create_directories(incoming, ec);
  if (ec) return Status::IOError("cannot create " + incoming + ": " + ec.message());
  auto cleanup = [&] { fs::remove_all(incoming, ec); };
  Status s = objects_->Download(account_, Object(CheckpointKey(job_id, "state.json")), incoming + "/state.json",
                                kMaxCheckpointStateBytes);
  if (!s.ok()) {
    cleanup();
    if (s.aws_code() == "NoSuchKey" || s.http_status() == 404) return local;  // never checkpointed
    return s;
  }
  std::string state;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), incoming + "/state.json", &state));
  const int64_t g = GenerationOf(state);
  if (g == 0) {
    cleanup();
    return Status::Corruption(Object(CheckpointKey(job_id, "state.json")).ToString() + " names no generation");
  }
  if (g <= local) {
    cleanup();
    return local;
  }
  for (const char* part : kCheckpointParts) {
    s = objects_->Download(account_, Object(CheckpointKey(job_id, PartName(part, g))), incoming + "/" + PartName(part, g),
                           kMaxArtifactFileBytes);
    if (!s.ok()) {
      cleanup();
      return s;
    }
  }
  // Into place: the files, then state.json, so the trainer never reads a state without its files.
  fs::create_directories(dir, ec);
  for (const char* part : kCheckpointParts) {
    fs::rename(incoming + "/" + PartName(part, g), dir + "/" + PartName(part, g), ec);
    if (ec) break;
  }
  if (!ec) fs::rename(incoming + "/state.json", dir + "/state.json", ec);
  cleanup();
  if (ec) return Status::IOError("cannot put the checkpoint into " + dir + ": " + ec.message());
  return g;
}

Result<json> JobArtifacts::UploadModel(const std::string& job_id, const std::string& model_dir) {
  return UploadModelFolder(objects_, account_, bucket_, kModelArtifactPrefix + job_id + "/", model_dir);
}

Result<json> UploadModelFolder(JobObjectStore* objects, const std::string& account, const std::string& bucket,
                               const std::string& prefix, const std::string& model_dir) {
  json files = json::array();
  std::error_code ec;
  for (fs::recursive_directory_iterator it(model_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = fs::relative(it->path(), model_dir, ec).generic_string();
    if (files.size() >= kMaxModelArtifactFiles)
      return Status::InvalidArgument(model_dir + " holds more than " + std::to_string(kMaxModelArtifactFiles) + " files");
    if (!SafeRelativeName(name)) return Status::InvalidArgument(model_dir + " holds a file named " + name.substr(0, 80));
    LATHE_RETURN_IF_ERROR(objects->Upload(account, it->path().string(), S3Uri{bucket, prefix + name}));
    files.push_back({{"name", name}, {"size", static_cast<uint64_t>(it->file_size(ec))}});
  }
  if (ec) return Status::IOError("cannot read " + model_dir + ": " + ec.message());
  return json{{"uri", S3Uri{bucket, prefix}.ToString()}, {"files", files}};
}

namespace {

// A model "_artifact" read back from the store, checked as untrusted: where its files lie and
// what each is.
struct ModelArtifactRecord {
  S3Uri prefix;
  std::vector<std::pair<std::string, uint64_t>> files;  // name, size
};

Result<ModelArtifactRecord> ReadModelArtifact(const json& artifact) {
  if (!artifact.is_object() || !artifact.contains("uri") || !artifact["uri"].is_string() ||
      !artifact.contains("files") || !artifact["files"].is_array() || artifact["files"].size() > kMaxModelArtifactFiles)
    return Status::Corruption("the model's artifact record is malformed");
  auto prefix = ParseS3Uri(artifact["uri"].get<std::string>());
  if (!prefix.ok()) return Status::Corruption("the model's artifact record: " + prefix.status().message());
  ModelArtifactRecord record{*prefix, {}};
  for (const json& f : artifact["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("size") ||
        !f["size"].is_number_integer() || f["size"].get<int64_t>() < 0 || !SafeRelativeName(f["name"].get<std::string>()))
      return Status::Corruption("the model's artifact record names a file badly");
    const std::string name = f["name"].get<std::string>();
    const uint64_t size = f["size"].get<uint64_t>();
    if (size > kMaxArtifactFileBytes) return Status::Corruption("the model's file " + name + " is too large");
    record.files.emplace_back(name, size);
  }
  return record;
}

}  // namespace

Status DownloadModelArtifact(JobObjectStore* objects, const std::string& account, const json& artifact,
                             const std::string& dir) {
  auto record = ReadModelArtifact(artifact);
  if (!record.ok()) return record.status();
  const std::string incoming = dir + ".download-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(incoming, ec);
  auto fail = [&](Status s) {
    fs::remove_all(incoming, ec);
    return s;
  };
  for (const auto& [name, size] : record->files) {
    fs::create_directories(fs::path(incoming + "/" + name).parent_path(), ec);
    if (ec) return fail(Status::IOError("cannot create " + incoming + ": " + ec.message()));
    const S3Uri object{record->prefix.bucket, record->prefix.key + name};
    Status s = objects->Download(account, object, incoming + "/" + name, size);
    if (!s.ok()) return fail(Status::IOError(object.ToString() + ": " + s.message()));  // which file failed
  }
  fs::rename(incoming, dir, ec);
  if (ec) {
    if (fs::exists(dir + "/config.json")) return fail(Status::Ok());  // another request put it there first
    return fail(Status::IOError("cannot put the model into " + dir + ": " + ec.message()));
  }
  return Status::Ok();
}

Status DeleteModelArtifact(JobObjectStore* objects, const std::string& account, const json& artifact) {
  auto record = ReadModelArtifact(artifact);
  if (!record.ok()) return record.status();
  // Only where models are put: a record naming anything else deletes nothing.
  const std::string& key = record->prefix.key;
  if ((key.rfind(kModelArtifactPrefix, 0) != 0 && key.rfind(kImportedArtifactPrefix, 0) != 0) || key.back() != '/')
    return Status::Corruption("the model's artifact record names " + record->prefix.ToString() + ", not a folder under " +
                              kModelArtifactPrefix + " or " + kImportedArtifactPrefix);
  Status first = Status::Ok();
  for (const auto& [name, size] : record->files) {
    Status s = objects->Delete(account, S3Uri{record->prefix.bucket, record->prefix.key + name});
    if (!s.ok() && first.ok()) first = s;  // the others still go
  }
  return first;
}

}  // namespace lathe::service
