#include "service/throughput_service.h"

#include "core/arn.h"
#include "service/request_fields.h"
#include "service/usage_meter.h"

namespace lathe::service {
using nlohmann::json;

ThroughputService::ThroughputService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                                     CustomModelService* custom_models, ModelMemory* memory)
    : config_(config), db_(db), catalog_(catalog), custom_models_(custom_models), memory_(memory) {}

ThroughputService::~ThroughputService() {
  for (auto& l : loaders_) l.thread.join();
}

void ThroughputService::JoinFinishedLoaders() {
  for (auto it = loaders_.begin(); it != loaders_.end();) {
    if (!it->done->load()) {
      ++it;
      continue;
    }
    it->thread.join();  // done: it no longer takes mu_, so joining under mu_ cannot deadlock
    it = loaders_.erase(it);
  }
}

size_t ThroughputService::loader_threads() {
  std::lock_guard<std::mutex> lock(mu_);
  JoinFinishedLoaders();
  return loaders_.size();
}

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

Result<ThroughputService::ModelRef> ThroughputService::ResolveModel(const std::string& model_id, const std::string& region) {
  if (auto cm = custom_models_->Find(model_id); cm.ok()) {
    auto fm = catalog_->Find(cm->doc.value("baseModelName", ""));
    return ModelRef{cm->arn, cm->doc.value("_dir", ""), "", fm.ok() ? catalog_->Arn(fm->id, region) : cm->doc.value("baseModelArn", "")};
  }
  if (auto fm = catalog_->Find(model_id); fm.ok())
    return ModelRef{catalog_->Arn(fm->id, region), "", fm->local_id, catalog_->Arn(fm->id, region)};
  return Status::NotFound("The model " + model_id + " was not found (a custom model ARN or name, or a foundation model id)");
}

Result<std::shared_ptr<ModelMemory::Reservation>> ThroughputService::ReserveMemory(const ModelRef& model, int units) {
  PlannedModel plan;
  if (!model.dir.empty()) {
    plan.dir = model.dir;
    auto config = ReadModelConfig(model.dir);
    if (!config.ok()) return config.status();
    plan.config = std::move(*config);
  } else {
    auto planned = catalog_->Plan(model.local_id);
    if (!planned.ok()) return planned.status();
    plan = std::move(*planned);
  }
  return memory_->Reserve(plan.dir, plan.config, units);
}

void ThroughputService::LoadInBackground(const std::string& id, ModelRef model, int units,
                                         std::shared_ptr<ModelMemory::Reservation> reservation) {
  std::lock_guard<std::mutex> lock(mu_);
  JoinFinishedLoaders();
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([this, id, model, units, reservation = std::move(reservation), done]() mutable {
    Load(id, model, units, reservation);
    reservation.reset();  // a load no longer wanted gives its share of the budget back now
    done->store(true);
  });
  loaders_.push_back({std::move(thread), std::move(done)});
}

void ThroughputService::Load(const std::string& id, const ModelRef& model, int units,
                             const std::shared_ptr<ModelMemory::Reservation>& reservation) {
  Status status;
  if (model.dir.empty()) status = catalog_->ModelDir(model.local_id).status();  // builds the default model once
  std::shared_ptr<ModelPool> pool;
  if (status.ok()) {
    auto p = memory_->LoadPool(reservation, units * config_.queue_per_slot);
    if (p.ok()) pool = *p;
    else status = p.status();
  }
  // Installing the pool and writing the row happen under mu_, and only if this load is still the
  // one wanted: a slow load finishing after a later Update (or a Delete) is dropped.
  std::lock_guard<std::mutex> lock(mu_);
  auto row = db_->Find(kThroughputKind, id);
  if (!row.ok() || row->doc.value("desiredModelArn", "") != model.arn) return;
  if (status.ok()) {
    pools_[id] = pool;
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
  auto model = ResolveModel(model_id, region);
  if (!model.ok()) return model.status();

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
    auto model = ResolveModel(*model_id, ArnRegion(row->arn));
    if (!model.ok()) return model.status();
    // The new model loads while the old one still serves, so both must fit. Bedrock's
    // UpdateProvisionedModelThroughput declares no ServiceQuotaExceededException: a
    // ValidationException carries the reason.
    auto reservation = ReserveMemory(*model, row->doc.value("desiredModelUnits", 1));
    if (!reservation.ok()) {
      if (reservation.status().code() == Status::Code::kQuotaExceeded)
        return Status::InvalidArgument(reservation.status().message());
      return reservation.status();
    }
    row->status = "Updating";
    row->doc["status"] = "Updating";
    row->doc["desiredModelArn"] = model->arn;
    row->doc["_dir"] = model->dir;
    row->doc["_localId"] = model->local_id;
    row->doc["lastModifiedTime"] = Iso8601(NowMillis());
    {
      std::lock_guard<std::mutex> lock(mu_);
      LATHE_RETURN_IF_ERROR(db_->Update(*row));
    }
    LoadInBackground(row->id, *model, row->doc.value("desiredModelUnits", 1), std::move(*reservation));
  }
  return Status::Ok();
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
