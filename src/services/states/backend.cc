#include "services/states/backend.h"

#include <algorithm>
#include <set>

#include "core/arn.h"
#include "core/json_nesting.h"
#include "core/page_token.h"
#include "core/sha256.h"
#include "services/states/errors.h"
#include "services/states/names.h"

namespace lathe::states {
namespace {

using json = nlohmann::json;

// Execution input may nest deeper than API requests (it is the user's data); still bounded
// before any recursive parse.
constexpr int kMaxInputDepth = 128;
constexpr size_t kMaxParsedCache = 256;

Status MachineNotFound(const std::string& arn) {
  return StateMachineDoesNotExist("State Machine Does Not Exist: '" + Quoted(arn) + "'");
}
Status ExecutionNotFound(const std::string& arn) {
  return ExecutionDoesNotExist("Execution Does Not Exist: '" + Quoted(arn) + "'");
}

Status CheckTags(const std::vector<Tag>& tags, const std::string& arn) {
  if (tags.size() > kMaxTagsPerResource)
    return TooManyTags("Too many tags: a resource may have at most " + std::to_string(kMaxTagsPerResource) +
                       " tags ('" + Quoted(arn) + "').");
  for (const Tag& t : tags) {
    LATHE_RETURN_IF_ERROR(CheckLength(t.key, "tags.member.key", 1, 128));
    LATHE_RETURN_IF_ERROR(CheckLength(t.value, "tags.member.value", 0, 256));
  }
  return Status::Ok();
}

Status CheckRoleArn(const std::string& role) {
  LATHE_RETURN_IF_ERROR(CheckLength(role, "roleArn", 1, 256));
  if (role.compare(0, 4, "arn:") != 0 || role.find(":iam::") == std::string::npos)
    return InvalidArn("Invalid Arn: 'Resource type not valid in this context: " + Quoted(role) + "'");
  return Status::Ok();
}

// Step Functions' input checks: the size as the model bounds it, then JSON (nesting bounded first).
Status CheckJsonText(const std::string& text, const std::string& member, Status (*invalid)(std::string)) {
  if (text.size() > asl::kMaxPayloadBytes)
    return ConstraintViolation("<" + std::to_string(text.size()) + " bytes>", member,
                               "Member must have length less than or equal to " +
                                   std::to_string(asl::kMaxPayloadBytes));
  if (!JsonNestingWithin(text, kMaxInputDepth))
    return invalid("Invalid " + member + ": nested more than " + std::to_string(kMaxInputDepth) + " levels deep");
  if (!json::accept(text)) return invalid("Invalid " + member + ": the value is not valid JSON");
  return Status::Ok();
}

Status BadToken() { return InvalidToken("Invalid Token: the nextToken is not one this list returned"); }

Result<std::string> TokenPosition(const std::string& list, const std::string& token) {
  if (token.empty()) return std::string();
  if (token.size() > 3096) return BadToken();
  std::optional<std::string> pos = DecodePageToken(list, token);
  if (!pos) return BadToken();
  return *pos;
}

json Canonical(const json& maybe_text) {
  if (maybe_text.is_string()) {
    const std::string& s = maybe_text.get_ref<const std::string&>();
    if (JsonNestingWithin(s, kMaxInputDepth)) {
      json parsed = json::parse(s, nullptr, false);
      if (!parsed.is_discarded()) return parsed;
    }
  }
  return maybe_text;
}

std::string NewRevisionId() { return NewResourceId(32); }

}  // namespace

StateMachineInfo MachineFromRow(const store::ResourceRow& row) {
  StateMachineInfo m;
  m.arn = row.arn;
  m.name = row.doc.value("name", "");
  m.definition = row.doc.value("definition", "");
  m.role_arn = row.doc.value("roleArn", "");
  m.type = row.doc.value("type", "STANDARD");
  m.status = row.status;
  m.description = row.doc.value("description", "");
  m.revision_id = row.doc.value("revisionId", "");
  m.created_ms = row.created_ms;
  m.updated_ms = row.doc.value("updatedMs", row.created_ms);
  if (row.doc.contains("logging")) m.logging = row.doc["logging"];
  if (row.doc.contains("tracing")) m.tracing = row.doc["tracing"];
  return m;
}

Status StatesBackend::NeedExecutor() const {
  if (executor_ == nullptr) return Status::Internal("Step Functions' executor is not running");
  return Status::Ok();
}

Result<std::shared_ptr<const asl::StateMachine>> StatesBackend::Parsed(const std::string& definition) {
  const std::string key = Sha256Hex(definition);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = parsed_.find(key);
    if (it != parsed_.end()) return it->second;
  }
  asl::ParsedDefinition parsed = asl::ParseDefinition(definition);
  if (!parsed.machine) return InvalidDefinition(asl::InvalidDefinitionMessage(parsed.diagnostics));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (parsed_.size() >= kMaxParsedCache) parsed_.clear();
  parsed_[key] = parsed.machine;
  return parsed.machine;
}

