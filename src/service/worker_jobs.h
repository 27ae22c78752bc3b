// What the two services that run jobs in worker processes (fine-tuning: JobService, evaluation:
// EvaluationJobService) share: supervising a worker under a Stop or the server's shutdown, the
// built-in default model's build on first use, and jobs whose end could not be saved.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "core/status.h"
#include "service/service_config.h"
#include "service/worker_process.h"
#include "store/metadata_store.h"

namespace lathe::service {

// Waits for `worker` to end, waking at least every 200 ms (or when `wake` is notified) under `mu`
// to read `shutting_down`. A Stop of the job (`stop_requested`, called without `mu`) or the
// shutdown interrupts it: SIGINT (a trainer keeps its metrics and best weights so far), then
// SIGKILL after 4 s, so a Stop takes effect within 5 s whatever the step time. `every_second`
// runs meanwhile. Returns whether the server is shutting down.
bool SuperviseWorker(WorkerProcess* worker, std::mutex& mu, std::condition_variable& wake, const bool& shutting_down,
                     const std::function<bool()>& stop_requested, const std::function<void()>& every_second);

// The built-in default model, built in a worker (minutes of pretraining) when `local_id` names it,
// the config does not map it to a folder and it was not built already. `supervise` waits for the
// builder and returns true when it was interrupted (a Stop or the shutdown: the caller looks at
// which). Ok: nothing to build, or built. Conflict: interrupted. Otherwise the error to fail the
// job with: "The default model could not be built: <the builder's words, or its exit status>
// (log: <work>/build-default.log)".
Status BuildDefaultModelIfNeeded(const ServiceConfig& config, const std::string& local_id, const std::string& work,
                                 const std::function<bool(WorkerProcess*)>& supervise);

// Jobs whose end (Completed, Failed, Stopped) could not be saved (the disk is full): kept in
// memory and saved again by the runner until it works; meanwhile the runner must not pick them
// again (their rows still say InProgress), or it would loop on them. Not thread-safe: used under
// the service's mutex.
class UnsavedEnds {
 public:
  void Keep(const store::ResourceRow& row) { rows_[row.id] = row; }
  // Saves each kept row again with `save`; those saved are forgotten.
  void Retry(const std::function<Status(const store::ResourceRow&)>& save);
  bool Has(const std::string& id) const { return rows_.count(id) > 0; }
  size_t size() const { return rows_.size(); }

 private:
  std::map<std::string, store::ResourceRow> rows_;
};

}  // namespace lathe::service
