#include "services/lambda/worker_invocations.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/env.h"
#include "service/request_fields.h"
#include "service/work_claims.h"
#include "services/lambda/backend.h"
#include "services/lambda/errors.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

constexpr int64_t kResultKeptMs = 3600 * 1000;
constexpr size_t kSweepBatch = 1000;
constexpr size_t kMaxSpecStringBytes = 4096;
// A slot with nothing to run asks the store again this often: the function's caller waits.
constexpr int64_t kIdleClaimWaitMs = 250;

json SpecDoc(const FunctionSpec& fn) {
  json env = json::object();
  for (const auto& [k, v] : fn.environment) env[k] = v;
  return {{"name", fn.name},       {"arn", fn.arn},       {"uid", fn.uid},         {"runtime", fn.runtime},
          {"handler", fn.handler}, {"version", fn.version}, {"timeout", fn.timeout_seconds},
          {"memory", fn.memory_mb}, {"environment", env},  {"region", fn.region}};
}

// A string member of an item's document, bounded; "" when absent or not a string.
std::string Text(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().size() > kMaxSpecStringBytes) return "";
  return it->get<std::string>();
}

// The function an item names, as the runtime takes it: a work item comes from the shared store,
// so every member is checked as a request would be.
Result<FunctionSpec> SpecFrom(const json& f) {
  if (!f.is_object()) return ServiceError("the invocation names no function");
  FunctionSpec fn;
  fn.name = Text(f, "name");
  fn.arn = Text(f, "arn");
  fn.uid = Text(f, "uid");
  fn.runtime = Text(f, "runtime");
  fn.handler = Text(f, "handler");
  fn.version = Text(f, "version");
  fn.region = Text(f, "region");
  if (fn.name.empty() || fn.uid.empty() || fn.uid.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
                                              std::string::npos)
    return ServiceError("the invocation's function has no usable name or uid");
  const json timeout = f.value("timeout", json()), memory = f.value("memory", json());
  if (!timeout.is_number_integer() || !memory.is_number_integer()) return ServiceError("the invocation's timeout or memory is not a number");
  fn.timeout_seconds = std::clamp<int>(timeout.get<int>(), 1, kMaxTimeoutSeconds);
  fn.memory_mb = std::clamp<int>(memory.get<int>(), kMinMemoryMb, kMaxMemoryMb);
  if (auto env = f.find("environment"); env != f.end() && env->is_object()) {
    size_t bytes = 0;
    for (const auto& [k, v] : env->items()) {
      if (!v.is_string()) continue;
      bytes += k.size() + v.get_ref<const std::string&>().size();
      if (bytes > kMaxEnvironmentBytes) return ServiceError("the invocation's environment exceeds 4 KB");
      fn.environment[k] = v.get<std::string>();
    }
  }
  return fn;
}

json ErrorDoc(const Status& s) {
  const Status e = AsLambdaError(s);
  return {{"error", {{"code", e.aws_code()}, {"status", e.http_status()}, {"message", e.message()}}}};
}

}  // namespace

std::string CodeObjectKey(const std::string& code_id) { return "lambda-code/" + code_id + ".zip"; }

// ---- the API node -------------------------------------------------------------------------

QueuedInvocations::QueuedInvocations(store::MetadataStore* store, service::JobObjectStore* objects,
                                     QueuedInvocationOptions options)
    : store_(store), objects_(objects), leases_(store), options_(std::move(options)) {}

void QueuedInvocations::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  wake_.notify_all();
}

void QueuedInvocations::Resume() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
}

void QueuedInvocations::SweepResults() {
  store::MetadataStore::ListFilter old;
  old.created_before = NowMillis() - kResultKeptMs;
  old.limit = kSweepBatch;
  if (auto rows = store_->List(kInvocationResultKind, old); rows.ok())
    for (const auto& r : *rows) (void)store_->Delete(kInvocationResultKind, r.id);
}

Status QueuedInvocations::Share(const HeldCode& code) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (published_.count(code.id)) return Status::Ok();
  }
  // Another API node made it (the shared store's function, this node's empty code folder): that
  // node shared it when it was uploaded.
  if (!Env::Default()->FileExists(code.zip_path)) return Status::Ok();
  // Two first invocations of one code may both upload it: the same bytes, whole or not at all.
  Status s = objects_->Upload(options_.account, code.zip_path, service::S3Uri{options_.bucket, CodeObjectKey(code.id)});
  if (!s.ok())
    return ServiceError("the function's code cannot be handed to the workers through s3://" + options_.bucket + "/" +
                        CodeObjectKey(code.id) + ": " + s.message());
  std::lock_guard<std::mutex> lock(mu_);
  published_.insert(code.id);
  return Status::Ok();
}

void QueuedInvocations::Forget(const std::string& code_id) {
  if (code_id.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    published_.erase(code_id);
  }
  const service::S3Uri object{options_.bucket, CodeObjectKey(code_id)};
  if (Status s = objects_->Delete(options_.account, object); !s.ok())
    spdlog::warn("lambda code {}: {} stays: {}", code_id, object.ToString(), s.message());
}

