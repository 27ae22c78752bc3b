#include "service/throughput_service.h"

#include "core/arn.h"
#include "service/request_fields.h"
#include "service/usage_meter.h"

namespace lathe::service {
using nlohmann::json;

ThroughputService::ThroughputService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                                     CustomModelService* custom_models, ModelMemory* memory)
    : config_(config), db_(db), catalog_(catalog), custom_models_(custom_models), memory_(memory) {}

ThroughputService::~ThroughputService() { loaders_.JoinAll(); }

void ThroughputService::Start() {
  auto rows = db_->List(kThroughputKind);
  if (!rows.ok()) return;
  for (auto& r : *rows) {
    if (r.status == "Failed") continue;
    ModelRef m{r.doc.value("desiredModelArn", ""), r.doc.value("_dir", ""), r.doc.value("_localId", ""),
               r.doc.value("foundationModelArn", "")};
    const int units = r.doc.value("desiredModelUnits", 1);
    auto reservation = ReserveMemory(m, units);
    if (!reservation.ok()) {  // the budget shrank since the last run, or the model is gone
      std::lock_guard<std::mutex> lock(mu_);
      r.status = "Failed";
      r.doc["status"] = r.status;
      r.doc["failureMessage"] = reservation.status().message();
      r.doc["lastModifiedTime"] = Iso8601(NowMillis());
      (void)db_->Update(r);
      continue;
    }
    LoadInBackground(r.id, m, units, std::move(*reservation));
  }
}

Result<ThroughputService::Target> ThroughputService::ResolveModel(const std::string& model_id, const std::string& region) {
  Target target;
  std::string id = model_id;
  if (IsRegistryReference(model_id)) {
    if (!resolver_) return Status::InvalidArgument("modelId " + model_id + " is a model registry reference, and this server has no registry");
    auto resolved = resolver_(model_id);
    if (!resolved.ok()) return resolved.status();
    target.reference = model_id;
    target.version = resolved->version;
    target.follows = resolved->follows_alias;
    id = resolved->model_arn;
  }
  auto model = FindServedModel(catalog_, custom_models_, id, region);
  if (!model.ok()) return model.status();
  target.model = std::move(*model);
  return target;
}

Result<std::shared_ptr<ModelMemory::Reservation>> ThroughputService::ReserveMemory(const ModelRef& model, int units) {
  return ReserveServedModel(catalog_, memory_, model, units, config_.weight_precision);
}

void ThroughputService::LoadInBackground(const std::string& id, ModelRef model, int units,
                                         std::shared_ptr<ModelMemory::Reservation> reservation) {
  loaders_.Run([this, id, model, units, reservation = std::move(reservation)] { Load(id, model, units, reservation); });
}

void ThroughputService::Load(const std::string& id, const ModelRef& model, int units,
                             const std::shared_ptr<ModelMemory::Reservation>& reservation) {
  auto loaded = LoadServedModel(catalog_, memory_, model, reservation, units * config_.queue_per_slot);
  const Status status = loaded.status();
  // Installing the pool and writing the row happen under mu_, and only if this load is still the
  // one wanted: a slow load finishing after a later Update (or a Delete) is dropped.
  std::lock_guard<std::mutex> lock(mu_);
  auto row = db_->Find(kThroughputKind, id);
  if (!row.ok() || row->doc.value("desiredModelArn", "") != model.arn) return;
  if (status.ok()) {
    pools_[id] = *loaded;
    row->status = "InService";
    row->doc["modelArn"] = model.arn;
    row->doc["modelUnits"] = units;
    row->doc.erase("failureMessage");
  } else {
    row->status = "Failed";
    row->doc["failureMessage"] = status.message();
  }
  row->doc["status"] = row->status;
  row->doc["lastModifiedTime"] = Iso8601(NowMillis());
  (void)db_->Update(*row);
}

