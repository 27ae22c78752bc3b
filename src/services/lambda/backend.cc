#include "services/lambda/backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/arn.h"
#include "core/checksum.h"
#include "aws/json_members.h"
#include "core/json_nesting.h"
#include "service/request_fields.h"
#include "services/lambda/config.h"
#include "services/lambda/errors.h"
#include "services/lambda/names.h"
#include "services/sns/names.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

// Lambda writes LastModified as 2019-08-14T22:26:11.234+0000.
std::string LambdaTime(int64_t ms) {
  std::string t = Iso8601(ms);
  if (!t.empty() && t.back() == 'Z') t = t.substr(0, t.size() - 1) + "+0000";
  return t;
}

std::string TailBase64(const std::string& tail) { return Base64Encode(tail); }

}  // namespace

LambdaBackend::LambdaBackend(store::MetadataStore* store, BuiltinFunctions* builtins, LambdaOptions options)
    : store_(store),
      builtins_(builtins),
      started_ms_(NowMillis()),
      options_(std::move(options)),
      code_(options_.root + "/code", options_.zip),
      runtime_([&] {
        RuntimeOptions r = options_.runtime;
        if (r.root.empty()) r.root = options_.root;
        return r;
      }()) {}

LambdaBackend::~LambdaBackend() { Stop(); }

Status LambdaBackend::Start() {
  LATHE_RETURN_IF_ERROR(MakePrivateDir(options_.root));
  LATHE_RETURN_IF_ERROR(MakePrivateDir(options_.root + "/code"));
  LATHE_RETURN_IF_ERROR(runtime_.Prepare());
  // Code folders a crash left without a function (or a function left without).
  auto rows = store_->List(kFunctionKind);
  if (rows.ok()) {
    std::set<std::string> used;
    for (const auto& r : *rows) used.insert(r.doc.value("code_id", ""));
    code_.Sweep([&](const std::string& id) { return used.count(id) > 0; });
  }
  runtime_.Resume();
  if (options_.placement) options_.placement->Resume();
  if (options_.run_event_worker) StartEventWorker();
  return Status::Ok();
}

