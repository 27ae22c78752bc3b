#include "service/imported_models.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/linear_pattern.h"
#include "engine/model_folder.h"
#include "service/custom_model_service.h"
#include "service/field_rules.h"
#include "service/job_artifacts.h"
#include "service/resource_json.h"

namespace lathe::service {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string ImportsDir(const ServiceConfig& config) { return config.data_dir + "/imported-models"; }

Status Interrupted() { return Status::Internal(kImportInterrupted); }

// Fetches what the folder holds into `staging`: the fixed names (absent ones skipped), then the
// shards the weight index names (each required). Each file within its own bound
// (engine::MaxFolderFileBytes), at most `max_bytes` in all; stops between files once `stop` is set.
Status FetchFolder(const FetchFile& fetch, const std::string& staging, uint64_t max_bytes,
                   const std::atomic<bool>* stop) {
  uint64_t used = 0;
  const std::string over = "the model's files are larger than maxImportBytes (" + std::to_string(max_bytes) +
                           " bytes, the server's config)";
  auto one = [&](const std::string& name, bool required) -> Status {
    if (stop && stop->load()) return Interrupted();
    if (used >= max_bytes) return Status::InvalidArgument(over);
    const uint64_t own = engine::MaxFolderFileBytes(name);
    Status s = fetch(name, staging + "/" + name, std::min(max_bytes - used, own));
    if (s.code() == Status::Code::kNotFound && !required) return Status::Ok();
    if (s.code() == Status::Code::kNotFound) return Status::NotFound(name + " is missing (model.safetensors.index.json names it)");
    if (s.code() == Status::Code::kInvalidArgument)  // FetchFile's size refusal
      return own < max_bytes - used ? Status::InvalidArgument(name + " is larger than " + std::to_string(own) +
                                                              " bytes, the most lathe reads of it")
                                    : Status::InvalidArgument(over);
    LATHE_RETURN_IF_ERROR(s);
    std::error_code ec;
    used += fs::file_size(staging + "/" + name, ec);
    return used > max_bytes ? Status::InvalidArgument(over) : Status::Ok();
  };
  for (const auto& name : engine::ModelFolderFixedFiles()) LATHE_RETURN_IF_ERROR(one(name, false));
  std::error_code ec;
  if (fs::exists(staging + "/model.safetensors", ec) || !fs::exists(staging + "/model.safetensors.index.json", ec))
    return Status::Ok();  // CheckModelFolder names what is missing
  std::string index;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), staging + "/model.safetensors.index.json", &index));
  auto shards = engine::WeightShardNames(index);
  if (!shards.ok()) return shards.status();
  for (const auto& shard : *shards) LATHE_RETURN_IF_ERROR(one(shard, true));
  return Status::Ok();
}

// "llama", "mistral", "qwen2": Bedrock's modelArchitecture names the family.
std::string Family(const std::string& architecture) {
  if (architecture == "MistralForCausalLM") return "mistral";
  if (architecture == "Qwen2ForCausalLM") return "qwen2";
  return "llama";
}

}  // namespace

Status CopyLocalFile(const std::string& source, const std::string& dest, uint64_t max_bytes,
                     const std::atomic<bool>* stop) {
  const std::string name = fs::path(source).filename().string();
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) return Status::NotFound(name + " is missing");
  const uint64_t size = fs::file_size(source, ec);
  if (ec) return Status::IOError("cannot read " + source + ": " + ec.message());
  if (size > max_bytes)
    return Status::InvalidArgument(name + " is " + std::to_string(size) + " bytes, over the max of " +
                                   std::to_string(max_bytes));
  // In chunks, so a server that stops does not wait for a copy of many GiB.
  std::ifstream in(source, std::ios::binary);
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  if (!in || !out) return Status::IOError("cannot copy " + name);
  std::vector<char> chunk(1 << 20);
  for (uint64_t left = size; left > 0;) {
    if (stop && stop->load()) return Interrupted();
    const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, chunk.size()));
    if (!in.read(chunk.data(), n) || !out.write(chunk.data(), n)) return Status::IOError("cannot copy " + name);
    left -= static_cast<uint64_t>(n);
  }
  if (!out.flush()) return Status::IOError("cannot copy " + name);
  return Status::Ok();
}

std::string ImportedModelService::StagingDir(const std::string& id) const {
  return ImportsDir(config_) + "/" + id + ".partial";
}

Status ImportedModelService::CheckNewName(const std::string& name) {
  LATHE_RETURN_IF_ERROR(CheckString(name, "importedModelName", rules::kImportedModelName));
  if (db_->Find(kImportedModelKind, name).ok() || db_->Find(kCustomModelKind, name).ok())
    return Status::Conflict("A model named " + name + " already exists");
  return Status::Ok();
}

