// Model groups and numbered versions (registry.h). A version, its lineage rows and its event are
// one WriteBatch; numbering is max + 1 under mu_, and the store's unique row name turns another
// process's race for the same number into AlreadyExists, answered by numbering again.
#include <algorithm>

#include "core/arn.h"
#include "services/registry/registry.h"
#include "services/registry/rows.h"

namespace lathe::registry {
namespace {

using nlohmann::json;
using store::MetadataStore;
using store::ResourceRow;

// Another process can win the race for a number only while it registers into the same group;
// a handful of fresh tries outlasts any realistic burst.
constexpr int kRegisterAttempts = 8;

MetadataStore::ListFilter Filter(const ListOptions& o) {
  MetadataStore::ListFilter f;
  f.name_contains = o.name_contains;
  if (o.status) f.statuses = {VersionStatusName(*o.status)};
  f.created_after = o.created_after;
  f.created_before = o.created_before;
  f.descending = o.descending;
  f.offset = o.offset;
  f.limit = o.limit;
  return f;
}

Status CheckListOptions(const ListOptions& o) {
  return rows::CheckToken("nameContains", o.name_contains, kMaxGroupNameBytes, false);
}

store::OutboxEvent RegisteredEvent(const ModelVersion& v, const std::string& region, const std::string& account) {
  store::OutboxEvent e;
  e.source = rows::kEventSource;
  e.detail_type = "Model Version Registered";
  e.region = region;
  e.account = account;
  e.resources = {v.arn, rows::GroupArn(region, account, v.group)};
  e.time_ms = v.created_ms;
  e.detail = {{"group", v.group},
              {"version", v.version},
              {"modelPackageArn", v.arn},
              {"status", VersionStatusName(v.status)},
              {"customModelArn", v.custom_model_arn},
              {"baseModel", v.base_model},
              {"trainingJobArn", v.training_job_arn},
              {"createdBy", v.created_by},
              {"description", v.description}};
  return e;
}

// The row of a changed version, keeping the client token the original request carried.
ResourceRow Rewritten(const ResourceRow& old_row, const ModelVersion& v) {
  return rows::VersionToRow(v, old_row.doc.value("clientToken", ""));
}

}  // namespace

const char* VersionStatusName(VersionStatus s) {
  switch (s) {
    case VersionStatus::kApproved: return "Approved";
    case VersionStatus::kRejected: return "Rejected";
    case VersionStatus::kArchived: return "Archived";
    case VersionStatus::kPending: break;
  }
  return "PendingManualApproval";
}

Result<VersionStatus> ParseVersionStatus(const std::string& name) {
  for (VersionStatus s : {VersionStatus::kPending, VersionStatus::kApproved, VersionStatus::kRejected,
                          VersionStatus::kArchived})
    if (name == VersionStatusName(s)) return s;
  return rows::Invalid("status", "must be PendingManualApproval, Approved, Rejected or Archived");
}

int64_t Registry::Now() const { return clock_ ? clock_() : NowMillis(); }

Result<ModelGroup> Registry::CreateGroup(const std::string& name, const std::string& description,
                                         const std::string& created_by, const std::map<std::string, std::string>& tags) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", name, kMaxGroupNameBytes));
  LATHE_RETURN_IF_ERROR(rows::CheckProse("description", description, kMaxDescriptionBytes));
  LATHE_RETURN_IF_ERROR(rows::CheckToken("createdBy", created_by, rows::kMaxActorBytes, false));
  LATHE_RETURN_IF_ERROR(rows::CheckStringMap("tags", tags, rows::kMaxTags));
  ModelGroup g;
  g.name = name;
  g.arn = rows::GroupArn(region_, account_, name);
  g.description = description;
  g.created_by = created_by;
  g.created_ms = Now();
  std::lock_guard<std::mutex> lock(mu_);
  Status s = db_->Insert(rows::GroupToRow(g));
  if (s.code() == Status::Code::kAlreadyExists) return Status::AlreadyExists("model group " + name + " already exists");
  LATHE_RETURN_IF_ERROR(s);
  if (!tags.empty()) LATHE_RETURN_IF_ERROR(db_->SetTags(g.arn, tags));
  return g;
}

