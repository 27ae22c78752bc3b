// DeploymentService's Bedrock operations (Create/Get/List/Update/Delete), start-up and shutdown.
// Routing and loading: deployment_routing.cc; the follower: deployment_follower.cc; lathe's
// traffic/feedback/stats operations: deployment_extensions.cc.
#include "service/deployment_service.h"

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "service/request_fields.h"
#include "service/resource_json.h"

namespace lathe::service {
using nlohmann::json;

namespace {

// modelArn as read before it is resolved: CustomModelArn's maximum; its minimum (20) and pattern
// are checked when it is not a registry reference (Resolve), since "<group>:<alias>" may be shorter.
const FieldRule kModelReference{"CustomModelArn", 1, 1011, nullptr};

// GetCustomModelDeployment's members (and lathe's traffic members when set).
json Describe(const store::ResourceRow& row) {
  json out = json::object();
  for (const char* key : {"customModelDeploymentArn", "modelDeploymentName", "modelArn", "createdAt", "description",
                          "updateDetails", "failureMessage", "lastUpdatedAt", "traffic", "rollbackPolicy"})
    if (row.doc.contains(key)) out[key] = row.doc[key];
  out["status"] = row.status;
  return out;
}

}  // namespace

DeploymentService::DeploymentService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                                     CustomModelService* custom_models, ModelMemory* memory)
    : config_(config), db_(db), catalog_(catalog), custom_models_(custom_models), memory_(memory), stats_(db),
      clock_([] { return NowMillis(); }) {}

DeploymentService::~DeploymentService() {
  Stop();
  loaders_.JoinAll();
}

void DeploymentService::set_resolver(ModelResolver resolver) { resolver_ = std::move(resolver); }
void DeploymentService::set_alias_rollback(AliasRollback rollback) { alias_rollback_ = std::move(rollback); }
void DeploymentService::set_throughput(ThroughputService* throughput) { throughput_ = throughput; }
void DeploymentService::set_clock(std::function<int64_t()> now) { clock_ = std::move(now); }

Result<DeploymentService::Want> DeploymentService::Resolve(const std::string& reference) {
  if (IsRegistryReference(reference)) {
    if (!resolver_)
      return Status::InvalidArgument("modelArn " + reference + " is a model registry reference, and this server has no registry");
    auto resolved = resolver_(reference);
    if (!resolved.ok()) return resolved.status();
    return Want{reference, resolved->model_arn, resolved->version.empty() ? resolved->model_arn : resolved->version,
                resolved->follows_alias, resolved->regression};
  }
  auto model = custom_models_->Find(reference);
  if (!model.ok()) {
    if (model.status().code() != Status::Code::kNotFound) return model.status();
    LATHE_RETURN_IF_ERROR(CheckString(reference, "modelArn", rules::kCustomModelArn));
    return Status::NotFound("Custom model " + reference + " not found");
  }
  return Want{reference, model->arn, model->arn, false, ""};
}

void DeploymentService::LaunchChallengerAtStart(const Entry& e, const Want& challenger, const std::string& arn) {
  auto ready = Prepare(challenger, ArnRegion(arn));
  if (!ready.ok()) {
    spdlog::warn("deployment {}: challenger {} not loaded: {}", e.name, challenger.served, ready.status().message());
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(e.id); it != entries_.end()) ClearChallengerLocked(it->second);
    return;
  }
  Launch(e.id, Role::kChallenger, challenger, std::move(*ready));
}

Status DeploymentNotFound(const std::string& identifier) {
  return Status::NotFound("Custom model deployment " + identifier.substr(0, 128) + " not found");
}

