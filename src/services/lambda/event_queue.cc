// Lambda's asynchronous invocations: "lambda-invocation" rows, run by a worker thread in the
// order they were queued and removed once run (at least once: a crash or stop runs them again).
#include <chrono>

#include "services/lambda/backend.h"
#include "service/request_fields.h"
#include "services/lambda/errors.h"
#include "services/lambda/names.h"
#include "services/sns/names.h"

namespace lathe::lambda {
using nlohmann::json;

Result<InvokeOutput> LambdaBackend::Enqueue(const Scope& scope, const json& doc, const std::string& payload) {
  InvokeOutput out;
  store::ResourceRow row;
  row.kind = kInvocationKind;
  row.id = row.name = sns::NewUuid();
  row.arn = doc.value("arn", "");
  row.status = "queued";
  row.created_ms = NowMillis();
  row.doc = {{"account", scope.account}, {"region", doc.value("region", scope.region)},
             {"function", doc.value("arn", "")}, {"payload", payload}};
  {
    // Counted in SQL (no queued payload is read), and counted and added under one lock so that
    // concurrent callers cannot all pass the bound.
    std::lock_guard<std::mutex> lock(mu_);
    LATHE_ASSIGN_OR_RETURN(size_t queued, store_->Count(kInvocationKind, {}));
    if (queued >= kMaxQueuedEvents)
      return TooManyRequests("Rate Exceeded. lathe queues at most " + std::to_string(kMaxQueuedEvents) +
                             " Event invocations");
    LATHE_RETURN_IF_ERROR(store_->Insert(row));
  }
  {
    std::lock_guard<std::mutex> lock(worker_mu_);
    worker_poke_ = true;
  }
  worker_wake_.notify_all();
  out.status_code = 202;
  out.request_id = row.id;
  return out;
}

void LambdaBackend::StartEventWorker() {
  std::lock_guard<std::mutex> lock(worker_mu_);
  if (worker_.joinable()) return;
  worker_stop_ = false;
  worker_ = std::thread([this] { WorkerLoop(); });
}

size_t LambdaBackend::RunQueuedEvents(size_t limit) {
  store::MetadataStore::ListFilter f;
  f.limit = limit;
  auto rows = store_->List(kInvocationKind, f);
  if (!rows.ok()) return 0;
  size_t ran = 0;
  for (const auto& row : *rows) {
    Scope scope{row.doc.value("account", ""), row.doc.value("region", "")};
    // The function as it is now (AWS runs the version current when the event is processed).
    Result<Resolved> r = Resolve(scope, row.doc.value("function", ""), "");
    if (r.ok()) (void)Run(scope, r->doc, row.doc.value("payload", ""), row.id, false);
    if (runtime_.stopping()) break;  // cut short by a stop: run again after the restart
    (void)store_->Delete(kInvocationKind, row.id);
    ++ran;
  }
  return ran;
}

void LambdaBackend::WorkerLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(worker_mu_);
      if (worker_stop_) return;
    }
    size_t ran = RunQueuedEvents(8);
    std::unique_lock<std::mutex> lock(worker_mu_);
    if (worker_stop_) return;
    if (ran == 0) {
      worker_wake_.wait_for(lock, std::chrono::seconds(5), [this] { return worker_stop_ || worker_poke_; });
      worker_poke_ = false;
    }
  }
}

}  // namespace lathe::lambda