Result<store::ResourceRow> ImportedModelService::Import(const ImportRequest& request, const FetchFile& fetch,
                                                        const std::atomic<bool>* stop) {
  const std::string id = request.id.empty() ? NewResourceId() : request.id;
  const std::string staging = StagingDir(id), final_dir = ImportsDir(config_) + "/" + id;
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging + ": " + ec.message());
  auto fail = [&](const Status& s) {
    fs::remove_all(staging, ec);
    return s;
  };
  if (Status s = FetchFolder(fetch, staging, static_cast<uint64_t>(config_.max_import_bytes), stop); !s.ok()) return fail(s);
  auto facts = engine::CheckModelFolder(staging);
  if (!facts.ok()) return fail(facts.status());
  fs::remove_all(final_dir, ec);
  fs::rename(staging, final_dir, ec);
  if (ec) return fail(Status::IOError("cannot move the model into " + final_dir + ": " + ec.message()));
  // Jobs run on workers: they find the model in the artifact bucket.
  json artifact;
  if (objects_ && config_.job_placement == ServiceConfig::JobPlacement::kWorkers) {
    auto uploaded = UploadModelFolder(objects_, config_.scope.account, config_.artifact_bucket,
                                      std::string(kImportedArtifactPrefix) + id + "/", final_dir);
    if (!uploaded.ok()) {
      fs::remove_all(final_dir, ec);
      return Status::IOError("the model cannot be put in the artifact bucket " + config_.artifact_bucket +
                             " for the workers: " + uploaded.status().message());
    }
    artifact = std::move(*uploaded);
  }

  store::ResourceRow m;
  m.kind = kImportedModelKind;
  m.id = id;
  m.name = request.model_name;
  m.arn = BedrockArn(InRegion(config_.scope, request.region), "imported-model/" + id);
  m.status = "Active";
  m.created_ms = NowMillis();
  m.doc = {{"modelArn", m.arn},
           {"modelName", m.name},
           {"modelDataSource", {{"s3DataSource", {{"s3Uri", request.source_uri}}}}},
           {"creationTime", Iso8601(m.created_ms)},
           {"modelArchitecture", Family(facts->config.architecture)},
           {"instructSupported", facts->chat_template},
           {"customModelUnits", {{"customModelUnitsPerModelCopy", 1}, {"customModelUnitsVersion", "1.0"}}},
           {"baseModelName", kImportedBaseModelId},
           {"baseModelArn", m.arn},
           {"_dir", final_dir},
           {"_parameters", facts->parameters},
           {"_bytes", facts->bytes},
           {"_dtype", facts->dtype}};
  if (!artifact.is_null()) m.doc["_artifact"] = artifact;
  if (!request.job_name.empty()) {
    m.doc["jobName"] = request.job_name;
    m.doc["jobArn"] = request.job_arn;
  }
  // Again now: a custom model of this name may have been recorded while the files were copied.
  if (Status taken = CheckNewName(m.name); !taken.ok()) {
    fs::remove_all(final_dir, ec);
    return taken;
  }
  store::WriteBatch batch;
  batch.inserts.push_back(m);
  if (!request.tags.empty()) batch.tags.push_back({m.arn, request.tags});
  if (Status s = db_->Write(batch); !s.ok()) {
    fs::remove_all(final_dir, ec);
    if (s.code() == Status::Code::kAlreadyExists) return Status::Conflict("A model named " + m.name + " already exists");
    return s;
  }
  return m;
}

Result<store::ResourceRow> ImportedModelService::Find(const std::string& identifier) {
  auto row = db_->Find(kImportedModelKind, identifier);
  if (!row.ok() && row.status().code() == Status::Code::kNotFound)
    return Status::NotFound("Imported model " + identifier + " not found");
  // In the artifact bucket: this node's copy is (or will be, once fetched) in its own data folder.
  if (row.ok() && row->doc.contains("_artifact")) row->doc["_dir"] = ImportsDir(config_) + "/" + row->id;
  return row;
}

Result<json> ImportedModelService::Get(const std::string& identifier) {
  LATHE_RETURN_IF_ERROR(CheckString(identifier, "modelIdentifier", rules::kImportedModelIdentifier));
  auto row = Find(identifier);
  if (!row.ok()) return row.status();
  json out = PublicFields(row->doc);
  out.erase("baseModelName");  // lathe's own members, for the jobs that customize it
  out.erase("baseModelArn");
  return out;
}