Result<json> ThroughputService::Create(const json& req, const std::string& region) {
  // Types, lengths and patterns first (request_fields.h). modelUnits: Bedrock's PositiveInteger,
  // bounded by lathe at 64 concurrent generation slots on one machine.
  LATHE_ASSIGN_OR_RETURN(const std::string name, RequireString(req, "provisionedModelName", rules::kProvisionedModelName));
  LATHE_ASSIGN_OR_RETURN(const int64_t units64, RequireInteger(req, "modelUnits", 1, 64));
  LATHE_ASSIGN_OR_RETURN(const std::string model_id,
                         RequireString(req, "modelId", rules::kModelIdentifier, "", Check::kLengthOnly));
  LATHE_ASSIGN_OR_RETURN(const auto token, OptionalString(req, "clientRequestToken", rules::kIdempotencyToken));
  LATHE_ASSIGN_OR_RETURN(const std::string commitment,
                         OptionalEnum(req, "commitmentDuration", {"OneMonth", "SixMonths"}, ""));
  LATHE_ASSIGN_OR_RETURN(const auto tags, TagList(req, "tags"));
  auto target = ResolveModel(model_id, region);
  if (!target.ok()) return target.status();
  const ModelRef* model = &target->model;

  store::ResourceRow row;
  row.kind = kThroughputKind;
  row.id = NewResourceId();
  if (token) {
    auto first = db_->RememberToken(kThroughputKind, *token, row.id);
    if (!first.ok()) return first.status();
    if (*first != row.id)
      if (auto existing = db_->Find(kThroughputKind, *first); existing.ok()) return json{{"provisionedModelArn", existing->arn}};
  }
  // Refused here, synchronously, when it cannot fit: the caller gets ServiceQuotaExceeded instead
  // of a Creating resource that fails later (or a server that runs out of memory).
  const int units = static_cast<int>(units64);
  auto reservation = ReserveMemory(*model, units);
  if (!reservation.ok()) return reservation.status();
  row.name = name;
  row.arn = BedrockArn(InRegion(config_.scope, region), "provisioned-model/" + row.id);
  row.status = "Creating";
  row.created_ms = NowMillis();
  row.doc = {{"provisionedModelName", row.name},
             {"provisionedModelArn", row.arn},
             {"modelArn", model->arn},
             {"desiredModelArn", model->arn},
             {"foundationModelArn", model->foundation_arn},
             {"modelUnits", units},
             {"desiredModelUnits", units},
             {"status", row.status},
             {"creationTime", Iso8601(row.created_ms)},
             {"lastModifiedTime", Iso8601(row.created_ms)},
             {"_dir", model->dir},
             {"_localId", model->local_id}};
  if (!commitment.empty()) row.doc["commitmentDuration"] = commitment;
  if (!target->reference.empty())
    row.doc["_reference"] = {{"reference", target->reference}, {"version", target->version}, {"follows", target->follows}};
  if (Status s = db_->Insert(row); !s.ok()) {
    if (s.code() == Status::Code::kAlreadyExists)
      return Status::InvalidArgument("A provisioned throughput named " + row.name + " already exists");
    return s;
  }
  if (!tags.empty()) LATHE_RETURN_IF_ERROR(db_->SetTags(row.arn, tags));
  LoadInBackground(row.id, *model, units, std::move(*reservation));
  return json{{"provisionedModelArn", row.arn}};
}

Result<json> ThroughputService::Get(const std::string& identifier) {
  auto row = db_->Find(kThroughputKind, identifier);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound)
      return Status::NotFound("Provisioned throughput " + identifier + " not found");
    return row.status();
  }
  json out = PublicFields(row->doc);
  out["status"] = row->status;
  return out;
}

Result<json> ThroughputService::List(const std::map<std::string, std::string>& query) {
  auto q = ParseListQuery(query, rules::kProvisionedModelName);
  if (!q.ok()) return q.status();
  std::map<std::string, std::string> doc_equals;
  if (auto model = query.find("modelArnEquals"); model != query.end()) doc_equals["modelArn"] = model->second;
  std::string next;
  auto rows = ListPage(db_, kThroughputKind, *q, doc_equals, &next);
  if (!rows.ok()) return rows.status();
  json summaries = json::array();
  for (const auto& r : *rows) {
    json s = PublicFields(r.doc);
    s["status"] = r.status;
    summaries.push_back(s);
  }
  json out = {{"provisionedModelSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

Status ThroughputService::Update(const std::string& identifier, const json& req) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "provisionedModelId", rules::kProvisionedModelId));
  LATHE_ASSIGN_OR_RETURN(const auto new_name,
                         OptionalString(req, "desiredProvisionedModelName", rules::kProvisionedModelName));
  LATHE_ASSIGN_OR_RETURN(const auto model_id, OptionalString(req, "desiredModelId", rules::kModelIdentifier, "",
                                                             Check::kLengthOnly));
  auto row = db_->Find(kThroughputKind, identifier);
  if (!row.ok()) return Status::NotFound("Provisioned throughput " + identifier + " not found");
  if (new_name) {
    // Names are the store's unique key: renaming is a new row under the same id and ARN.
    return Status::InvalidArgument("desiredProvisionedModelName: renaming is not supported by lathe yet");
  }
  if (model_id) {
    auto target = ResolveModel(*model_id, ArnRegion(row->arn));
    if (!target.ok()) return target.status();
    // The new model loads while the old one still serves, so both must fit. Bedrock's
    // UpdateProvisionedModelThroughput declares no ServiceQuotaExceededException: a
    // ValidationException carries the reason.
    auto reservation = ReserveMemory(target->model, row->doc.value("desiredModelUnits", 1));
    if (!reservation.ok()) {
      if (reservation.status().code() == Status::Code::kQuotaExceeded)
        return Status::InvalidArgument(reservation.status().message());
      return reservation.status();
    }
    return Retarget(std::move(*row), *target, std::move(*reservation));
  }
  return Status::Ok();
}

