#include "services/cleanup/cleaner.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/arn.h"
#include "service/deployment_service.h"
#include "service/deployment_stats.h"

namespace lathe::cleanup {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kActor = "lathe cleanup";

// `budget`: entries left to walk in this snapshot (decremented).
uint64_t FolderBytes(const std::string& dir, size_t* budget) {
  uint64_t bytes = 0;
  size_t entries = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end;
       !ec && it != end && entries < kMaxFolderEntries && *budget > 0; it.increment(ec), ++entries, --*budget)
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) bytes += it->file_size(ec);
  return bytes;
}

Result<std::vector<store::ResourceRow>> Rows(store::MetadataStore* db, const char* kind) { return db->List(kind); }

}  // namespace

json RunReportToJson(const RunReport& r) {
  json out = PlanToJson(r.plan);
  out["dryRun"] = r.dry_run;
  out["policy"] = service::RetentionPolicyToJson(r.policy);
  if (!r.dry_run) {
    json results = json::array();
    for (const auto& x : r.results)
      results.push_back({{"kind", ItemKindName(x.item.kind)}, {"name", x.item.name}, {"arn", x.item.arn},
                         {"done", x.done}, {"outcome", x.outcome}, {"bytes", x.done ? x.item.bytes : 0}});
    out["results"] = results;
    out["freedBytes"] = r.freed_bytes;
    out["recovered"] = r.recovered;
  }
  return out;
}

Cleaner::Cleaner(service::BedrockService* bedrock, registry::Registry* registry, CleanupHooks hooks)
    : bedrock_(bedrock), registry_(registry), hooks_(std::move(hooks)), data_dir_(bedrock->config().data_dir) {}

Result<Snapshot> Cleaner::TakeSnapshot(int64_t now_ms, bool size_folders) {
  store::MetadataStore* db = bedrock_->store();
  Snapshot s;
  s.now_ms = now_ms;
  s.data_dir = data_dir_;
  s.scope = bedrock_->config().scope;
  struct Source {
    const char* kind;
    std::vector<store::ResourceRow>* into;
  };
  for (const Source& src : {Source{service::kCustomModelKind, &s.custom_models}, Source{service::kThroughputKind, &s.throughputs},
                            Source{service::kDeploymentKind, &s.deployments}, Source{service::kJobKind, &s.jobs},
                            Source{service::kEvaluationJobKind, &s.evaluation_jobs}}) {
    auto rows = Rows(db, src.kind);
    if (!rows.ok()) return rows.status();
    *src.into = std::move(*rows);
  }
  registry::ListOptions all;
  auto groups = registry_->ListGroups(all);
  if (!groups.ok()) return groups.status();
  for (const auto& g : *groups) {
    auto versions = registry_->ListVersions(g.name, all);
    if (!versions.ok()) return versions.status();
    for (auto& v : *versions) {
      v.custom_model_arn = ResolveModel(v.custom_model_arn);
      s.versions.push_back(std::move(v));
    }
    auto aliases = registry_->Aliases(g.name);
    if (!aliases.ok()) return aliases.status();
    s.aliases[g.name] = *aliases;
  }
  for (const auto& d : s.deployments) s.deployment_last_request[d.id] = DeploymentLastRequest(d.id);
  size_t budget = kMaxSnapshotEntries;
  if (size_folders)
    for (const auto& m : s.custom_models)
      for (const auto& f : ModelFolders(m, data_dir_)) s.folder_bytes[f] = FolderBytes(f, &budget);
  return s;
}

std::string Cleaner::ResolveModel(const std::string& reference) {
  if (reference.empty()) return reference;
  auto row = bedrock_->custom_models().Find(reference);
  return row.ok() ? row->arn : reference;
}