Result<json> ImportedModelService::List(const std::map<std::string, std::string>& query) {
  auto q = ParseListQuery(query, rules::kImportedModelName);
  if (!q.ok()) return q.status();
  std::string next;
  auto rows = ListPage(db_, kImportedModelKind, *q, {}, &next);
  if (!rows.ok()) return rows.status();
  json summaries = json::array();
  for (const auto& r : *rows)
    summaries.push_back({{"modelArn", r.arn},
                         {"modelName", r.name},
                         {"creationTime", Iso8601(r.created_ms)},
                         {"instructSupported", r.doc.value("instructSupported", false)},
                         {"modelArchitecture", r.doc.value("modelArchitecture", "")}});
  json out = {{"modelSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

Status ImportedModelService::Delete(const std::string& identifier,
                                    const std::function<bool(const std::string& arn)>& in_use) {
  LATHE_RETURN_IF_ERROR(CheckString(identifier, "modelIdentifier", rules::kImportedModelIdentifier));
  auto row = Find(identifier);
  if (!row.ok()) return row.status();
  if (in_use(row->arn))
    return InUseConflict("Imported model " + row->name);
  store::WriteBatch batch;
  batch.deletes.push_back({kImportedModelKind, row->id});
  auto mapped = Mappings();
  if (!mapped.ok()) return mapped.status();
  for (const auto& [bedrock_id, arn] : *mapped)
    if (arn == row->arn) batch.deletes.push_back({kModelAliasKind, bedrock_id});
  LATHE_RETURN_IF_ERROR(db_->Write(batch));
  std::error_code ec;
  // Only the folder lathe made for it (a forged _dir could not get here: the doc is lathe's).
  const std::string dir = row->doc.value("_dir", "");
  if (on_deleted_ && !dir.empty()) on_deleted_(dir);
  const std::string imports = fs::weakly_canonical(ImportsDir(config_), ec).string() + "/";
  if (!dir.empty() && fs::weakly_canonical(dir, ec).string().rfind(imports, 0) == 0) fs::remove_all(dir, ec);
  if (row->doc.contains("_artifact")) {
    Status gone = objects_ ? DeleteModelArtifact(objects_, config_.scope.account, row->doc["_artifact"])
                           : Status::Unsupported("this node has no object store");
    if (!gone.ok())
      spdlog::warn("imported model {} ({}) is deleted, but not all of its files in the artifact bucket: {}", row->name,
                   row->id, gone.message());
  }
  return RemoveAllTags(db_, row->arn);
}

Status CheckNoJobIsMaking(store::MetadataStore* db, const char* kind, const std::vector<std::string>& statuses,
                          const char* member, const std::string& name, const std::string& what) {
  store::MetadataStore::ListFilter filter;
  filter.statuses = statuses;
  auto jobs = db->List(kind, filter);
  if (!jobs.ok()) return jobs.status();
  for (const auto& r : *jobs)
    if (r.doc.value(member, "") == name)
      return Status::Conflict(what + " " + r.name + " is already making a model named " + name);
  return Status::Ok();
}

Status CheckBedrockId(const std::string& id) {
  // The foundation-model id shape ("provider.name[-version][:n]"), as GetFoundationModel takes it.
  static const auto id_shape =
      LinearPattern::Compile(R"re([a-z0-9-]{1,63}[.][a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})re");
  if (!id.empty() && id.size() <= kMaxBedrockIdLength && id_shape.ok() && id_shape->FullMatch(id))
    return Status::Ok();
  std::string shown;
  for (char c : id.substr(0, 64)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  return Status::InvalidArgument("the Bedrock model id \"" + shown +
                                 "\" does not have a Bedrock model id's shape (provider.name, e.g. "
                                 "amazon.titan-text-express-v1; at most " + std::to_string(kMaxBedrockIdLength) +
                                 " characters)");
}

Status ImportedModelService::MapBedrockId(const std::string& bedrock_id, const std::string& model_arn) {
  LATHE_RETURN_IF_ERROR(CheckBedrockId(bedrock_id));
  store::ResourceRow row;
  row.kind = kModelAliasKind;
  row.id = row.name = bedrock_id;
  row.arn = "";
  row.status = "Active";
  row.created_ms = NowMillis();
  row.doc = {{"importedModelArn", model_arn}};
  Status s = db_->Insert(row);
  if (s.code() == Status::Code::kAlreadyExists) s = db_->Update(row);
  return s;
}

Result<store::ResourceRow> ImportedModelService::FindMapped(const std::string& model_id) {
  std::string id = model_id;
  const std::string resource = ArnResource(model_id);
  if (resource.rfind("foundation-model/", 0) == 0) id = resource.substr(17);
  if (id.empty() || id.size() > kMaxBedrockIdLength) return Status::NotFound("no imported model is mapped to " + id);
  auto alias = db_->Find(kModelAliasKind, id);
  if (!alias.ok() || alias->id != id) return Status::NotFound("no imported model is mapped to " + id);
  return Find(alias->doc.value("importedModelArn", ""));
}

Result<std::map<std::string, std::string>> ImportedModelService::Mappings() {
  auto rows = db_->List(kModelAliasKind);
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::string> out;
  for (const auto& r : *rows) out[r.id] = r.doc.value("importedModelArn", "");
  return out;
}

}  // namespace lathe::service
