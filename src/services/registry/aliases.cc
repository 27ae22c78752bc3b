// Aliases (registry.h): each move writes the alias row, an append-only alias-move row and the
// "Model Alias Moved" event in one WriteBatch, so the alias row always equals the newest
// history row's to_version, also after a SIGKILL. Moves are numbered per alias (the move row's
// name), so two processes moving one alias at once cannot both record move N: the second gets
// AlreadyExists. A plain SetAlias then moves again from what the first left; a gated promotion
// or a rollback names the holder it decided against (expected_from) and gets Conflict instead.
#include <algorithm>
#include <limits>

#include "core/arn.h"
#include "services/registry/registry.h"
#include "services/registry/rows.h"

namespace lathe::registry {
namespace {

using store::MetadataStore;
using store::ResourceRow;

constexpr int kMoveAttempts = 8;

Status CheckAliasArgs(const std::string& group, const std::string& alias) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", group, kMaxGroupNameBytes));
  return rows::CheckEntityName("alias", alias, kMaxAliasBytes);
}

Status CheckMoveText(const std::string& actor, const std::string& reason) {
  LATHE_RETURN_IF_ERROR(rows::CheckToken("actor", actor, rows::kMaxActorBytes, false));
  return rows::CheckProse("reason", reason, kMaxReasonBytes);
}

// The alias's moves, oldest first: times never go backwards within an alias (each move is
// stamped no earlier than the one before), so the store's order is the order of the moves.
MetadataStore::ListFilter MovesOf(const std::string& group, const std::string& alias) {
  MetadataStore::ListFilter f;
  f.doc_equals = {{"group", group}, {"alias", alias}};
  return f;
}

store::OutboxEvent MovedEvent(const AliasMove& m, const std::string& region, const std::string& account) {
  store::OutboxEvent e;
  e.source = rows::kEventSource;
  e.detail_type = "Model Alias Moved";
  e.region = region;
  e.account = account;
  e.resources = {rows::VersionArn(region, account, m.group, m.to_version), rows::GroupArn(region, account, m.group)};
  e.time_ms = m.time_ms;
  e.detail = {{"group", m.group},   {"alias", m.alias}, {"fromVersion", m.from_version}, {"toVersion", m.to_version},
              {"actor", m.actor},   {"reason", m.reason}, {"rollback", m.rollback}};
  return e;
}

}  // namespace

namespace rows {
const AliasMove* MoveARollbackUndoes(const std::vector<AliasMove>& moves) {
  int undone = 0;
  for (auto it = moves.rbegin(); it != moves.rend(); ++it) {
    if (it->rollback) ++undone;
    else if (undone > 0) --undone;
    else return &*it;
  }
  return nullptr;
}
}  // namespace rows