Result<InvocationOutcome> QueuedInvocations::Invoke(const FunctionSpec& fn, const HeldCode& code,
                                                    const std::string& payload, const std::string& request_id) {
  LATHE_RETURN_IF_ERROR(Share(code));
  store::WorkItem item;
  item.kind = kInvocationWorkKind;
  item.id = request_id;
  item.needs.cpus = 1;
  item.needs.memory_bytes = int64_t{fn.memory_mb} << 20;
  item.doc = {{"function", SpecDoc(fn)}, {"code", {{"id", code.id}, {"sha256", code.sha256_b64}}}, {"payload", payload}};
  if (Status s = leases_.Enqueue(item); !s.ok()) return ServiceError("the invocation cannot be queued: " + s.message());
  const int64_t start = NowMillis();
  const int64_t claim_deadline = start + options_.claim_wait_ms;
  const int64_t deadline = claim_deadline + 3 * (int64_t{fn.timeout_seconds} * 1000 + options_.lease_ms);
  bool claimed = false, read_failed = false;
  while (true) {
    auto row = store_->Find(kInvocationResultKind, request_id);
    if (row.ok()) {
      (void)store_->Delete(kInvocationResultKind, request_id);
      const json& d = row->doc;
      if (auto e = d.find("error"); e != d.end() && e->is_object()) {
        // The row comes from the shared store: only a Lambda error's shape is passed on.
        const json status = e->value("status", json(500));
        const int http = status.is_number_integer() && status.get<int64_t>() >= 400 && status.get<int64_t>() <= 599
                             ? status.get<int>()
                             : 500;
        const std::string code = Text(*e, "code");
        return Status::Aws(code.empty() || code.size() > 64 ? "ServiceException" : code, http,
                           "on worker " + Text(d, "worker") + ": " + Text(*e, "message"), Status::Code::kInternal);
      }
      InvocationOutcome out;
      if (auto p = d.find("payload"); p != d.end() && p->is_string()) out.payload = p->get<std::string>();
      out.function_error = d.value("functionError", json(false)) == json(true);
      out.error_type = Text(d, "errorType");
      out.log_tail = Text(d, "logTail");
      return out;
    }
    if (row.status().code() != Status::Code::kNotFound && !read_failed) {  // once, not five times a second
      spdlog::warn("lambda {}: cannot read its result yet: {}", request_id, row.status().message());
      read_failed = true;
    }
    const int64_t now = NowMillis();
    if (!claimed && now >= claim_deadline) {
      if (leases_.CancelQueued(kInvocationWorkKind, request_id).ok())
        return ServiceError("no lathe worker claimed the invocation of " + fn.name + " within " +
                            std::to_string(options_.claim_wait_ms / 1000) +
                            " s (\"runJobsOn\": \"workers\" runs functions on `lathe worker`s: is one running?)");
      claimed = true;  // a worker holds it
    }
    if (now >= deadline) return ServiceError("the worker running " + fn.name + " did not answer in time");
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {
      (void)leases_.CancelQueued(kInvocationWorkKind, request_id);
      return ServiceError("lathe is stopping; the invocation of " + fn.name + " was not waited for");
    }
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms));
  }
}

// ---- a worker -----------------------------------------------------------------------------

InvocationWorker::InvocationWorker(store::MetadataStore* store, service::JobObjectStore* objects,
                                   FunctionRuntime* runtime, std::string code_root,
                                   const service::ServiceConfig& config, ZipLimits limits)
    : store_(store), objects_(objects), runtime_(runtime), code_root_(code_root), code_(code_root, limits), config_(config),
      leases_(store) {}

InvocationWorker::~InvocationWorker() { Stop(); }

Status InvocationWorker::Start(size_t slots) {
  LATHE_RETURN_IF_ERROR(MakePrivateDir(code_root_));
  code_.Sweep([](const std::string&) { return false; });  // what an earlier run kept
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = false;
  }
  runtime_->Resume();
  for (size_t i = 0; i < std::clamp<size_t>(slots, 1, kMaxWorkerInvocationSlots); ++i)
    threads_.emplace_back([this] { Loop(); });
  return Status::Ok();
}

void InvocationWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  wake_.notify_all();
  if (!threads_.empty()) runtime_->KillAll();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void InvocationWorker::Loop() {
  const service::WorkKinds kinds{kInvocationWorkKind, kInvocationWorkKind};  // no job row: the item is all
  service::ClaimLoop(leases_, config_, kinds, mu_, wake_, shutting_down_, [this](store::Lease lease) { Run(lease); },
                     std::chrono::milliseconds(kIdleClaimWaitMs));
}