void DeploymentService::Start() {
  (void)stats_.Load();
  auto rows = db_->List(kDeploymentKind);
  if (rows.ok()) {
    for (auto& row : *rows) {
      Entry e;
      e.id = row.id;
      e.arn = row.arn;
      e.name = row.name;
      e.champion.reference = row.doc.value("modelArn", "");
      if (auto t = TrafficFromJson(row.doc.value("traffic", json::object())); t.ok()) e.split = *t;
      if (auto p = RollbackPolicyFromJson(row.doc.value("rollbackPolicy", json::object())); p.ok()) e.policy = *p;
      e.saved_last_invoked_ms = row.doc.value("lastInvokedMs", int64_t{0});
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string& key : {e.id, e.arn, e.name}) keys_[key] = e.id;
        entries_[e.id] = e;
      }
      if (row.status == "Failed") continue;
      // A registry reference without the registry wired (a tool opening the data directory):
      // left as it is, not failed, for the server that has it.
      if (!resolver_ && IsRegistryReference(e.champion.reference)) continue;
      // What the reference names now: an alias may have moved while the server was down.
      auto want = Resolve(e.champion.reference);
      // What served before the restart serves again when the reference's holder is not the
      // champion yet: a canary under watch (its champion and its watch come back), or an update
      // that failed to load (not loaded again: the deployment would turn Failed).
      const json serving = row.doc.value("_serving", json::object());
      const bool update_failed = row.doc.contains("updateDetails") &&
                                 row.doc["updateDetails"].value("updateStatus", "") == "UpdateFailed";
      const bool canary = serving.contains("canaryUntilMs") && serving.contains("challenger");
      Want challenger;
      if (want.ok() && (canary || update_failed) && !serving.value("championModelArn", "").empty()) {
        Want saved{e.champion.reference, serving.value("championModelArn", ""), serving.value("champion", ""), want->follows, ""};
        if (canary) {
          const json c = serving["challenger"];
          challenger = Want{e.champion.reference, c.value("modelArn", ""), c.value("served", ""), want->follows, ""};
          std::lock_guard<std::mutex> lock(mu_);
          Entry& restored = entries_[e.id];
          restored.challenger = challenger;
          restored.canary = true;
          restored.canary_until_ms = serving.value("canaryUntilMs", int64_t{0});
        } else if (!(saved == *want)) {
          std::lock_guard<std::mutex> lock(mu_);
          entries_[e.id].failed_served = want->served;
        }
        want = saved;
      }
      Result<Prepared> prepared = want.ok() ? Prepare(*want, ArnRegion(row.arn)) : Result<Prepared>(want.status());
      if (!prepared.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        row.status = "Failed";
        row.doc["status"] = row.status;
        row.doc["failureMessage"] = prepared.status().message();
        row.doc["lastUpdatedAt"] = Iso8601(NowMillis());
        (void)db_->Update(row);
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        entries_[e.id].champion = *want;
      }
      Launch(e.id, Role::kChampion, *want, std::move(*prepared));
      if (canary) {
        LaunchChallengerAtStart(e, challenger, row.arn);
      } else if (!e.split.challenger.empty() && e.split.weight > 0) {
        auto resolved = Resolve(e.split.challenger);
        if (resolved.ok()) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            entries_[e.id].challenger = *resolved;
          }
          LaunchChallengerAtStart(e, *resolved, row.arn);
        } else {
          spdlog::warn("deployment {}: challenger {} not loaded: {}", e.name, e.split.challenger, resolved.status().message());
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(follow_mu_);
  if (!follower_.joinable()) {
    stopping_ = false;
    follower_ = std::thread([this] { Run(); });
  }
}

void DeploymentService::Stop() {
  {
    std::lock_guard<std::mutex> lock(follow_mu_);
    stopping_ = true;
  }
  follow_cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  (void)stats_.Flush();
}

