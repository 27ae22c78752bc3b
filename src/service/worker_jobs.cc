#include "service/worker_jobs.h"

#include <signal.h>

#include <algorithm>
#include <chrono>

#include "engine/default_model.h"

namespace lathe::service {

bool SuperviseWorker(WorkerProcess* worker, std::mutex& mu, std::condition_variable& wake, const bool& shutting_down,
                     const std::function<bool()>& stop_requested, const std::function<void()>& every_second) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point interrupted{}, last_tick = Clock::now();
  bool shutdown = false;
  while (!worker->Poll()) {
    {
      std::unique_lock<std::mutex> lock(mu);
      wake.wait_for(lock, std::chrono::milliseconds(200));
      shutdown = shutting_down;
    }
    const bool stopping = stop_requested() || shutdown;
    if (stopping && interrupted == Clock::time_point{}) {
      worker->Signal(SIGINT);
      interrupted = Clock::now();
    } else if (stopping && Clock::now() - interrupted > std::chrono::seconds(4)) {
      worker->Signal(SIGKILL);
    }
    if (Clock::now() - last_tick > std::chrono::seconds(1)) {
      last_tick = Clock::now();
      every_second();
    }
  }
  return shutdown;
}

Status BuildDefaultModelIfNeeded(const ServiceConfig& config, const std::string& local_id, const std::string& work,
                                 const std::function<bool(WorkerProcess*)>& supervise) {
  if (local_id != kDefaultModelId || config.models.count(local_id) || !engine::BuiltDefaultModelDir(config.data_dir).empty())
    return Status::Ok();
  std::vector<std::string> build = {config.worker_binary, "models", "build-default", "--data-dir", config.data_dir};
  if (config.default_max_train_records > 0)
    build.insert(build.end(), {"--max-records", std::to_string(std::max(config.default_max_train_records, 1000))});
  const std::string log = work + "/build-default.log";
  auto builder = WorkerProcess::Start(build, log, config.worker_nice);
  if (!builder.ok()) return builder.status();
  if (supervise(&*builder)) return Status::Conflict("the default model's build was interrupted");
  if (builder->exit_code() == 0) return Status::Ok();
  const std::string why = builder->LastLine("lathe: error: ");
  return Status::Internal("The default model could not be built: " +
                          (why.empty() ? "the build exited with status " + std::to_string(builder->exit_code()) : why) +
                          " (log: " + log + ")");
}

void UnsavedEnds::Retry(const std::function<Status(const store::ResourceRow&)>& save) {
  for (auto it = rows_.begin(); it != rows_.end();) it = save(it->second).ok() ? rows_.erase(it) : std::next(it);
}

}  // namespace lathe::service