int64_t Cleaner::DeploymentLastRequest(const std::string& id) {
  if (hooks_.deployment_last_request) return hooks_.deployment_last_request(id);
  // No server: the stats row its last server flushed (what `lathe costs` reads too).
  auto stats = bedrock_->store()->Find(service::kDeploymentStatsKind, id);
  if (!stats.ok()) return 0;
  int64_t last = 0;
  for (const auto& v : service::DeploymentStats::SummaryFromRow(*stats, NowMillis(), 0))
    last = std::max(last, v.last_request_ms);
  return last;
}

Result<RunReport> Cleaner::Run(const service::RetentionPolicy& policy, bool dry_run,
                               const std::function<void(const ItemResult&)>& progress, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  RunReport report;
  report.dry_run = dry_run;
  report.policy = policy;
  if (!dry_run) {
    auto recovered = Recover();
    if (!recovered.ok()) return recovered.status();
    report.recovered = *recovered;
  }
  auto snapshot = TakeSnapshot(now_ms < 0 ? NowMillis() : now_ms, policy.model_max_age_ms >= 0);
  if (!snapshot.ok()) return snapshot.status();
  report.plan = MakePlan(policy, *snapshot);
  if (dry_run) return report;
  std::set<std::string> deleted;  // throughput and deployments this run deleted
  for (const auto& item : report.plan.items) {
    ItemResult r;
    switch (item.kind) {
      case ItemKind::kThroughput:
      case ItemKind::kDeployment:
        r = DeleteIdle(item, policy, snapshot->now_ms);
        if (r.done) deleted.insert(item.arn);
        break;
      case ItemKind::kCustomModel: {
        // An idle server of it that stayed (used since, or its delete refused) still serves it.
        auto stayed = std::find_if(item.after.begin(), item.after.end(),
                                   [&](const std::string& arn) { return !deleted.count(arn); });
        if (stayed != item.after.end()) r = {item, false, "skipped: served by " + *stayed + ", which stays"};
        else r = DeleteModel(item, *snapshot, policy.KeepVersions());
        break;
      }
      case ItemKind::kVersionMark: {
        r.item = item;
        Status s = MarkVersions(item.versions, item.reason);
        r.done = s.ok();
        r.outcome = s.ok() ? "marked" : "failed: " + s.message();
        break;
      }
    }
    if (r.done) report.freed_bytes += item.bytes;
    report.results.push_back(r);
    if (progress) progress(r);
  }
  return report;
}

bool Cleaner::ModelInUse(const std::string& arn, const Snapshot& snapshot, int keep_versions) {
  if (bedrock_->throughput().Serves(arn) || bedrock_->jobs().UsesBaseModel(arn) || bedrock_->evaluations().UsesModel(arn))
    return true;
  auto model = bedrock_->custom_models().Find(arn);
  if (!model.ok()) return model.status().code() != Status::Code::kNotFound;  // unsure: keep it
  if (hooks_.deployment_serves ? hooks_.deployment_serves(arn) : DeploymentServes(*model, snapshot)) return true;
  return RegistryProtects(*model, keep_versions);
}

bool Cleaner::DeploymentServes(const store::ResourceRow& model, const Snapshot& snapshot) {
  auto rows = bedrock_->store()->List(service::kDeploymentKind);
  if (!rows.ok()) return true;  // unsure: keep it
  for (const auto& row : *rows) {
    const std::set<std::string> served = ServedModels(row, snapshot);
    if (served.count(model.arn) || served.count(model.name) || served.count(model.id)) return true;
  }
  return false;
}