Result<store::ResourceRow> StatesBackend::ReadMachine(const Scope& scope, const std::string& arn) {
  Result<ParsedArn> parsed = ParseStateMachineArn(arn);
  if (!parsed.ok()) return parsed.status();
  if (parsed->account != scope.account || parsed->region != scope.region) return MachineNotFound(arn);
  Result<store::ResourceRow> row = db_->Find(kMachineKind, arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? MachineNotFound(arn) : row.status();
  if (row->arn != arn) return MachineNotFound(arn);  // Find also matches ids and names
  return row;
}

Result<store::ExecutionRecord> StatesBackend::ReadExecution(const Scope& scope, const std::string& arn) {
  Result<ParsedArn> parsed = ParseExecutionArn(arn);
  if (!parsed.ok()) return parsed.status();
  if (parsed->account != scope.account || parsed->region != scope.region) return ExecutionNotFound(arn);
  Result<store::ExecutionRecord> rec = executions_->Get(arn);
  if (!rec.ok()) return rec.status().code() == Status::Code::kNotFound ? ExecutionNotFound(arn) : rec.status();
  return rec;
}

bool StatesBackend::StateMachineExists(const std::string& arn) {
  Result<ParsedArn> parsed = ParseStateMachineArn(arn);
  if (!parsed.ok()) return false;
  Result<store::ResourceRow> row = db_->Find(kMachineKind, arn);
  return row.ok() && row->arn == arn && row->status == "ACTIVE";
}

// ---- state machines ----

Result<StateMachineInfo> StatesBackend::CreateStateMachine(const Scope& scope, const CreateStateMachineInput& in) {
  LATHE_RETURN_IF_ERROR(CheckName(in.name));
  LATHE_RETURN_IF_ERROR(CheckLength(in.definition, "definition", 1, asl::kMaxDefinitionBytes));
  LATHE_RETURN_IF_ERROR(CheckRoleArn(in.role_arn));
  const std::string type = in.type.empty() ? "STANDARD" : in.type;
  if (type == "EXPRESS")
    return StateMachineTypeNotSupported(
        "lathe runs STANDARD state machines only: EXPRESS state machines are not supported (see "
        "docs/compatibility.md)");
  if (type != "STANDARD")
    return ConstraintViolation(Quoted(type), "type", "Member must satisfy enum value set: [STANDARD, EXPRESS]");
  const std::string arn = StateMachineArn(scope.region, scope.account, in.name);
  LATHE_RETURN_IF_ERROR(CheckTags(in.tags, arn));
  Result<std::shared_ptr<const asl::StateMachine>> machine = Parsed(in.definition);
  if (!machine.ok()) return machine.status();

  std::lock_guard<std::mutex> lock(mu_);
  Result<store::ResourceRow> existing = db_->Find(kMachineKind, arn);
  if (existing.ok()) {
    StateMachineInfo info = MachineFromRow(*existing);
    if (info.status == "DELETING") return StateMachineDeleting("State machine is being deleted: '" + arn + "'");
    // AWS answers a repeat with the same definition and role with the machine as it is.
    if (info.definition == in.definition && info.role_arn == in.role_arn && info.type == type) return info;
    return StateMachineAlreadyExists("State Machine Already Exists: '" + arn + "'");
  }
  if (existing.status().code() != Status::Code::kNotFound) return existing.status();
  store::MetadataStore::ListFilter filter;
  filter.doc_equals = {{"account", scope.account}, {"region", scope.region}};
  Result<std::vector<store::ResourceRow>> all = db_->List(kMachineKind, filter);
  if (!all.ok()) return all.status();
  if (all->size() >= kMaxStateMachinesPerAccount)
    return StateMachineLimitExceeded("State machine limit exceeded: at most " +
                                     std::to_string(kMaxStateMachinesPerAccount) + " per account and region");
  store::ResourceRow row;
  row.kind = kMachineKind;
  row.id = row.name = row.arn = arn;
  row.status = "ACTIVE";
  row.created_ms = clock_->NowMs();
  row.doc = {{"account", scope.account},  {"region", scope.region},   {"name", in.name},
             {"definition", in.definition}, {"roleArn", in.role_arn}, {"type", type},
             {"revisionId", NewRevisionId()}, {"updatedMs", row.created_ms}, {"logging", in.logging},
             {"tracing", in.tracing}};
  Status s = db_->Insert(row);
  if (s.code() == Status::Code::kAlreadyExists) return StateMachineAlreadyExists("State Machine Already Exists: '" + arn + "'");
  LATHE_RETURN_IF_ERROR(s);
  std::map<std::string, std::string> tags;
  for (const Tag& t : in.tags) tags[t.key] = t.value;
  if (!tags.empty()) LATHE_RETURN_IF_ERROR(db_->SetTags(arn, tags));
  return MachineFromRow(row);
}

Result<ValidateResult> StatesBackend::ValidateStateMachineDefinition(const std::string& definition,
                                                                     const std::string& type,
                                                                     const std::string& severity,
                                                                     size_t max_results) {
  LATHE_RETURN_IF_ERROR(CheckLength(definition, "definition", 1, asl::kMaxDefinitionBytes));
  if (!type.empty() && type != "STANDARD" && type != "EXPRESS")
    return ConstraintViolation(Quoted(type), "type", "Member must satisfy enum value set: [STANDARD, EXPRESS]");
  if (!severity.empty() && severity != "ERROR" && severity != "WARNING")
    return ConstraintViolation(Quoted(severity), "severity", "Member must satisfy enum value set: [ERROR, WARNING]");
  if (max_results > 100)
    return ConstraintViolation(std::to_string(max_results), "maxResults",
                               "Member must have value less than or equal to 100");
  const size_t limit = max_results == 0 ? 100 : max_results;
  const bool warnings = severity == "WARNING";
  asl::ParsedDefinition parsed = asl::ParseDefinition(definition);
  ValidateResult out;
  out.result = "OK";
  for (const asl::Diagnostic& d : parsed.diagnostics) {
    if (d.severity == "ERROR") out.result = "FAIL";
    if (d.severity != "ERROR" && !warnings) continue;
    if (out.diagnostics.size() == limit) {
      out.truncated = true;
      continue;
    }
    out.diagnostics.push_back(d);
  }
  if (!parsed.machine) out.result = "FAIL";
  return out;
}

Result<StateMachineInfo> StatesBackend::DescribeStateMachine(const Scope& scope, const std::string& arn) {
  Result<store::ResourceRow> row = ReadMachine(scope, arn);
  if (!row.ok()) return row.status();
  return MachineFromRow(*row);
}

Result<Page<StateMachineInfo>> StatesBackend::ListStateMachines(const Scope& scope, const PageRequest& page) {
  const std::string list = "states:machines:" + scope.account + ":" + scope.region;
  Result<std::string> after = TokenPosition(list, page.next_token);
  if (!after.ok()) return after.status();
  store::MetadataStore::ListFilter filter;
  filter.doc_equals = {{"account", scope.account}, {"region", scope.region}};
  Result<std::vector<store::ResourceRow>> rows = db_->List(kMachineKind, filter);
  if (!rows.ok()) return rows.status();
  std::vector<StateMachineInfo> machines;
  for (const store::ResourceRow& r : *rows) machines.push_back(MachineFromRow(r));
  std::sort(machines.begin(), machines.end(),
            [](const StateMachineInfo& a, const StateMachineInfo& b) { return a.name < b.name; });
  Page<StateMachineInfo> out;
  for (StateMachineInfo& m : machines) {
    if (!after->empty() && m.name <= *after) continue;
    if (out.items.size() == page.limit) {
      out.next_token = EncodePageToken(list, out.items.back().name);
      break;
    }
    out.items.push_back(std::move(m));
  }
  return out;
}

Result<StateMachineInfo> StatesBackend::UpdateStateMachine(const Scope& scope, const UpdateStateMachineInput& in) {
  if (!in.definition && !in.role_arn && !in.logging && !in.tracing)
    return ApiError("MissingRequiredParameter",
                    "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration "
                    "must be specified");
  if (in.definition) {
    LATHE_RETURN_IF_ERROR(CheckLength(*in.definition, "definition", 1, asl::kMaxDefinitionBytes));
    Result<std::shared_ptr<const asl::StateMachine>> machine = Parsed(*in.definition);
    if (!machine.ok()) return machine.status();
  }
  if (in.role_arn) LATHE_RETURN_IF_ERROR(CheckRoleArn(*in.role_arn));
  std::lock_guard<std::mutex> lock(mu_);
  Result<store::ResourceRow> row = ReadMachine(scope, in.arn);
  if (!row.ok()) return row.status();
  if (row->status == "DELETING") return StateMachineDeleting("State machine is being deleted: '" + in.arn + "'");
  if (in.definition) row->doc["definition"] = *in.definition;
  if (in.role_arn) row->doc["roleArn"] = *in.role_arn;
  if (in.logging) row->doc["logging"] = *in.logging;
  if (in.tracing) row->doc["tracing"] = *in.tracing;
  row->doc["revisionId"] = NewRevisionId();
  row->doc["updatedMs"] = clock_->NowMs();
  Status s = db_->UpdateIf(*row, "ACTIVE");
  if (s.code() == Status::Code::kConflict) return StateMachineDeleting("State machine is being deleted: '" + in.arn + "'");
  if (s.code() == Status::Code::kNotFound) return MachineNotFound(in.arn);
  LATHE_RETURN_IF_ERROR(s);
  return MachineFromRow(*row);
}

Status StatesBackend::DeleteStateMachine(const Scope& scope, const std::string& arn) {
  Result<ParsedArn> parsed = ParseStateMachineArn(arn);
  if (!parsed.ok()) return parsed.status();
  std::unique_lock<std::mutex> lock(mu_);
  Result<store::ResourceRow> row = ReadMachine(scope, arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? Status::Ok() : row.status();
  if (row->status != "DELETING") {
    row->status = "DELETING";
    Status s = db_->Update(*row);
    if (s.code() == Status::Code::kNotFound) return Status::Ok();
    LATHE_RETURN_IF_ERROR(s);
  }
  lock.unlock();
  // Its running executions end now, as AWS ends them at their next transition; a restart in the
  // middle leaves the machine DELETING, and a second DeleteStateMachine finishes the work.
  if (executor_ != nullptr) {
    for (;;) {
      store::ExecutionFilter filter;
      filter.state_machine_arn = arn;
      filter.status = "RUNNING";
      filter.limit = 100;
      Result<std::vector<store::ExecutionRecord>> running = executions_->List(filter);
      if (!running.ok()) return running.status();
      if (running->empty()) break;
      for (const store::ExecutionRecord& e : *running) {
        Status s = executor_->StopExecution(e.arn, "States.Aborted", "The state machine was deleted.");
        if (!s.ok() && s.code() != Status::Code::kConflict && s.code() != Status::Code::kNotFound) return s;
      }
    }
  }
  lock.lock();
  Status s = db_->Delete(kMachineKind, arn);
  if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
  Result<std::map<std::string, std::string>> tags = db_->Tags(arn);
  if (tags.ok() && !tags->empty()) {
    std::vector<std::string> keys;
    for (const auto& kv : *tags) keys.push_back(kv.first);
    (void)db_->RemoveTags(arn, keys);
  }
  {
    std::lock_guard<std::mutex> cache(cache_mu_);
    parsed_.erase(Sha256Hex(row->doc.value("definition", "")));
  }
  return Status::Ok();
}

// ---- executions ----

Result<StartExecutionResult> StatesBackend::StartExecution(const Scope& scope, const StartExecutionInput& in) {
  LATHE_RETURN_IF_ERROR(NeedExecutor());
  Result<store::ResourceRow> row = ReadMachine(scope, in.state_machine_arn);
  if (!row.ok()) return row.status();
  if (row->status == "DELETING")
    return StateMachineDeleting("State machine is being deleted: '" + in.state_machine_arn + "'");
  const std::string name = in.name.empty() ? NewExecutionName() : in.name;
  LATHE_RETURN_IF_ERROR(CheckName(name));
  const std::string input = in.input.value_or("{}");
  LATHE_RETURN_IF_ERROR(CheckJsonText(input, "input", &InvalidExecutionInput));
  LATHE_RETURN_IF_ERROR(CheckLength(in.trace_header, "traceHeader", 0, kMaxTraceHeaderBytes));
  for (char c : in.trace_header)
    if (static_cast<unsigned char>(c) > 0x7f)
      return ConstraintViolation(Quoted(in.trace_header), "traceHeader",
                                 "Member must satisfy regular expression pattern: \\p{ASCII}*");
  const StateMachineInfo info = MachineFromRow(*row);
  Result<std::shared_ptr<const asl::StateMachine>> machine = Parsed(info.definition);
  if (!machine.ok()) return machine.status();

  ExecutionStart start;
  start.state_machine_arn = info.arn;
  start.execution_arn = ExecutionArn(scope.region, scope.account, info.name, name);
  start.name = name;
  start.definition = info.definition;
  start.machine = *machine;
  start.input = input;
  start.role_arn = info.role_arn;
  start.trace_header = in.trace_header;
  start.parent_arn = in.parent_arn;
  start.account = scope.account;
  start.region = scope.region;
  Result<store::ExecutionRecord> rec = executor_->StartExecution(start);
  if (rec.ok()) return StartExecutionResult{rec->arn, rec->start_ms};
  if (rec.status().code() != Status::Code::kAlreadyExists) return rec.status();
  // AWS: the same name and input as a RUNNING execution answer that execution again; a closed
  // one or another input is ExecutionAlreadyExists.
  Result<store::ExecutionRecord> existing = executions_->FindByName(info.arn, name);
  if (!existing.ok()) return rec.status();
  const json given = json::parse(input, nullptr, false);
  if (existing->status == "RUNNING" && existing->doc.contains("input") && Canonical(existing->doc["input"]) == given)
    return StartExecutionResult{existing->arn, existing->start_ms};
  return ExecutionAlreadyExists("Execution Already Exists: '" + existing->arn + "'");
}

Result<store::ExecutionRecord> StatesBackend::DescribeExecution(const Scope& scope, const std::string& arn) {
  return ReadExecution(scope, arn);
}

Result<Page<store::ExecutionRecord>> StatesBackend::ListExecutions(const Scope& scope, const std::string& machine_arn,
                                                                   const std::string& status_filter,
                                                                   const PageRequest& page) {
  if (machine_arn.empty()) return ValidationError("Must provide a StateMachine ARN or MapRun ARN");
  static const std::set<std::string> kStatuses = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED",
                                                  "PENDING_REDRIVE"};
  if (!status_filter.empty() && !kStatuses.count(status_filter))
    return ConstraintViolation(Quoted(status_filter), "statusFilter",
                               "Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, "
                               "ABORTED, PENDING_REDRIVE]");
  Result<store::ResourceRow> row = ReadMachine(scope, machine_arn);
  if (!row.ok()) return row.status();
  const std::string list = "states:executions:" + machine_arn + ":" + status_filter;
  Result<std::string> after = TokenPosition(list, page.next_token);
  if (!after.ok()) return after.status();
  store::ExecutionFilter filter;
  filter.state_machine_arn = machine_arn;
  filter.status = status_filter;
  filter.after = *after;
  filter.limit = page.limit + 1;
  Result<std::vector<store::ExecutionRecord>> recs = executions_->List(filter);
  if (!recs.ok()) return recs.status();
  Page<store::ExecutionRecord> out;
  out.items = std::move(*recs);
  if (out.items.size() > page.limit) {
    out.items.resize(page.limit);
    out.next_token = EncodePageToken(list, out.items.back().arn);
  }
  return out;
}

Result<int64_t> StatesBackend::StopExecution(const Scope& scope, const std::string& arn, const std::string& error,
                                             const std::string& cause) {
  LATHE_RETURN_IF_ERROR(CheckLength(error, "error", 0, kMaxErrorBytes));
  LATHE_RETURN_IF_ERROR(CheckLength(cause, "cause", 0, kMaxCauseBytes));
  Result<store::ExecutionRecord> rec = ReadExecution(scope, arn);
  if (!rec.ok()) return rec.status();
  LATHE_RETURN_IF_ERROR(NeedExecutor());
  if (rec->status == "RUNNING") {
    Status s = executor_->StopExecution(arn, error, cause);
    if (!s.ok() && s.code() != Status::Code::kConflict) return s;
    rec = executions_->Get(arn);
    if (!rec.ok()) return rec.status();
    // A Conflict means it ended meanwhile; one still RUNNING was not stopped, and no stopDate
    // may say otherwise.
    if (rec->status == "RUNNING") return s.ok() ? Status::Internal("execution " + arn + " is still running") : s;
  }
  // An execution that had already ended: its end is the answer (the call is idempotent).
  return rec->stop_ms != 0 ? rec->stop_ms : clock_->NowMs();
}

Result<Page<store::HistoryRecord>> StatesBackend::GetExecutionHistory(const Scope& scope, const std::string& arn,
                                                                      const HistoryRequest& request) {
  Result<store::ExecutionRecord> rec = ReadExecution(scope, arn);
  if (!rec.ok()) return rec.status();
  const std::string list = "states:history:" + arn + (request.reverse ? ":reverse" : ":forward");
  Result<std::string> pos = TokenPosition(list, request.page.next_token);
  if (!pos.ok()) return pos.status();
  int64_t from = 0;
  if (!pos->empty()) {
    char* end = nullptr;
    const long long v = std::strtoll(pos->c_str(), &end, 10);
    if (end == pos->c_str() || *end != '\0' || v < 0) return BadToken();
    from = v;
  }
  const size_t limit = request.page.limit;
  Result<std::vector<store::HistoryRecord>> events =
      request.reverse ? executions_->HistoryReverse(arn, from, limit + 1) : executions_->History(arn, from, limit + 1);
  if (!events.ok()) return events.status();
  Page<store::HistoryRecord> out;
  out.items = std::move(*events);
  if (out.items.size() > limit) {
    out.items.resize(limit);
    out.next_token = EncodePageToken(list, std::to_string(out.items.back().id));
  }
  return out;
}

Result<StateMachineInfo> StatesBackend::DescribeStateMachineForExecution(const Scope& scope, const std::string& arn) {
  Result<store::ExecutionRecord> rec = ReadExecution(scope, arn);
  if (!rec.ok()) return rec.status();
  StateMachineInfo info;
  Result<store::ResourceRow> row = db_->Find(kMachineKind, rec->state_machine_arn);
  if (row.ok() && row->arn == rec->state_machine_arn) info = MachineFromRow(*row);
  info.arn = rec->state_machine_arn;
  Result<ParsedArn> parsed = ParseExecutionArn(arn);
  if (parsed.ok()) info.name = parsed->machine;
  // The definition the execution runs: an UpdateStateMachine since does not change it.
  if (rec->doc.contains("definition") && rec->doc["definition"].is_string())
    info.definition = rec->doc["definition"].get<std::string>();
  if (rec->doc.contains("roleArn") && rec->doc["roleArn"].is_string())
    info.role_arn = rec->doc["roleArn"].get<std::string>();
  if (info.updated_ms == 0 || info.updated_ms > rec->start_ms) info.updated_ms = rec->start_ms;
  return info;
}

// ---- TestState ----

namespace {

// The names a lone state moves to: Next, Default, each Choice's and Catcher's Next.
void Targets(const json& state, std::set<std::string>* out) {
  auto add = [out](const json& j, const char* key) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) out->insert(it->get<std::string>());
  };
  add(state, "Next");
  add(state, "Default");
  for (const char* list : {"Choices", "Catch"}) {
    auto it = state.find(list);
    if (it == state.end() || !it->is_array()) continue;
    for (const json& item : *it)
      if (item.is_object()) add(item, "Next");
  }
}

}  // namespace