Result<json> DeploymentService::Create(const json& req, const std::string& region) {
  LATHE_ASSIGN_OR_RETURN(const std::string name, RequireString(req, "modelDeploymentName", rules::kModelDeploymentName));
  LATHE_ASSIGN_OR_RETURN(const std::string model_ref,
                         RequireString(req, "modelArn", kModelReference));
  LATHE_ASSIGN_OR_RETURN(const auto description,
                         OptionalString(req, "description", rules::kCustomModelDeploymentDescription));
  LATHE_ASSIGN_OR_RETURN(const auto token, OptionalString(req, "clientRequestToken", rules::kIdempotencyToken));
  LATHE_ASSIGN_OR_RETURN(const auto tags, TagList(req, "tags"));
  LATHE_ASSIGN_OR_RETURN(const Want want, Resolve(model_ref));

  store::ResourceRow row;
  row.kind = kDeploymentKind;
  row.id = NewResourceId();
  if (token) {
    auto first = db_->RememberToken(kDeploymentKind, *token, row.id);
    if (!first.ok()) return first.status();
    if (*first != row.id)
      if (auto existing = db_->Find(kDeploymentKind, *first); existing.ok())
        return json{{"customModelDeploymentArn", existing->arn}};
  }
  auto count = db_->Count(kDeploymentKind, {});
  if (!count.ok()) return count.status();
  if (*count >= kMaxDeployments)
    return Status::QuotaExceeded("This server holds " + std::to_string(*count) + " custom model deployments, at most " +
                                 std::to_string(kMaxDeployments) + " (each keeps a model loaded); delete one first");
  if (db_->Find(kDeploymentKind, name).ok())
    return Status::Conflict("A custom model deployment named " + name + " already exists");
  // Refused here when it cannot fit: ServiceQuotaExceededException, not a deployment that fails later.
  LATHE_ASSIGN_OR_RETURN(Prepared prepared, Prepare(want, region));

  row.name = name;
  row.arn = BedrockArn(InRegion(config_.scope, region), "custom-model-deployment/" + row.id);
  row.status = "Creating";
  row.created_ms = NowMillis();
  row.doc = {{"customModelDeploymentArn", row.arn},
             {"modelDeploymentName", row.name},
             {"modelArn", model_ref},
             {"createdAt", Iso8601(row.created_ms)},
             {"lastUpdatedAt", Iso8601(row.created_ms)},
             {"status", row.status},
             {"revision", 1}};
  if (description) row.doc["description"] = *description;
  Entry e;
  e.id = row.id;
  e.arn = row.arn;
  e.name = row.name;
  e.champion = want;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SaveServingLocked(e, &row);
    // The tags go in the insert's transaction: a tag write failing after it would leave a row
    // that is Creating for ever (nothing would load it).
    store::WriteBatch batch;
    batch.inserts.push_back(row);
    if (!tags.empty()) batch.tags.emplace_back(row.arn, tags);
    if (Status s = db_->Write(batch); !s.ok()) {
      if (s.code() == Status::Code::kAlreadyExists)
        return Status::Conflict("A custom model deployment named " + row.name + " already exists");
      return s;
    }
    for (const std::string& key : {e.id, e.arn, e.name}) keys_[key] = e.id;
    entries_[e.id] = e;
  }
  Launch(row.id, Role::kChampion, want, std::move(prepared));
  return json{{"customModelDeploymentArn", row.arn}};
}

Result<json> DeploymentService::Get(const std::string& identifier) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "customModelDeploymentIdentifier", rules::kCustomModelDeploymentIdentifier));
  auto row = db_->Find(kDeploymentKind, identifier);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound) return DeploymentNotFound(identifier);
    return row.status();
  }
  return Describe(*row);
}