void LambdaBackend::Stop() {
  if (builtins_) builtins_->Stop();  // a built-in waiting on a job returns now
  {
    std::lock_guard<std::mutex> lock(worker_mu_);
    worker_stop_ = true;
  }
  runtime_.KillAll();
  if (options_.placement) options_.placement->Stop();
  worker_wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

json LambdaBackend::BuiltinDoc(const Scope& scope, const BuiltinInfo& info) const {
  json env = json::object();
  for (const auto& [k, v] : info.environment) env[k] = v;
  return json{{"name", info.name},
              {"arn", FunctionArn(scope.region, scope.account, info.name)},
              {"account", scope.account},
              {"region", scope.region},
              {"uid", "builtin-" + info.name},
              {"runtime", "provided.al2023"},
              {"handler", "lathe.builtin"},
              {"role", "arn:aws:iam::" + scope.account + ":role/lathe-builtin"},
              {"description", info.description},
              {"timeout", info.timeout_s},
              {"memory", 128},
              {"environment", env},
              {"code_id", ""},
              {"code_size", 0},
              {"code_sha256", ""},
              {"last_modified_ms", started_ms_},
              {"revision_id", "00000000-0000-4000-8000-000000000000"},
              {"builtin", true}};
}

json LambdaBackend::Configuration(const Scope& scope, const json& d) const {
  (void)scope;
  json c = {{"FunctionName", d.value("name", "")},
            {"FunctionArn", d.value("arn", "")},
            {"Runtime", d.value("runtime", "")},
            {"Role", d.value("role", "")},
            {"Handler", d.value("handler", "")},
            {"CodeSize", d.value("code_size", 0)},
            {"Description", d.value("description", "")},
            {"Timeout", d.value("timeout", 3)},
            {"MemorySize", d.value("memory", 128)},
            {"LastModified", LambdaTime(d.value("last_modified_ms", int64_t{0}))},
            {"CodeSha256", d.value("code_sha256", "")},
            {"Version", "$LATEST"},
            {"TracingConfig", {{"Mode", "PassThrough"}}},
            {"RevisionId", d.value("revision_id", "")},
            {"State", "Active"},
            {"LastUpdateStatus", "Successful"},
            {"PackageType", "Zip"},
            {"Architectures", json::array({"x86_64"})},
            {"EphemeralStorage", {{"Size", 512}}},
            {"SnapStart", {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
            {"LoggingConfig", {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + d.value("name", "")}}}};
  if (d.contains("environment") && !d["environment"].empty()) c["Environment"] = {{"Variables", d["environment"]}};
  return c;
}

Result<LambdaBackend::Resolved> LambdaBackend::Resolve(const Scope& scope, const std::string& function_name,
                                                       const std::string& qualifier) {
  LATHE_ASSIGN_OR_RETURN(FunctionRef ref, ParseFunctionRef(function_name));
  if (!qualifier.empty() && !ref.qualifier.empty() && qualifier != ref.qualifier)
    return InvalidParameterValue("The derived qualifier from the function name does not match the specified qualifier.");
  const std::string q = qualifier.empty() ? ref.qualifier : qualifier;
  const std::string account = ref.account.empty() ? scope.account : ref.account;
  const std::string region = ref.region.empty() ? scope.region : ref.region;
  const std::string arn = FunctionArn(region, account, ref.name);
  if (account != scope.account) return ResourceNotFound("Function not found: " + arn);
  if (!q.empty() && q != "$LATEST")
    return ResourceNotFound("Function not found: " + arn + ":" + q + " (lathe keeps $LATEST only: no versions or aliases)");
  Resolved r;
  Result<store::ResourceRow> row = store_->Find(kFunctionKind, arn);
  if (row.ok()) {
    r.has_row = true;
    r.row = std::move(*row);
    r.doc = r.row.doc;
    r.builtin = r.doc.value("builtin", false);
    return r;
  }
  if (row.status().code() != Status::Code::kNotFound) return row.status();
  if (builtins_) {
    if (const BuiltinInfo* info = BuiltinFunctions::Find(ref.name)) {
      r.builtin = true;
      r.doc = BuiltinDoc(Scope{account, region}, *info);
      return r;
    }
    std::string why = BuiltinFunctions::Unavailable(ref.name);
    if (!why.empty()) return ResourceNotFound("Function not found: " + arn + ". " + why);
  }
  return ResourceNotFound("Function not found: " + arn);
}

Status LambdaBackend::CheckRevision(const std::optional<std::string>& revision, const json& current) {
  // Against the row read under mu_: a check on an earlier read would let two updates that both
  // name the same revision succeed.
  if (revision && *revision != current.value("revision_id", ""))
    return Status::Aws("PreconditionFailedException", 412,
                       "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
  return Status::Ok();
}

Status LambdaBackend::CheckFunctionCount(const Scope& scope) {
  // mu_ held by the caller, so that the count and the insert after it are one step.
  store::MetadataStore::ListFilter f;
  f.doc_equals = {{"account", scope.account}, {"region", scope.region}};
  LATHE_ASSIGN_OR_RETURN(size_t functions, store_->Count(kFunctionKind, f));
  if (functions >= kMaxFunctionsPerRegion)
    return CodeStorageExceeded("lathe keeps at most " + std::to_string(kMaxFunctionsPerRegion) +
                               " functions per account and region");
  return Status::Ok();
}

Result<json> LambdaBackend::CreateFunction(const Scope& scope, const json& req) {
  LATHE_ASSIGN_OR_RETURN(std::string name_in, OptionalString(req, "FunctionName", 140, "functionName"));
  LATHE_ASSIGN_OR_RETURN(FunctionRef ref, ParseFunctionRef(name_in));
  if (!ref.qualifier.empty()) return InvalidParameterValue("A qualifier is not allowed in FunctionName for CreateFunction");
  if ((!ref.account.empty() && ref.account != scope.account) || (!ref.region.empty() && ref.region != scope.region))
    return InvalidParameterValue("FunctionName names another account or region: " + name_in);
  if (req.contains("PackageType") && req["PackageType"] != "Zip")
    return InvalidParameterValue("lathe runs Zip packages only (PackageType Image is not supported)");
  if (!req.contains("Code") || !req["Code"].is_object()) return InvalidParameterValue("Please provide a source for function code.");
  json doc = {{"name", ref.name},
              {"arn", FunctionArn(scope.region, scope.account, ref.name)},
              {"account", scope.account},
              {"region", scope.region},
              {"uid", NewResourceId(20)},
              {"description", ""},
              {"timeout", 3},
              {"memory", 128},
              {"environment", json::object()},
              {"builtin", false}};
  LATHE_ASSIGN_OR_RETURN(doc, ApplyConfiguration(req, std::move(doc), true));
  json tags = json::object();
  if (req.contains("Tags") && !req["Tags"].is_null()) {
    if (!req["Tags"].is_object() || req["Tags"].size() > 50) return InvalidParameterValue("Tags must be a map of at most 50 strings");
    for (const auto& [k, v] : req["Tags"].items())
      if (!v.is_string() || k.size() > 128 || v.get_ref<const std::string&>().size() > 256)
        return InvalidParameterValue("Tags must map keys of at most 128 characters to strings of at most 256");
    tags = req["Tags"];
  }
  {
    // Cheap checks before unpacking anything.
    std::lock_guard<std::mutex> lock(mu_);
    Result<store::ResourceRow> existing = store_->Find(kFunctionKind, doc["arn"].get<std::string>());
    if (existing.ok() && !existing->doc.value("builtin", false))
      return ResourceConflict("Function already exist: " + ref.name);
    LATHE_RETURN_IF_ERROR(CheckFunctionCount(scope));
  }
  LATHE_ASSIGN_OR_RETURN(std::string zip, DecodeZip(req["Code"], options_.zip));
  LATHE_ASSIGN_OR_RETURN(CodeStore::Stored code, code_.Add(zip));
  ShareCode(code);
  doc["code_id"] = code.id;
  doc["code_size"] = code.zip_bytes;
  doc["code_sha256"] = code.sha256_b64;
  store::ResourceRow row;
  row.kind = kFunctionKind;
  row.id = row.name = row.arn = doc["arn"].get<std::string>();
  row.status = "Active";
  row.created_ms = NowMillis();
  row.doc = doc;
  std::lock_guard<std::mutex> lock(mu_);
  // A built-in's configuration row gives way to the user's function of the same name.
  Result<store::ResourceRow> existing = store_->Find(kFunctionKind, row.id);
  Status st;
  if (existing.ok()) {
    if (!existing->doc.value("builtin", false)) st = ResourceConflict("Function already exist: " + ref.name);
    else if (st = store_->Delete(kFunctionKind, row.id); st.ok()) st = store_->Insert(row);
  } else if (st = CheckFunctionCount(scope); st.ok()) {  // again: others may have created since
    st = store_->Insert(row);
    if (st.code() == Status::Code::kAlreadyExists) st = ResourceConflict("Function already exist: " + ref.name);
  }
  if (!st.ok()) {
    DropCode(code.id);
    return st;
  }
  if (!tags.empty()) {
    std::map<std::string, std::string> t;
    for (const auto& [k, v] : tags.items()) t[k] = v.get<std::string>();
    (void)store_->SetTags(row.arn, t);
  }
  return Configuration(scope, doc);
}

Result<json> LambdaBackend::GetFunctionConfiguration(const Scope& scope, const std::string& function_name,
                                                     const std::string& qualifier) {
  LATHE_ASSIGN_OR_RETURN(Resolved r, Resolve(scope, function_name, qualifier));
  return Configuration(scope, r.doc);
}

Result<json> LambdaBackend::GetFunction(const Scope& scope, const std::string& function_name,
                                        const std::string& qualifier) {
  LATHE_ASSIGN_OR_RETURN(Resolved r, Resolve(scope, function_name, qualifier));
  json out = {{"Configuration", Configuration(scope, r.doc)}};
  if (!r.builtin)
    out["Code"] = {{"RepositoryType", "S3"}, {"Location", "file://" + code_.ZipPath(r.doc.value("code_id", ""))}};
  auto tags = store_->Tags(r.doc.value("arn", ""));
  if (tags.ok() && !tags->empty()) out["Tags"] = *tags;
  return out;
}

Result<json> LambdaBackend::ListFunctions(const Scope& scope, const std::string& marker, const std::string& max_items) {
  size_t max = 50;
  if (!max_items.empty()) {
    if (max_items.size() > 5 || max_items.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(max_items) < 1 || std::stoul(max_items) > 10000)
      return ValidationError("1 validation error detected: Value '" + max_items.substr(0, 32) +
                             "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000");
    max = std::stoul(max_items);
  }
  if (!marker.empty() && !ValidFunctionName(marker)) return InvalidParameterValue("Invalid Marker: " + marker.substr(0, 128));
  store::MetadataStore::ListFilter f;
  f.doc_equals = {{"account", scope.account}, {"region", scope.region}};
  LATHE_ASSIGN_OR_RETURN(std::vector<store::ResourceRow> rows, store_->List(kFunctionKind, f));
  std::map<std::string, json> by_name;
  if (builtins_)
    for (const BuiltinInfo& b : BuiltinFunctions::All()) by_name[b.name] = BuiltinDoc(scope, b);
  for (auto& r : rows) by_name[r.doc.value("name", "")] = r.doc;
  json out = {{"Functions", json::array()}};
  for (auto it = by_name.lower_bound(marker); it != by_name.end(); ++it) {
    if (out["Functions"].size() == max) {
      out["NextMarker"] = it->first;
      break;
    }
    out["Functions"].push_back(Configuration(scope, it->second));
  }
  return out;
}

Result<json> LambdaBackend::UpdateFunctionCode(const Scope& scope, const std::string& function_name, const json& req) {
  LATHE_ASSIGN_OR_RETURN(Resolved r, Resolve(scope, function_name, ""));
  if (r.builtin)
    return InvalidParameterValue("Function " + r.doc.value("name", "") +
                                 " is built into lathe: its code cannot be replaced (CreateFunction of the same name takes its place)");
  const aws::JsonMembers members(req);
  LATHE_ASSIGN_OR_RETURN(std::optional<std::string> revision, members.OptString("RevisionId"));
  LATHE_ASSIGN_OR_RETURN(const bool dry_run, members.Bool("DryRun", false));
  LATHE_ASSIGN_OR_RETURN(std::string zip, DecodeZip(req, options_.zip));
  LATHE_ASSIGN_OR_RETURN(CodeStore::Stored code, code_.Add(zip));
  if (!dry_run) ShareCode(code);
  std::lock_guard<std::mutex> lock(mu_);
  // The row as it is now: the RevisionId compared, and the code replaced, in one step.
  Result<store::ResourceRow> row = store_->Find(kFunctionKind, r.row.id);
  Status current = row.ok() ? CheckRevision(revision, row->doc) : ResourceNotFound("Function not found: " + r.row.id);
  if (!current.ok() || dry_run) {
    DropCode(code.id);
    if (!current.ok()) return current;
    json d = row->doc;
    d["code_size"] = code.zip_bytes;
    d["code_sha256"] = code.sha256_b64;
    return Configuration(scope, d);
  }
  const std::string old_code = row->doc.value("code_id", "");
  row->doc["code_id"] = code.id;
  row->doc["code_size"] = code.zip_bytes;
  row->doc["code_sha256"] = code.sha256_b64;
  row->doc["revision_id"] = sns::NewUuid();
  row->doc["last_modified_ms"] = NowMillis();
  if (Status st = store_->Update(*row); !st.ok()) {
    DropCode(code.id);
    return st;
  }
  code_retired_.insert(old_code);
  if (code_in_use_[old_code] == 0) {
    code_in_use_.erase(old_code);
    code_retired_.erase(old_code);
    DropCode(old_code);
  }
  return Configuration(scope, row->doc);
}

Result<json> LambdaBackend::UpdateFunctionConfiguration(const Scope& scope, const std::string& function_name,
                                                        const json& req) {
  LATHE_ASSIGN_OR_RETURN(Resolved r, Resolve(scope, function_name, ""));
  LATHE_ASSIGN_OR_RETURN(std::optional<std::string> revision, aws::JsonMembers(req).OptString("RevisionId"));
  if (r.builtin && (req.contains("Runtime") || req.contains("Handler")))
    return InvalidParameterValue("Function " + r.doc.value("name", "") +
                                 " is built into lathe: only its Environment, Timeout, MemorySize, Description and Role can change");
  std::lock_guard<std::mutex> lock(mu_);
  json base = r.doc;
  if (r.has_row) {
    Result<store::ResourceRow> row = store_->Find(kFunctionKind, r.row.id);
    if (!row.ok()) return ResourceNotFound("Function not found: " + r.row.id);
    base = row->doc;
  }
  LATHE_RETURN_IF_ERROR(CheckRevision(revision, base));
  LATHE_ASSIGN_OR_RETURN(json doc, ApplyConfiguration(req, base, false));
  store::ResourceRow row;
  row.kind = kFunctionKind;
  row.id = row.name = row.arn = doc["arn"].get<std::string>();
  row.status = "Active";
  row.created_ms = NowMillis();
  row.doc = doc;
  LATHE_RETURN_IF_ERROR(r.has_row ? store_->Update(row) : store_->Insert(row));
  return Configuration(scope, doc);
}

Status LambdaBackend::DeleteFunction(const Scope& scope, const std::string& function_name, const std::string& qualifier) {
  LATHE_ASSIGN_OR_RETURN(Resolved r, Resolve(scope, function_name, qualifier));
  if (r.builtin && !r.has_row)
    return InvalidParameterValue("Function " + r.doc.value("name", "") + " is built into lathe and cannot be deleted");
  std::lock_guard<std::mutex> lock(mu_);
  LATHE_RETURN_IF_ERROR(store_->Delete(kFunctionKind, r.row.id));
  if (r.builtin) return Status::Ok();  // its configuration goes back to the defaults
  (void)store_->RemoveTags(r.row.arn, [&] {
    std::vector<std::string> keys;
    if (auto t = store_->Tags(r.row.arn); t.ok())
      for (const auto& [k, v] : *t) keys.push_back(k);
    return keys;
  }());
  const std::string code_id = r.doc.value("code_id", "");
  if (code_in_use_[code_id] == 0) {
    code_in_use_.erase(code_id);
    DropCode(code_id);
  } else {
    code_retired_.insert(code_id);
  }
  RemoveTree(runtime_.LogDir(r.doc.value("uid", "")));
  return Status::Ok();
}

void LambdaBackend::DropCode(const std::string& code_id) {
  code_.Remove(code_id);
  if (options_.placement) options_.placement->Forget(code_id);
}

void LambdaBackend::ShareCode(const CodeStore::Stored& code) {
  // Best effort: an invocation shares it again from this node before it runs.
  if (!options_.placement) return;
  if (Status s = options_.placement->Share(HeldCode{code.id, code_.ZipPath(code.id), code.sha256_b64}); !s.ok())
    spdlog::warn("lambda code {}: not handed to the workers yet: {}", code.id, s.message());
}

void LambdaBackend::Retire(const std::string& code_id) {
  // mu_ held by the caller.
  if (--code_in_use_[code_id] > 0) return;
  code_in_use_.erase(code_id);
  if (code_retired_.erase(code_id)) DropCode(code_id);
}

Result<InvokeOutput> LambdaBackend::Run(const Scope& scope, const json& doc, const std::string& payload,
                                        const std::string& request_id, bool tail) {
  InvokeOutput out;
  if (doc.value("builtin", false)) {
    if (!builtins_) return ResourceNotFound("Function not found: " + doc.value("arn", ""));
    BuiltinCall call;
    call.account = scope.account;
    call.region = doc.value("region", scope.region);
    call.request_id = request_id;
    call.role = doc.value("role", "");
    call.timeout_s = doc.value("timeout", 60);
    if (doc.contains("environment"))
      for (const auto& [k, v] : doc["environment"].items()) call.environment[k] = v.get<std::string>();
    json event = payload.empty() ? json::object() : json::parse(payload, nullptr, false);
    BuiltinResult r = builtins_->Invoke(doc.value("name", ""), event, call);
    std::string log = "START RequestId: " + request_id + " Version: $LATEST\n" + r.log;
    if (r.ok) {
      out.payload = r.payload.dump();
    } else {
      out.function_error = "Unhandled";
      out.error_type = r.error_type;
      out.payload = json{{"errorMessage", r.error_message}, {"errorType", r.error_type}, {"requestId", request_id},
                         {"stackTrace", json::array()}}
                        .dump();
      log += "[ERROR] " + r.error_type + ": " + r.error_message + "\n";
    }
    log += "END RequestId: " + request_id + "\n";
    if (tail) out.log_result = TailBase64(log.size() > kLogTailBytes ? log.substr(log.size() - kLogTailBytes) : log);
    return out;
  }
  // The function as it is now, and its code held, in one step under mu_: between Resolve and here
  // UpdateFunctionCode or DeleteFunction may have retired the code Resolve saw (and removed its
  // folder, as nothing held it yet).
  json current;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<store::ResourceRow> row = store_->Find(kFunctionKind, doc.value("arn", ""));
    if (!row.ok()) return ResourceNotFound("Function not found: " + doc.value("arn", ""));
    current = std::move(row->doc);
    if (!current.value("builtin", false)) ++code_in_use_[current.value("code_id", "")];
  }
  // Deleted, and a built-in of its name configured since: the built-in runs.
  if (current.value("builtin", false)) return Run(scope, current, payload, request_id, tail);
  return RunHeld(scope, current, payload, request_id, tail);
}

Result<InvokeOutput> LambdaBackend::RunHeld(const Scope& scope, const json& doc, const std::string& payload,
                                            const std::string& request_id, bool tail) {
  InvokeOutput out;
  FunctionSpec spec;
  spec.name = doc.value("name", "");
  spec.arn = doc.value("arn", "");
  spec.uid = doc.value("uid", "");
  spec.runtime = doc.value("runtime", "");
  spec.handler = doc.value("handler", "");
  spec.region = doc.value("region", scope.region);
  spec.timeout_seconds = doc.value("timeout", 3);
  spec.memory_mb = doc.value("memory", 128);
  const std::string code_id = doc.value("code_id", "");
  spec.task_dir = code_.TaskDir(code_id);
  if (doc.contains("environment"))
    for (const auto& [k, v] : doc["environment"].items()) spec.environment[k] = v.get<std::string>();
  // "runJobsOn": "workers": the code runs on a lathe worker (worker_invocations.h).
  Result<InvocationOutcome> r =
      options_.placement
          ? options_.placement->Invoke(spec, HeldCode{code_id, code_.ZipPath(code_id), doc.value("code_sha256", "")},
                                       payload, request_id)
          : runtime_.Invoke(spec, payload, request_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    Retire(code_id);
  }
  if (!r.ok()) return r.status();
  out.payload = std::move(r->payload);
  if (r->function_error) {
    out.function_error = "Unhandled";
    out.error_type = r->error_type;
  }
  if (tail) out.log_result = TailBase64(r->log_tail);
  return out;
}

Result<InvokeOutput> LambdaBackend::Invoke(const Scope& scope, const InvokeInput& in) {
  const std::string& type = in.invocation_type.empty() ? std::string("RequestResponse") : in.invocation_type;
  if (type != "RequestResponse" && type != "Event" && type != "DryRun")
    return ValidationError("1 validation error detected: Value '" + type.substr(0, 64) +
                           "' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: "
                           "[Event, RequestResponse, DryRun]");
  if (!in.log_type.empty() && in.log_type != "None" && in.log_type != "Tail")
    return ValidationError("1 validation error detected: Value '" + in.log_type.substr(0, 64) +
                           "' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]");
  const size_t limit = type == "Event" ? kMaxAsyncPayloadBytes : kMaxSyncPayloadBytes;
  if (in.payload.size() > limit)
    return RequestTooLarge("Request must be smaller than " + std::to_string(limit) + " bytes for the InvokeFunction operation");
  if (!in.payload.empty()) {
    if (!JsonNestingWithin(in.payload, kMaxRequestJsonDepth))
      return InvalidRequestContent("Could not parse request body into json: nesting deeper than " +
                                   std::to_string(kMaxRequestJsonDepth) + " levels");
    if (!json::accept(in.payload))
      return InvalidRequestContent("Could not parse request body into json: Could not parse payload into json: "
                                   "Unexpected character or end of input");
  }
  LATHE_ASSIGN_OR_RETURN(Resolved r, Resolve(scope, in.function_name, in.qualifier));
  InvokeOutput out;
  if (type == "DryRun") {
    out.status_code = 204;
    return out;
  }
  if (type == "Event") return Enqueue(scope, r.doc, in.payload);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ >= options_.max_concurrent_invocations)
      return TooManyRequests("Rate Exceeded. lathe runs at most " + std::to_string(options_.max_concurrent_invocations) +
                             " invocations at once");
    ++running_;
  }
  const std::string request_id = sns::NewUuid();
  Result<InvokeOutput> result = Run(scope, r.doc, in.payload, request_id, in.log_type == "Tail");
  if (result.ok()) result->request_id = request_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  return result;
}


}  // namespace lathe::lambda