bool Cleaner::RegistryProtects(const store::ResourceRow& model, int keep_versions) {
  registry::ListOptions all;
  auto groups = registry_->ListGroups(all);
  if (!groups.ok()) return true;  // unsure: keep it
  for (const auto& g : *groups) {
    auto versions = registry_->ListVersions(g.name, all);
    auto aliases = registry_->Aliases(g.name);
    if (!versions.ok() || !aliases.ok()) return true;
    std::vector<int> numbers;
    for (const auto& v : *versions) numbers.push_back(v.version);
    std::sort(numbers.rbegin(), numbers.rend());
    for (const auto& v : *versions) {
      const std::string& ref = v.custom_model_arn;
      if (ref.empty() || (ref != model.arn && ref != model.name && ref != model.id && ResolveModel(ref) != model.arn))
        continue;
      const size_t rank = std::find(numbers.begin(), numbers.end(), v.version) - numbers.begin();
      if (rank < static_cast<size_t>(keep_versions)) return true;
      for (const auto& entry : *aliases)
        if (entry.second == v.version) return true;
    }
  }
  return false;
}

ItemResult Cleaner::DeleteIdle(const PlanItem& item, const service::RetentionPolicy& policy, int64_t now_ms) {
  ItemResult r{item, false, ""};
  const bool throughput = item.kind == ItemKind::kThroughput;
  const char* kind = throughput ? service::kThroughputKind : service::kDeploymentKind;
  store::MetadataStore* db = bedrock_->store();
  // A request may have come in since the snapshot: look again just before deleting.
  auto row = db->Find(kind, item.id);
  if (!row.ok()) {
    r.outcome = row.status().code() == Status::Code::kNotFound ? "skipped: already gone" : "failed: " + row.status().message();
    return r;
  }
  const int64_t last =
      LastUse(*row, !throughput && hooks_.deployment_last_request ? hooks_.deployment_last_request(item.id) : 0);
  const int64_t idle_ms = throughput ? policy.idle_throughput_ms : policy.idle_deployment_ms;
  if (now_ms - last < idle_ms) {
    r.outcome = "skipped: used since the plan was made";
    return r;
  }
  Status s;
  if (throughput) s = bedrock_->throughput().Delete(item.arn);
  else if (hooks_.delete_deployment) s = hooks_.delete_deployment(item.arn);
  else {
    // No server holds it loaded: its row and its stats row go in one transaction.
    store::WriteBatch batch;
    batch.deletes.push_back({service::kDeploymentKind, item.id});
    if (db->Find(service::kDeploymentStatsKind, item.id).ok()) batch.deletes.push_back({service::kDeploymentStatsKind, item.id});
    s = db->Write(batch);
  }
  Step("deleted " + item.arn);
  r.done = s.ok();
  if (s.ok()) r.outcome = "deleted";
  else if (s.code() == Status::Code::kNotFound) r.outcome = "skipped: already gone";
  else if (s.code() == Status::Code::kUnsupported || s.code() == Status::Code::kConflict) r.outcome = "skipped: " + s.message();
  else r.outcome = "failed: " + s.message();
  return r;
}

ItemResult Cleaner::DeleteModel(const PlanItem& item, const Snapshot& snapshot, int keep_versions) {
  ItemResult r{item, false, ""};
  store::MetadataStore* db = bedrock_->store();
  store::ResourceRow intent;
  intent.kind = kIntentKind;
  intent.id = intent.name = item.id;
  intent.status = "Deleting";
  intent.created_ms = NowMillis();
  intent.doc = {{"modelArn", item.arn}, {"folders", item.folders}, {"versions", item.versions}, {"reason", item.reason}};
  if (Status s = db->Insert(intent); !s.ok()) {
    r.outcome = "failed: " + s.message();
    return r;
  }
  Step("intent " + item.arn);
  Status deleted = bedrock_->custom_models().Delete(
      item.arn, [&](const std::string& arn) { return ModelInUse(arn, snapshot, keep_versions); },
      [&] { Step("row gone, folder not yet removed " + item.arn); });
  Step("row deleted " + item.arn);
  if (!deleted.ok() && deleted.code() != Status::Code::kNotFound) {
    // The intent goes only while the row is there (nothing happened); a Delete that failed after
    // the row went (its tags, say) leaves the folder and the versions to the intent.
    auto row = db->Find(service::kCustomModelKind, item.id);
    if (row.ok()) {
      (void)db->Delete(kIntentKind, intent.id);
      r.outcome = (deleted.code() == Status::Code::kConflict ? "skipped: " : "failed: ") + deleted.message();
      return r;
    }
    if (row.status().code() != Status::Code::kNotFound) {
      r.outcome = "failed: " + deleted.message() + " (the next run finishes it)";
      return r;
    }
  }
  if (Status s = FinishIntent(intent); !s.ok()) {
    r.outcome = "failed: " + s.message() + " (the next run finishes it)";
    return r;
  }
  r.done = true;
  r.outcome = "deleted";
  return r;
}