Result<ModelGroup> Registry::GetGroup(const std::string& name_or_arn) {
  Result<std::string> name = rows::ParseGroupRef(name_or_arn, region_, account_);
  if (!name.ok()) return name.status();
  Result<ResourceRow> row = db_->Find(rows::kGroupKind, *name);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound) return Status::NotFound("model group " + *name + " does not exist");
    return row.status();
  }
  return rows::GroupFromRow(*row);
}

Result<std::vector<ModelGroup>> Registry::ListGroups(const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  MetadataStore::ListFilter f = Filter(options);
  f.statuses.clear();  // groups have no approval status
  Result<std::vector<ResourceRow>> found = db_->List(rows::kGroupKind, f);
  if (!found.ok()) return found.status();
  std::vector<ModelGroup> out;
  for (const ResourceRow& r : *found) out.push_back(rows::GroupFromRow(r));
  return out;
}

Status Registry::DeleteGroup(const std::string& name_or_arn) {
  Result<ModelGroup> g = GetGroup(name_or_arn);
  if (!g.ok()) return g.status();
  std::lock_guard<std::mutex> lock(mu_);
  MetadataStore::ListFilter f;
  f.doc_equals["group"] = g->name;
  for (int attempt = 0; attempt < rows::kCasAttempts; ++attempt) {
    Result<ResourceRow> row = db_->Find(rows::kGroupKind, g->name);
    if (!row.ok()) return row.status();
    Result<size_t> versions = db_->Count(rows::kVersionKind, f);
    if (!versions.ok()) return versions.status();
    if (*versions > 0)
      return Status::Conflict("model group " + g->name + " still has " + std::to_string(*versions) +
                              " version(s); delete them first");
    // The group row's revision guards the count: a Register in between rewrites the group row
    // (its latest version), so this batch is refused and the count taken again. The group's
    // aliases (all deleted, or moved to 0), their history and its client tokens go with it: a
    // group re-created under the name starts again at version 1 with no history naming the old
    // versions' numbers.
    store::WriteBatch batch;
    batch.expects.push_back(rows::SameRevision(*row));
    batch.deletes.push_back({rows::kGroupKind, row->id});
    for (const char* kind : {rows::kAliasKind, rows::kMoveKind, rows::kTokenKind}) {
      Result<std::vector<ResourceRow>> owned = db_->List(kind, f);
      if (!owned.ok()) return owned.status();
      for (const ResourceRow& r : *owned) batch.deletes.push_back({kind, r.id});
    }
    Status written = db_->Write(batch);
    if (written.code() == Status::Code::kConflict) continue;
    LATHE_RETURN_IF_ERROR(written);
    Result<std::map<std::string, std::string>> tags = db_->Tags(g->arn);
    if (tags.ok() && !tags->empty()) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : *tags) keys.push_back(k);
      LATHE_RETURN_IF_ERROR(db_->RemoveTags(g->arn, keys));
    }
    return Status::Ok();
  }
  return Status::Conflict("model group " + g->name + " kept changing; try again");
}

Status Registry::SetPolicy(const std::string& group, const PromotionPolicy& policy) {
  // The JSON round trip applies PolicyFromJson's checks to a policy built in code too.
  Result<PromotionPolicy> checked = PolicyFromJson(PolicyToJson(policy));
  if (!checked.ok()) return checked.status();
  Result<ModelGroup> g = GetGroup(group);
  if (!g.ok()) return g.status();
  std::lock_guard<std::mutex> lock(mu_);
  Status last = Status::Internal("not attempted");
  for (int attempt = 0; attempt < rows::kCasAttempts; ++attempt) {
    Result<ResourceRow> row = db_->Find(rows::kGroupKind, g->name);  // fresh, under the lock
    if (!row.ok()) return row.status();
    ModelGroup fresh = rows::GroupFromRow(*row);
    fresh.policy = *checked;
    store::WriteBatch batch;
    batch.expects.push_back(rows::SameRevision(*row));
    batch.updates.push_back(rows::GroupToRow(fresh));
    rows::NextRevision(*row, &batch.updates.back());
    last = db_->Write(batch);
    if (last.code() != Status::Code::kConflict) return last;
  }
  return last;
}