Result<json> DeploymentService::List(const std::map<std::string, std::string>& query) {
  // Deployments name their time filters createdAfter/createdBefore; the shared parser knows
  // the jobs' creationTimeAfter/Before.
  std::map<std::string, std::string> q = query;
  for (const auto& [from, to] : {std::pair<const char*, const char*>{"createdAfter", "creationTimeAfter"},
                                 {"createdBefore", "creationTimeBefore"}}) {
    q.erase(to);
    if (auto it = query.find(from); it != query.end()) q[to] = it->second;
    q.erase(from);
  }
  if (auto status = q.find("statusEquals"); status != q.end() && status->second != "Creating" &&
                                            status->second != "Active" && status->second != "Failed")
    return ValidationError("statusEquals", "must satisfy enum value set: [Creating, Active, Failed]");
  auto parsed = ParseListQuery(q, rules::kModelDeploymentName);
  if (!parsed.ok()) return parsed.status();
  std::map<std::string, std::string> doc_equals;
  if (auto model = query.find("modelArnEquals"); model != query.end()) doc_equals["modelArn"] = model->second;
  std::string next;
  auto rows = ListPage(db_, kDeploymentKind, *parsed, doc_equals, &next);
  if (!rows.ok()) return rows.status();
  json summaries = json::array();
  for (const auto& r : *rows) {
    json s = {{"customModelDeploymentArn", r.arn},
              {"customModelDeploymentName", r.name},
              {"modelArn", r.doc.value("modelArn", "")},
              {"createdAt", r.doc.value("createdAt", "")},
              {"status", r.status}};
    for (const char* key : {"lastUpdatedAt", "failureMessage"})
      if (r.doc.contains(key)) s[key] = r.doc[key];
    summaries.push_back(std::move(s));
  }
  json out = {{"modelDeploymentSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

Result<json> DeploymentService::Update(const std::string& identifier, const json& req) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "customModelDeploymentIdentifier", rules::kCustomModelDeploymentIdentifier));
  LATHE_ASSIGN_OR_RETURN(const std::string model_ref,
                         RequireString(req, "modelArn", kModelReference));
  auto row = db_->Find(kDeploymentKind, identifier);
  if (!row.ok()) return DeploymentNotFound(identifier);
  LATHE_ASSIGN_OR_RETURN(const Want want, Resolve(model_ref));
  // The new model loads while the old one serves: both must fit. UpdateCustomModelDeployment
  // declares no ServiceQuotaExceededException, so a ValidationException carries the reason.
  auto prepared = Prepare(want, ArnRegion(row->arn));
  if (!prepared.ok()) {
    if (prepared.status().code() == Status::Code::kQuotaExceeded)
      return Status::InvalidArgument(prepared.status().message());
    return prepared.status();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = FindEntryLocked(row->id);
    if (!e) return DeploymentNotFound(identifier);
    auto fresh = db_->Find(kDeploymentKind, row->id);
    if (!fresh.ok()) return DeploymentNotFound(identifier);
    e->champion = want;
    if (e->canary) ClearChallengerLocked(*e);  // an alias move under watch gives way to the explicit update
    fresh->doc["modelArn"] = model_ref;
    fresh->doc["updateDetails"] = {{"modelArn", model_ref}, {"updateStatus", "Updating"}};
    fresh->doc["lastUpdatedAt"] = Iso8601(NowMillis());
    fresh->doc.erase("failureMessage");
    SaveServingLocked(*e, &*fresh);
    LATHE_RETURN_IF_ERROR(db_->Update(*fresh));
  }
  Launch(row->id, Role::kChampion, want, std::move(*prepared));
  return json{{"customModelDeploymentArn", row->arn}};
}

Status DeploymentService::Delete(const std::string& identifier) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "customModelDeploymentIdentifier", rules::kCustomModelDeploymentIdentifier));
  auto row = db_->Find(kDeploymentKind, identifier);
  if (!row.ok()) return DeploymentNotFound(identifier);
  {
    std::lock_guard<std::mutex> lock(mu_);
    LATHE_RETURN_IF_ERROR(db_->Delete(kDeploymentKind, row->id));
    // Requests in flight keep their snapshot (and its pools) until they finish.
    entries_.erase(row->id);
    for (const std::string& key : {row->id, row->arn, row->name}) keys_.erase(key);
  }
  (void)stats_.Forget(row->id);
  (void)RemoveAllTags(db_, row->arn);
  return Status::Ok();
}

bool DeploymentService::Serves(const std::string& model_arn) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, e] : entries_) {
    if (e.champion.model_arn == model_arn || e.challenger.model_arn == model_arn) return true;
    if (e.live && (e.live->champion.model_arn == model_arn || e.live->challenger.model_arn == model_arn)) return true;
  }
  return false;
}

DeploymentService::Entry* DeploymentService::FindEntryLocked(const std::string& identifier) {
  auto key = keys_.find(identifier);
  if (key == keys_.end()) return nullptr;
  auto it = entries_.find(key->second);
  return it == entries_.end() ? nullptr : &it->second;
}

void DeploymentService::SaveServingLocked(const Entry& e, store::ResourceRow* row) {
  json serving = {{"champion", e.champion.served}, {"championModelArn", e.champion.model_arn}};
  if (!e.challenger.model_arn.empty())
    serving["challenger"] = {{"served", e.challenger.served}, {"modelArn", e.challenger.model_arn}};
  if (e.canary) serving["canaryUntilMs"] = e.canary_until_ms;
  row->doc["_serving"] = serving;
  if (!e.split.challenger.empty() || e.split.weight > 0) row->doc["traffic"] = TrafficToJson(e.split);
  else row->doc.erase("traffic");
  if (e.policy.enabled) row->doc["rollbackPolicy"] = RollbackPolicyToJson(e.policy);
  else row->doc.erase("rollbackPolicy");
  row->doc["revision"] = row->doc.value("revision", 0) + 1;
}

}  // namespace lathe::service