Result<Executor::TestResult> StatesBackend::TestState(const Scope& scope, const std::string& definition,
                                                      const std::string& input, const std::string& state_name) {
  LATHE_RETURN_IF_ERROR(CheckLength(definition, "definition", 1, asl::kMaxDefinitionBytes));
  if (!state_name.empty()) LATHE_RETURN_IF_ERROR(CheckLength(state_name, "stateName", 1, 80));
  const std::string effective_input = input.empty() ? "{}" : input;
  LATHE_RETURN_IF_ERROR(CheckJsonText(effective_input, "input", &InvalidExecutionInput));
  if (!JsonNestingWithin(definition, kMaxRequestJsonDepth))
    return InvalidDefinition("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: nested too deeply'");
  json doc = json::parse(definition, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return InvalidDefinition("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the definition is not a "
                             "JSON object'");
  std::string name = state_name;
  std::string machine_text;
  if (doc.contains("States")) {
    // A whole machine: the state named by stateName (its StartAt when none).
    if (name.empty()) name = doc.value("StartAt", "");
    machine_text = definition;
  } else {
    // One state: wrapped in a machine whose other states are the ones it may move to.
    if (name.empty()) name = "TestState";
    std::set<std::string> targets;
    Targets(doc, &targets);
    json machine = {{"StartAt", name}, {"States", {{name, doc}}}};
    for (const std::string& t : targets)
      if (t != name) machine["States"][t] = {{"Type", "Succeed"}};
    machine_text = machine.dump();
  }
  Result<std::shared_ptr<const asl::StateMachine>> machine = Parsed(machine_text);
  if (!machine.ok()) return machine.status();
  const asl::State* state = (*machine)->Find(name);
  if (state == nullptr) return ValidationError("State '" + Quoted(name) + "' is not in the definition");
  LATHE_RETURN_IF_ERROR(NeedExecutor());
  return executor_->TestState(*state, effective_input, scope.account, scope.region);
}

// ---- task callbacks ----

namespace {

Status CheckTaskToken(const std::string& token) {
  if (token.empty() || token.size() > kMaxTaskTokenBytes)
    return CheckLength(token, "taskToken", 1, kMaxTaskTokenBytes);
  return Status::Ok();
}

// The executor's answers in the API's words.
Status TaskStatus(const Status& s) {
  if (s.ok() || !s.aws_code().empty()) return s;
  if (s.code() == Status::Code::kNotFound) return TaskDoesNotExist("Task Does Not Exist: " + s.message());
  if (s.code() == Status::Code::kConflict) return TaskTimedOut("Task Timed Out: " + s.message());
  if (s.code() == Status::Code::kInvalidArgument) return InvalidToken("Invalid Token: " + s.message());
  return s;
}

}  // namespace

Status StatesBackend::SendTaskSuccess(const std::string& token, const std::string& output) {
  LATHE_RETURN_IF_ERROR(CheckTaskToken(token));
  LATHE_RETURN_IF_ERROR(CheckJsonText(output, "output", &InvalidOutput));
  LATHE_RETURN_IF_ERROR(NeedExecutor());
  return TaskStatus(executor_->SendTaskSuccess(token, output));
}

Status StatesBackend::SendTaskFailure(const std::string& token, const std::string& error, const std::string& cause) {
  LATHE_RETURN_IF_ERROR(CheckTaskToken(token));
  LATHE_RETURN_IF_ERROR(CheckLength(error, "error", 0, kMaxErrorBytes));
  LATHE_RETURN_IF_ERROR(CheckLength(cause, "cause", 0, kMaxCauseBytes));
  LATHE_RETURN_IF_ERROR(NeedExecutor());
  return TaskStatus(executor_->SendTaskFailure(token, error, cause));
}

Status StatesBackend::SendTaskHeartbeat(const std::string& token) {
  LATHE_RETURN_IF_ERROR(CheckTaskToken(token));
  LATHE_RETURN_IF_ERROR(NeedExecutor());
  return TaskStatus(executor_->SendTaskHeartbeat(token));
}

// ---- tags ----

namespace {
Status TagTargetNotFound(const std::string& arn) { return ResourceNotFound("Resource not found: '" + Quoted(arn) + "'"); }
}  // namespace

Status StatesBackend::TagResource(const Scope& scope, const std::string& arn, const std::vector<Tag>& tags) {
  Result<store::ResourceRow> row = ReadMachine(scope, arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? TagTargetNotFound(arn) : row.status();
  LATHE_RETURN_IF_ERROR(CheckTags(tags, arn));
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::map<std::string, std::string>> existing = db_->Tags(arn);
  if (!existing.ok()) return existing.status();
  std::map<std::string, std::string> merged = *existing;
  for (const Tag& t : tags) merged[t.key] = t.value;
  if (merged.size() > kMaxTagsPerResource)
    return TooManyTags("Too many tags: a resource may have at most " + std::to_string(kMaxTagsPerResource) +
                       " tags ('" + Quoted(arn) + "').");
  return db_->SetTags(arn, merged);
}

Status StatesBackend::UntagResource(const Scope& scope, const std::string& arn, const std::vector<std::string>& keys) {
  Result<store::ResourceRow> row = ReadMachine(scope, arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? TagTargetNotFound(arn) : row.status();
  if (keys.size() > kMaxTagsPerResource)
    return ConstraintViolation("[...]", "tagKeys", "Member must have length less than or equal to 50");
  for (const std::string& k : keys) LATHE_RETURN_IF_ERROR(CheckLength(k, "tagKeys.member", 1, 128));
  std::lock_guard<std::mutex> lock(mu_);
  return db_->RemoveTags(arn, keys);
}

Result<std::vector<Tag>> StatesBackend::ListTagsForResource(const Scope& scope, const std::string& arn) {
  Result<store::ResourceRow> row = ReadMachine(scope, arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? TagTargetNotFound(arn) : row.status();
  Result<std::map<std::string, std::string>> tags = db_->Tags(arn);
  if (!tags.ok()) return tags.status();
  std::vector<Tag> out;
  for (const auto& kv : *tags) out.push_back({kv.first, kv.second});
  return out;
}

}  // namespace lathe::states