Result<ModelVersion> Registry::Register(const NewVersion& request) {
  NewVersion v = request;
  LATHE_RETURN_IF_ERROR(rows::CheckNewVersion(&v));
  std::lock_guard<std::mutex> lock(mu_);
  // A retry of a Register that succeeded gets that version back, whatever changed since. The
  // token is claimed by a row in the version's own batch, so of two processes registering with
  // one token at once exactly one commits anything; the other's whole batch rolls back and it
  // answers the holder's version.
  auto holder_of_token = [&]() -> Result<std::optional<ModelVersion>> {
    if (v.client_token.empty()) return std::optional<ModelVersion>();
    Result<ResourceRow> token = db_->Find(rows::kTokenKind, rows::TokenName(v.group, v.client_token));
    if (!token.ok()) {
      if (token.status().code() != Status::Code::kNotFound) return token.status();
      return std::optional<ModelVersion>();
    }
    Result<ModelVersion> held = GetVersion(v.group, static_cast<int>(token->doc.value("version", 0)));
    if (!held.ok()) return held.status();
    return std::optional<ModelVersion>(*held);
  };
  Result<std::optional<ModelVersion>> earlier = holder_of_token();
  if (!earlier.ok()) return earlier.status();
  if (*earlier) return **earlier;
  Result<ModelVersion> made = Status::Internal("not attempted");
  for (int attempt = 0; attempt < kRegisterAttempts; ++attempt) {
    made = RegisterOnceLocked(v);
    if (made.ok()) break;
    const Status::Code code = made.status().code();
    if (code != Status::Code::kAlreadyExists && code != Status::Code::kConflict) break;
    Result<std::optional<ModelVersion>> won = holder_of_token();  // another process took the token?
    if (!won.ok()) return won.status();
    if (*won) return **won;
  }
  return made;
}

Result<ModelVersion> Registry::RegisterOnceLocked(const NewVersion& v) {
  const int64_t now = Now();
  Result<ResourceRow> group_row = db_->Find(rows::kGroupKind, v.group);
  const bool new_group = !group_row.ok();
  if (new_group && group_row.status().code() != Status::Code::kNotFound) return group_row.status();
  ModelGroup group;
  if (new_group) {
    group.name = v.group;
    group.arn = rows::GroupArn(region_, account_, v.group);
    group.created_by = v.created_by;
    group.created_ms = now;
  } else {
    group = rows::GroupFromRow(*group_row);
  }
  // The newest version row: the store orders by created_ms then id, and a group's versions get
  // non-decreasing times and zero-padded ids, so that is the highest number. The group's counter
  // keeps a deleted latest version's number from being given again.
  MetadataStore::ListFilter f;
  f.doc_equals["group"] = v.group;
  f.descending = true;
  f.limit = 1;
  Result<std::vector<ResourceRow>> newest = db_->List(rows::kVersionKind, f);
  if (!newest.ok()) return newest.status();
  int highest = group.latest_version;
  int64_t created_ms = now;
  if (!newest->empty()) {
    highest = std::max(highest, static_cast<int>(newest->front().doc.value("version", 0)));
    created_ms = std::max(created_ms, newest->front().created_ms);
  }
  if (highest >= rows::kMaxVersionNumber)
    return Status::QuotaExceeded("model group " + v.group + " has used every version number");

  ModelVersion mv;
  mv.group = v.group;
  mv.version = highest + 1;
  mv.arn = rows::VersionArn(region_, account_, v.group, mv.version);
  mv.custom_model_arn = v.custom_model_arn;
  mv.base_model = v.base_model;
  mv.training_job_arn = v.training_job_arn;
  mv.hyperparameters = v.hyperparameters;
  mv.data = v.data;
  mv.evaluations = v.evaluations;
  for (EvaluationRecord& e : mv.evaluations)
    if (e.created_ms == 0) e.created_ms = created_ms;
  mv.description = v.description;
  mv.created_by = v.created_by;
  mv.last_modified_by = v.created_by;
  mv.created_ms = created_ms;
  mv.last_modified_ms = created_ms;
  mv.status = v.status;
  mv.metadata = v.metadata;
  ResourceRow row = rows::VersionToRow(mv, v.client_token);
  LATHE_RETURN_IF_ERROR(rows::CheckVersionDocSize(row));

  group.latest_version = mv.version;
  store::WriteBatch batch;
  if (new_group) {
    batch.inserts.push_back(rows::GroupToRow(group));
  } else {
    // Compare-and-swap on the group row: a policy set or a group delete in between is not undone.
    batch.expects.push_back(rows::SameRevision(*group_row));
    batch.updates.push_back(rows::GroupToRow(group));
    rows::NextRevision(*group_row, &batch.updates.back());
  }
  batch.inserts.push_back(std::move(row));
  for (ResourceRow& r : rows::LineageRows(mv)) batch.inserts.push_back(std::move(r));
  if (!v.client_token.empty()) batch.inserts.push_back(rows::TokenRow(v.group, v.client_token, mv.version, created_ms));
  if (!v.tags.empty()) batch.tags.push_back({mv.arn, v.tags});
  batch.events.push_back(RegisteredEvent(mv, region_, account_));
  LATHE_RETURN_IF_ERROR(db_->Write(batch));
  return mv;
}