Result<AliasMove> Registry::MoveAliasLocked(const std::string& group, const std::string& alias, int version,
                                            const std::string& actor, const std::string& reason, bool rollback,
                                            std::optional<int> expected_from) {
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  LATHE_RETURN_IF_ERROR(CheckMoveText(actor, reason));
  if (version < 1 || version > rows::kMaxVersionNumber) return rows::Invalid("version", "must be a positive number");
  Status last = Status::Internal("not attempted");
  for (int attempt = 0; attempt < kMoveAttempts; ++attempt) {
    // The target is read again on every attempt and its revision is part of the move's batch:
    // a rejection, archive or delete of it by another process in between refuses the move.
    Result<ResourceRow> target = rows::FindVersionRow(db_, group, version);
    if (!target.ok()) return target.status();
    const ModelVersion tv = rows::VersionFromRow(*target);
    if (tv.status == VersionStatus::kRejected || tv.status == VersionStatus::kArchived)
      return Status::Conflict("model version " + rows::VersionName(group, version) + " is " +
                              VersionStatusName(tv.status) + ": an alias may not point at it");
    Result<ResourceRow> current = db_->Find(rows::kAliasKind, group + "/" + alias);
    const bool exists = current.ok();
    if (!exists && current.status().code() != Status::Code::kNotFound) return current.status();
    AliasMove m;
    m.group = group;
    m.alias = alias;
    m.from_version = exists ? current->doc.value("version", 0) : 0;
    m.to_version = version;
    m.actor = actor;
    m.reason = reason;
    m.rollback = rollback;
    // The caller decided against a holder (the gate compared with it; a rollback undoes the
    // move onto it): if another process moved the alias since, that decision no longer holds.
    if (expected_from && m.from_version != *expected_from && !(m.from_version == version))
      return Status::Conflict("alias " + group + ":" + alias + " is at version " + std::to_string(m.from_version) +
                              ", not " + std::to_string(*expected_from) + " as when this move was decided");
    int64_t moves = exists ? current->doc.value("moves", int64_t{0}) : 0;
    int64_t previous_ms = exists ? current->doc.value("lastMoveMs", int64_t{0}) : 0;
    if (!exists) {
      // A deleted alias keeps its history: numbering and times go on after its last move.
      MetadataStore::ListFilter f = MovesOf(group, alias);
      f.descending = true;
      f.limit = 1;
      Result<std::vector<ResourceRow>> newest = db_->List(rows::kMoveKind, f);
      if (!newest.ok()) return newest.status();
      if (!newest->empty()) {
        Result<size_t> count = db_->Count(rows::kMoveKind, MovesOf(group, alias));
        if (!count.ok()) return count.status();
        moves = static_cast<int64_t>(*count);
        previous_ms = rows::MoveFromRow(newest->front()).time_ms;
      }
    }
    m.time_ms = std::max(Now(), previous_ms);
    if (exists && m.from_version == version) return m;  // already there: nothing moves, nothing is recorded

    store::WriteBatch batch;
    batch.expects.push_back(rows::SameRevision(*target));
    ResourceRow touched = *target;  // the move bumps the target's revision (see UpdateVersion)
    rows::NextRevision(*target, &touched);
    batch.updates.push_back(std::move(touched));
    batch.inserts.push_back(rows::MoveToRow(m, moves + 1));
    ResourceRow alias_row = rows::AliasToRow(group, alias, version, moves + 1, m.time_ms);
    if (exists) {
      batch.expects.push_back({rows::kAliasKind, current->id, "moves", moves});
      batch.updates.push_back(std::move(alias_row));
    } else {
      batch.inserts.push_back(std::move(alias_row));
    }
    batch.events.push_back(MovedEvent(m, region_, account_));
    last = db_->Write(batch);
    if (last.ok()) return m;
    if (last.code() != Status::Code::kAlreadyExists && last.code() != Status::Code::kConflict) return last;
  }
  return last;
}

Result<AliasMove> Registry::SetAlias(const std::string& group, const std::string& alias, int version,
                                     const std::string& actor, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  return MoveAliasLocked(group, alias, version, actor, reason, /*rollback=*/false, std::nullopt);
}

// A delete is recorded as a move to 0, so AliasAt answers 0 from then on and the history still
// says what it pointed at before (a Rollback after a delete puts it back).
Result<AliasMove> Registry::DeleteAlias(const std::string& group, const std::string& alias, const std::string& actor,
                                        const std::string& reason) {
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  LATHE_RETURN_IF_ERROR(CheckMoveText(actor, reason));
  std::lock_guard<std::mutex> lock(mu_);
  Status last = Status::Internal("not attempted");
  for (int attempt = 0; attempt < kMoveAttempts; ++attempt) {
    Result<ResourceRow> current = db_->Find(rows::kAliasKind, group + "/" + alias);
    if (!current.ok()) {
      if (current.status().code() == Status::Code::kNotFound)
        return Status::NotFound("alias " + group + ":" + alias + " does not exist");
      return current.status();
    }
    AliasMove m;
    m.group = group;
    m.alias = alias;
    m.from_version = current->doc.value("version", 0);
    m.to_version = 0;
    m.actor = actor;
    m.reason = reason;
    const int64_t moves = current->doc.value("moves", int64_t{0});
    m.time_ms = std::max(Now(), current->doc.value("lastMoveMs", int64_t{0}));
    store::WriteBatch batch;
    batch.expects.push_back({rows::kAliasKind, current->id, "moves", moves});
    batch.inserts.push_back(rows::MoveToRow(m, moves + 1));
    batch.deletes.push_back({rows::kAliasKind, current->id});
    store::OutboxEvent e = MovedEvent(m, region_, account_);
    e.resources = {rows::GroupArn(region_, account_, group)};
    batch.events.push_back(std::move(e));
    last = db_->Write(batch);
    if (last.ok()) return m;
    if (last.code() != Status::Code::kAlreadyExists && last.code() != Status::Code::kConflict) return last;
  }
  return last;
}