Status ThroughputService::Retarget(store::ResourceRow row, const Target& target,
                                   std::shared_ptr<ModelMemory::Reservation> reservation) {
  row.status = "Updating";
  row.doc["status"] = "Updating";
  row.doc["desiredModelArn"] = target.model.arn;
  row.doc["_dir"] = target.model.dir;
  row.doc["_localId"] = target.model.local_id;
  if (target.reference.empty()) row.doc.erase("_reference");
  else row.doc["_reference"] = {{"reference", target.reference}, {"version", target.version}, {"follows", target.follows}};
  row.doc["lastModifiedTime"] = Iso8601(NowMillis());
  {
    std::lock_guard<std::mutex> lock(mu_);
    LATHE_RETURN_IF_ERROR(db_->Update(row));
  }
  LoadInBackground(row.id, target.model, row.doc.value("desiredModelUnits", 1), std::move(reservation));
  return Status::Ok();
}

void ThroughputService::FollowAliases() {
  if (!resolver_) return;
  auto rows = db_->List(kThroughputKind);
  if (!rows.ok()) return;
  for (auto& r : *rows) {
    const auto ref = r.doc.find("_reference");
    if (ref == r.doc.end() || !ref->value("follows", false) || r.status == "Failed") continue;
    auto target = ResolveModel(ref->value("reference", ""), ArnRegion(r.arn));
    if (!target.ok() || target->model.arn == r.doc.value("desiredModelArn", "")) continue;
    auto reservation = ReserveMemory(target->model, r.doc.value("desiredModelUnits", 1));
    if (!reservation.ok()) continue;  // the old version serves on; the next call tries again
    (void)Retarget(std::move(r), *target, std::move(*reservation));
  }
}

Status ThroughputService::Delete(const std::string& identifier) {
  auto row = db_->Find(kThroughputKind, identifier);
  if (!row.ok()) return Status::NotFound("Provisioned throughput " + identifier + " not found");
  std::lock_guard<std::mutex> lock(mu_);
  // Its held time outlives the row (usage_meter.h): `lathe costs` prices the hours it was held.
  store::WriteBatch batch;
  batch.deletes.emplace_back(kThroughputKind, row->id);
  batch.inserts.push_back(EndedThroughputUsage(*row, NowMillis()));
  LATHE_RETURN_IF_ERROR(db_->Write(batch));
  pools_.erase(row->id);  // requests in flight keep their instances until they finish
  last_invoked_written_.erase(row->id);
  return Status::Ok();
}

bool ThroughputService::Serves(const std::string& model_arn) {
  auto rows = db_->List(kThroughputKind);
  if (!rows.ok()) return true;  // when unsure, refuse to delete the model
  for (const auto& r : *rows)
    if (r.doc.value("modelArn", "") == model_arn || r.doc.value("desiredModelArn", "") == model_arn) return true;
  return false;
}

Result<std::shared_ptr<ModelPool>> ThroughputService::PoolFor(const std::string& identifier) {
  auto row = db_->Find(kThroughputKind, identifier);
  if (!row.ok()) return row.status();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pools_.find(row->id);
  if (it == pools_.end()) {
    if (row->status == "Failed")
      return Status::InvalidArgument("Provisioned throughput " + row->name + " failed: " + row->doc.value("failureMessage", ""));
    return Status::Throttled("Provisioned throughput " + row->name + " is " + row->status + "; retry when it is InService");
  }
  const int64_t now = NowMillis();
  int64_t& written = last_invoked_written_[row->id];
  if (now - written >= kLastInvokedWriteIntervalMs) {
    written = now;
    // Read again under mu_, so the write cannot undo a load's status change (Load writes under mu_).
    if (auto fresh = db_->Find(kThroughputKind, row->id); fresh.ok()) {
      fresh->doc["_lastInvokedMs"] = now;  // "_": kept off the wire (PublicFields)
      (void)db_->Update(*fresh);  // best effort: a lost write only makes it look idle a minute longer
    }
  }
  return it->second;
}

}  // namespace lathe::service