Result<ModelVersion> Registry::GetVersion(const std::string& arn_or_group_version) {
  auto ref = rows::ParseVersionRef(arn_or_group_version, region_, account_);
  if (!ref.ok()) return ref.status();
  return GetVersion(ref->first, ref->second);
}

Result<ModelVersion> Registry::GetVersion(const std::string& group, int version) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", group, kMaxGroupNameBytes));
  if (version < 1 || version > rows::kMaxVersionNumber) return rows::Invalid("version", "must be a positive number");
  Result<ResourceRow> row = rows::FindVersionRow(db_, group, version);
  if (!row.ok()) return row.status();
  return rows::VersionFromRow(*row);
}

Result<std::vector<ModelVersion>> Registry::ListVersions(const std::string& group, const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", group, kMaxGroupNameBytes));
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  MetadataStore::ListFilter f = Filter(options);
  f.doc_equals["group"] = group;
  Result<std::vector<ResourceRow>> found = db_->List(rows::kVersionKind, f);
  if (!found.ok()) return found.status();
  std::vector<ModelVersion> out;
  for (const ResourceRow& r : *found) out.push_back(rows::VersionFromRow(r));
  return out;
}

Result<ModelVersion> Registry::UpdateVersion(const std::string& arn_or_group_version,
                                             std::optional<VersionStatus> status,
                                             const std::string& approval_description,
                                             const std::map<std::string, std::string>& metadata_set,
                                             const std::vector<std::string>& metadata_remove, const std::string& actor) {
  auto ref = rows::ParseVersionRef(arn_or_group_version, region_, account_);
  if (!ref.ok()) return ref.status();
  LATHE_RETURN_IF_ERROR(rows::CheckProse("approvalDescription", approval_description, kMaxDescriptionBytes));
  LATHE_RETURN_IF_ERROR(rows::CheckMetadata(metadata_set));
  if (metadata_remove.size() > kMaxMetadataEntries)
    return rows::Invalid("metadataRemove", "at most " + std::to_string(kMaxMetadataEntries) + " keys");
  for (const std::string& k : metadata_remove)
    LATHE_RETURN_IF_ERROR(rows::CheckToken("metadataRemove", k, rows::kMaxKeyBytes, true));
  LATHE_RETURN_IF_ERROR(rows::CheckToken("actor", actor, rows::kMaxActorBytes, false));

  std::lock_guard<std::mutex> lock(mu_);
  std::optional<std::string> first_status;
  Status last = Status::Internal("not attempted");
  for (int attempt = 0; attempt < rows::kCasAttempts; ++attempt) {
  Result<ResourceRow> row = rows::FindVersionRow(db_, ref->first, ref->second);
  if (!row.ok()) return row.status();
  // Another process's status change since this call began is not undone (Conflict names it).
  if (!first_status) first_status = row->status;
  if (status && row->status != *first_status)
    return Status::Conflict("model version " + rows::VersionName(ref->first, ref->second) + " became " +
                            row->status + " meanwhile");
  ModelVersion v = rows::VersionFromRow(*row);
  if (status && (*status == VersionStatus::kRejected || *status == VersionStatus::kArchived)) {
    // An alias never points at a version that may not serve.
    Result<std::map<std::string, int>> aliases = rows::AliasesOf(db_, v.group);
    if (!aliases.ok()) return aliases.status();
    for (const auto& [alias, at] : *aliases)
      if (at == v.version)
        return Status::Conflict("model version " + rows::VersionName(v.group, v.version) + " is aliased as " + alias +
                                "; move the alias before marking it " + VersionStatusName(*status));
  }
  if (status) v.status = *status;
  if (!approval_description.empty()) v.approval_description = approval_description;
  for (const std::string& k : metadata_remove) v.metadata.erase(k);
  for (const auto& [k, val] : metadata_set) v.metadata[k] = val;
  LATHE_RETURN_IF_ERROR(rows::CheckMetadata(v.metadata));
  v.last_modified_by = actor;
  v.last_modified_ms = Now();
  ResourceRow updated = Rewritten(*row, v);
  rows::NextRevision(*row, &updated);
  LATHE_RETURN_IF_ERROR(rows::CheckVersionDocSize(updated));
  // Compare-and-swap on the revision: an alias moved onto it, an evaluation added or a status
  // set in between makes this read again (an alias move bumps the target's revision, so the
  // alias check above cannot miss one).
  store::WriteBatch batch;
  batch.expects.push_back(rows::SameRevision(*row));
  batch.updates.push_back(std::move(updated));
  last = db_->Write(batch);
  if (last.ok()) return v;
  if (last.code() != Status::Code::kConflict) return last;
  }
  return last;
}