// Rollback is an undo stack over the history: it undoes the newest move that no rollback has
// undone yet. After 1 -> 2 -> 3, the first Rollback goes to 2 (recording 3 -> 2, rollback), the
// second to 1 (recording 2 -> 1), a third finds nothing before 1 (NotFound). A SetAlias after a
// rollback is a new move: the next Rollback undoes it first.
Result<AliasMove> Registry::Rollback(const std::string& group, const std::string& alias, const std::string& actor,
                                     const std::string& reason) {
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  LATHE_RETURN_IF_ERROR(CheckMoveText(actor, reason));
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<ResourceRow>> history = db_->List(rows::kMoveKind, MovesOf(group, alias));
  if (!history.ok()) return history.status();
  if (history->empty()) return Status::NotFound("alias " + group + ":" + alias + " has no history to roll back");
  std::vector<AliasMove> moves;
  for (const ResourceRow& r : *history) moves.push_back(rows::MoveFromRow(r));
  const AliasMove* undo = rows::MoveARollbackUndoes(moves);
  if (!undo || undo->from_version == 0)
    return Status::NotFound("alias " + group + ":" + alias + " has no earlier version to roll back to (it began at " +
                            "version " + std::to_string(undo ? undo->to_version : moves.front().to_version) + ")");
  const int to = undo->from_version;
  Result<ModelVersion> target = GetVersion(group, to);
  if (!target.ok()) {
    if (target.status().code() == Status::Code::kNotFound)
      return Status::Conflict("alias " + group + ":" + alias + " was at version " + std::to_string(to) +
                              " before, and that version has been deleted");
    return target.status();
  }
  const std::string why = !reason.empty() ? reason
                                          : "rollback of the move to version " + std::to_string(undo->to_version) +
                                                " at " + Iso8601(undo->time_ms);
  // The alias must still be where the history read above left it (its newest move's target):
  // otherwise another process moved it meanwhile and this would undo the wrong move.
  return MoveAliasLocked(group, alias, to, actor, why, /*rollback=*/true, moves.back().to_version);
}

Result<std::optional<AliasMove>> Registry::MoveAliasIf(const std::string& group, const std::string& alias,
                                                       int expected, int target, const std::string& actor,
                                                       const std::string& reason, bool rollback) {
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> current = db_->Find(rows::kAliasKind, group + "/" + alias);
  if (!current.ok()) {
    if (current.status().code() == Status::Code::kNotFound) return std::optional<AliasMove>();
    return current.status();
  }
  const int holder = current->doc.value("version", 0);
  if (holder != expected || holder == target) return std::optional<AliasMove>();
  Result<AliasMove> m = MoveAliasLocked(group, alias, target, actor, reason, rollback, expected);
  if (!m.ok()) return m.status();
  return std::optional<AliasMove>(*m);
}

Result<std::map<std::string, int>> Registry::Aliases(const std::string& group) {
  LATHE_RETURN_IF_ERROR(rows::CheckEntityName("group", group, kMaxGroupNameBytes));
  return rows::AliasesOf(db_, group);
}

Result<int> Registry::AliasAt(const std::string& group, const std::string& alias, int64_t time_ms) {
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  if (time_ms < 0) return 0;
  MetadataStore::ListFilter f = MovesOf(group, alias);
  // The newest move at or before time_ms.
  f.created_before = time_ms == std::numeric_limits<int64_t>::max() ? -1 : time_ms + 1;
  f.descending = true;
  f.limit = 1;
  Result<std::vector<ResourceRow>> found = db_->List(rows::kMoveKind, f);
  if (!found.ok()) return found.status();
  return found->empty() ? 0 : rows::MoveFromRow(found->front()).to_version;
}

Result<std::vector<AliasMove>> Registry::AliasHistory(const std::string& group, const std::string& alias) {
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  Result<std::vector<ResourceRow>> found = db_->List(rows::kMoveKind, MovesOf(group, alias));
  if (!found.ok()) return found.status();
  std::vector<AliasMove> out;
  for (const ResourceRow& r : *found) out.push_back(rows::MoveFromRow(r));
  return out;
}

Result<ModelVersion> Registry::Resolve(const std::string& reference) {
  if (reference.size() > rows::kMaxArnBytes)
    return rows::Invalid("reference", "longer than " + std::to_string(rows::kMaxArnBytes) + " bytes");
  const size_t colon = reference.find(':');
  if (reference.rfind("arn:", 0) == 0 || colon == std::string::npos) return GetVersion(reference);
  const std::string group = reference.substr(0, colon), alias = reference.substr(colon + 1);
  LATHE_RETURN_IF_ERROR(CheckAliasArgs(group, alias));
  Result<ResourceRow> row = db_->Find(rows::kAliasKind, group + "/" + alias);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound) return Status::NotFound("alias " + reference + " does not exist");
    return row.status();
  }
  return GetVersion(group, row->doc.value("version", 0));
}

}  // namespace lathe::registry