Result<bool> InvocationWorker::RunOne() {
  auto claimed = leases_.Claim(config_.worker_id, config_.worker_capacity, int64_t{config_.lease_seconds} * 1000,
                               kInvocationWorkKind);
  if (!claimed.ok()) return claimed.status();
  if (!claimed->has_value()) return false;
  Run(**claimed);
  return true;
}

void InvocationWorker::Run(const store::Lease& lease) {
  const std::string& request_id = lease.item.id;
  spdlog::info("worker {}: runs lambda invocation {} (generation {})", config_.worker_id, request_id, lease.generation);
  // The keeper renews the lease while the function runs (up to 900 s); no row stops it early.
  service::LeaseKeeper keeper(&leases_, /*db=*/nullptr, kInvocationWorkKind, lease,
                              int64_t{config_.lease_seconds} * 1000, nullptr);
  Result<InvocationOutcome> outcome = Execute(lease.item.doc, request_id);
  bool shutting_down;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down = shutting_down_;
  }
  if (keeper.lost()) return;  // another worker holds it now and answers
  if (shutting_down && !outcome.ok()) {  // killed by Stop: another worker runs it
    (void)leases_.Release(keeper.lease());
    return;
  }
  json doc;
  if (outcome.ok())
    doc = {{"payload", outcome->payload},
           {"functionError", outcome->function_error},
           {"errorType", outcome->error_type},
           {"logTail", outcome->log_tail}};
  else
    doc = ErrorDoc(outcome.status());
  doc["worker"] = config_.worker_id;
  store::ResourceRow row;
  row.kind = kInvocationResultKind;
  row.id = row.name = request_id;
  row.status = "Done";
  row.created_ms = NowMillis();
  row.doc = std::move(doc);
  Status s = store_->Insert(row);
  if (!s.ok() && s.code() != Status::Code::kAlreadyExists) {
    spdlog::warn("lambda invocation {}: its result cannot be saved: {}", request_id, s.message());
    (void)leases_.Release(keeper.lease());
    return;
  }
  if (Status c = leases_.Complete(keeper.lease()); !c.ok())
    spdlog::warn("lambda invocation {}: complete: {}", request_id, c.message());
}

Result<InvocationOutcome> InvocationWorker::Execute(const json& doc, const std::string& request_id) {
  LATHE_ASSIGN_OR_RETURN(FunctionSpec fn, SpecFrom(doc.value("function", json())));
  const json code = doc.value("code", json());
  const std::string code_id = code.is_object() ? Text(code, "id") : "";
  const std::string sha = code.is_object() ? Text(code, "sha256") : "";
  auto payload = doc.find("payload");
  if (payload == doc.end() || !payload->is_string() || payload->get_ref<const std::string&>().size() > kMaxSyncPayloadBytes)
    return ServiceError("the invocation has no usable payload");
  LATHE_ASSIGN_OR_RETURN(fn.task_dir, Acquire(code_id, sha));
  Result<InvocationOutcome> out = runtime_->Invoke(fn, payload->get<std::string>(), request_id);
  Done(code_id);
  return out;
}

Result<std::string> InvocationWorker::Acquire(const std::string& code_id, const std::string& sha256_b64) {
  std::lock_guard<std::mutex> lock(code_mu_);
  if (!code_.Has(code_id)) {
    const service::S3Uri object{config_.artifact_bucket, CodeObjectKey(code_id)};
    if (code_id.empty() || code_id.size() > kMaxCodeIdBytes ||
        code_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos)
      return ServiceError("the invocation names no usable code id");
    LATHE_RETURN_IF_ERROR(MakePrivateDir(code_root_));
    const std::string zip_path = code_root_ + "/" + code_id + ".zip";  // swept at the next Start
    if (Status s = objects_->Download(config_.scope.account, object, zip_path, code_.limits().max_zip_bytes); !s.ok())
      return ServiceError("the function's code " + object.ToString() + " cannot be fetched: " + s.message());
    std::string zip;
    Status read = ReadFileToString(Env::Default(), zip_path, &zip);
    ::unlink(zip_path.c_str());
    if (!read.ok()) return ServiceError("the function's code cannot be read: " + read.message());
    if (CodeSha256(zip) != sha256_b64)
      return ServiceError("the function's code in " + object.ToString() + " does not match its CodeSha256");
    LATHE_RETURN_IF_ERROR(code_.AddAs(code_id, zip).status());
  }
  ++in_use_[code_id];
  recent_.remove(code_id);
  recent_.push_front(code_id);
  // Past the bound, the least recently used folders nothing runs on go.
  for (auto it = recent_.end(); recent_.size() > kMaxWorkerCodeFolders && it != recent_.begin();) {
    --it;
    if (in_use_.count(*it)) continue;
    code_.Remove(*it);
    it = recent_.erase(it);
  }
  return code_.TaskDir(code_id);
}

void InvocationWorker::Done(const std::string& code_id) {
  std::lock_guard<std::mutex> lock(code_mu_);
  if (--in_use_[code_id] <= 0) in_use_.erase(code_id);
}

}  // namespace lathe::lambda