Status Cleaner::FinishIntent(const store::ResourceRow& intent) {
  std::error_code ec;
  const std::string trash = data_dir_ + "/" + kTrashFolder;
  fs::create_directories(trash, ec);
  int n = 0;
  for (const auto& folder : intent.doc.value("folders", json::array())) {
    if (!folder.is_string()) continue;
    const std::string from = folder.get<std::string>();
    if (!fs::exists(from, ec)) continue;
    // A rename is atomic: the folder is either where it was (the next run renames it) or in trash/.
    const std::string to = trash + "/" + intent.id + "-" + std::to_string(++n);
    fs::remove_all(to, ec);
    fs::rename(from, to, ec);
    if (ec) return Status::IOError("cannot move " + from + " to " + to + ": " + ec.message());
    Step("trashed " + from);
    fs::remove_all(to, ec);
    Step("removed " + to);
  }
  std::vector<std::string> versions;
  for (const auto& v : intent.doc.value("versions", json::array()))
    if (v.is_string()) versions.push_back(v.get<std::string>());
  LATHE_RETURN_IF_ERROR(MarkVersions(versions, "deleted by lathe cleanup: " + intent.doc.value("reason", std::string())));
  LATHE_RETURN_IF_ERROR(bedrock_->store()->Delete(kIntentKind, intent.id));
  Step("intent done " + intent.doc.value("modelArn", std::string()));
  return Status::Ok();
}

Status Cleaner::MarkVersions(const std::vector<std::string>& versions, const std::string& reason) {
  const std::map<std::string, std::string> marks = {{kModelDeletedKey, Iso8601(NowMillis())},
                                                    {kModelDeletedReasonKey, reason.substr(0, 256)}};
  for (const auto& v : versions) {
    auto updated = registry_->UpdateVersion(v, registry::VersionStatus::kArchived, "", marks, {}, kActor);
    // An aliased version may not be archived (the registry refuses): it keeps its status, marked.
    if (!updated.ok() && updated.status().code() == Status::Code::kConflict)
      updated = registry_->UpdateVersion(v, std::nullopt, "", marks, {}, kActor);
    if (!updated.ok() && updated.status().code() != Status::Code::kNotFound) return updated.status();
    Step("marked " + v);
  }
  return Status::Ok();
}

Result<size_t> Cleaner::Recover() {
  auto intents = bedrock_->store()->List(kIntentKind);
  if (!intents.ok()) return intents.status();
  size_t finished = 0;
  for (const auto& intent : *intents) {
    auto row = bedrock_->store()->Find(service::kCustomModelKind, intent.doc.value("modelArn", intent.id));
    if (row.ok()) {
      // Interrupted before the model's row went: nothing happened; this run's plan decides again.
      LATHE_RETURN_IF_ERROR(bedrock_->store()->Delete(kIntentKind, intent.id));
      continue;
    }
    if (row.status().code() != Status::Code::kNotFound) return row.status();  // gone only when the store says so
    LATHE_RETURN_IF_ERROR(FinishIntent(intent));
    ++finished;
  }
  EmptyTrash();
  return finished;
}

void Cleaner::EmptyTrash() {
  std::error_code ec;
  const std::string trash = data_dir_ + "/" + kTrashFolder;
  for (fs::directory_iterator it(trash, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

}  // namespace lathe::cleanup