Status Registry::AddEvaluation(const std::string& group, int version, const EvaluationRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  return AddEvaluationLocked(group, version, record);
}

Status Registry::AddEvaluationLocked(const std::string& group, int version, const EvaluationRecord& record) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", group, kMaxGroupNameBytes));
  LATHE_RETURN_IF_ERROR(rows::CheckEvaluation(record));
  EvaluationRecord e = record;
  Status last = Status::Internal("not attempted");
  for (int attempt = 0; attempt < rows::kCasAttempts; ++attempt) {
    Result<ResourceRow> row = rows::FindVersionRow(db_, group, version);
    if (!row.ok()) return row.status();
    if (e.created_ms == 0) e.created_ms = Now();
    ModelVersion v = rows::VersionFromRow(*row);
    if (v.evaluations.size() >= kMaxEvaluations)
      return rows::Invalid("evaluations", "a version holds at most " + std::to_string(kMaxEvaluations) + " evaluations");
    v.evaluations.push_back(e);
    ResourceRow updated = Rewritten(*row, v);
    rows::NextRevision(*row, &updated);
    LATHE_RETURN_IF_ERROR(rows::CheckVersionDocSize(updated));
    // Compare-and-swap: a status set by another process since the read is kept, not undone.
    store::WriteBatch batch;
    batch.expects.push_back(rows::SameRevision(*row));
    batch.updates.push_back(std::move(updated));
    last = db_->Write(batch);
    if (last.code() != Status::Code::kConflict) return last;
  }
  return last;
}

Status Registry::DeleteVersion(const std::string& arn_or_group_version) {
  auto ref = rows::ParseVersionRef(arn_or_group_version, region_, account_);
  if (!ref.ok()) return ref.status();
  const auto& [group, version] = *ref;
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0;; ++attempt) {
  Result<ResourceRow> row = rows::FindVersionRow(db_, group, version);
  if (!row.ok()) return row.status();
  Result<std::map<std::string, int>> aliases = rows::AliasesOf(db_, group);
  if (!aliases.ok()) return aliases.status();
  for (const auto& [alias, at] : *aliases)
    if (at == version)
      return Status::Conflict("model version " + rows::VersionName(group, version) + " is aliased as " + alias +
                              "; move the alias first");
  Result<std::vector<ResourceRow>> lineage = rows::LineageRowsOf(db_, group, version);
  if (!lineage.ok()) return lineage.status();
  // The version and its lineage go together; the alias history keeps naming the number, which
  // is never given again.
  // The revision guards the alias check: an alias moved onto the version meanwhile bumped it.
  store::WriteBatch batch;
  batch.expects.push_back(rows::SameRevision(*row));
  batch.deletes.push_back({rows::kVersionKind, row->id});
  for (const ResourceRow& r : *lineage) batch.deletes.push_back({rows::kLineageKind, r.id});
  const std::string token = row->doc.value("clientToken", "");
  if (!token.empty()) batch.deletes.push_back({rows::kTokenKind, rows::TokenName(group, token)});
  Status written = db_->Write(batch);
  if (written.code() == Status::Code::kConflict && attempt + 1 < rows::kCasAttempts) continue;
  LATHE_RETURN_IF_ERROR(written);
  Result<std::map<std::string, std::string>> tags = db_->Tags(row->arn);
  if (tags.ok() && !tags->empty()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : *tags) keys.push_back(k);
    LATHE_RETURN_IF_ERROR(db_->RemoveTags(row->arn, keys));
  }
  return Status::Ok();
  }
}

}  // namespace lathe::registry
