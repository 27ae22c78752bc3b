// EvaluationJobService's runner: one job at a time, in a `lathe eval run` worker process; see
// evaluation_jobs.h.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/env.h"
#include "data/problem.h"
#include "engine/default_model.h"
#include "eval/evaluation.h"
#include "eval/report.h"
#include "eval/test_set.h"
#include "service/compute_record.h"
#include "service/evaluation_jobs.h"
#include "service/evaluation_output.h"
#include "service/job_metrics.h"
#include "service/worker_jobs.h"

namespace lathe::service {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Bounded(std::string message) {
  if (message.size() > kMaxFailureMessageBytes) message = message.substr(0, kMaxFailureMessageBytes - 3) + "...";
  return message;
}

std::string Number(double v) {
  std::string s = json(v).dump();
  return s;
}

}  // namespace

bool EvaluationJobService::ShuttingDown() {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

bool EvaluationJobService::StopRequested(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  // On a worker: a Stop from the API node, or the job taken over by another worker.
  return stop_requested_.count(id) > 0 || (keeper_ && (keeper_->lost() || keeper_->stopping()));
}

void EvaluationJobService::Finish(store::ResourceRow* job, const std::string& status,
                                  const std::vector<std::string>& failures) {
  std::lock_guard<std::mutex> lock(mu_);
  // A Stop accepted while the results were being published wins: the caller was told Stopping.
  const std::string end = status == "Completed" && stop_requested_.count(job->id) ? "Stopped" : status;
  spdlog::info("evaluation job {} ({}): {}{}{}", job->name, job->id, end, failures.empty() ? "" : ": ",
               failures.empty() ? "" : failures.front());
  job->status = end;
  stop_requested_.erase(job->id);
  if (!failures.empty()) {
    json messages = json::array();
    for (size_t i = 0; i < failures.size() && i < kMaxFailureMessages; ++i) messages.push_back(Bounded(failures[i]));
    job->doc["failureMessages"] = messages;
  }
  job->doc.erase("_progress");
  // The dataset's copy: an ended job never reads it again.
  std::error_code ec;
  fs::remove_all(config_.data_dir + "/evaluation-jobs/" + job->id + "/data", ec);
  Status saved = SaveLocked(*job);
  if (!saved.ok() && saved.code() == Status::Code::kConflict && placed(ServiceConfig::JobPlacement::kWorker)) {
    // Another worker holds the job now, or another node ended it: its end is theirs to write.
    spdlog::warn("evaluation job {} ({}): its end ({}) was not saved: {}", job->name, job->id, end, saved.message());
    return;
  }
  RecordJobEnd(*job, NowMillis());  // /metrics: duration and tokens (job_metrics.h)
  if (Status s = saved; !s.ok()) {
    spdlog::error("evaluation job {} ({}): its end ({}) could not be saved: {}; trying again every few seconds",
                  job->name, job->id, end, s.message());
    unsaved_ends_.Keep(*job);
  }
}

void EvaluationJobService::RunLoop() {
  while (true) {
    std::optional<store::ResourceRow> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (shutting_down_) return;
      unsaved_ends_.Retry([this](const store::ResourceRow& r) { return SaveLocked(r); });
      store::MetadataStore::ListFilter active;
      active.statuses = {"InProgress", "Stopping"};
      active.limit = 1 + unsaved_ends_.size();  // the oldest that has not ended already
      if (auto rows = db_->List(kEvaluationJobKind, active); rows.ok())
        for (auto& r : *rows)
          if (!unsaved_ends_.Has(r.id)) {
            next = std::move(r);
            running_id_ = next->id;
            break;
          }
      if (!next) {
        wake_.wait_for(lock, std::chrono::seconds(2));
        continue;
      }
    }
    store::ResourceRow job = std::move(*next);
    try {
      RunJob(job);
    } catch (const std::exception& e) {  // a bug must fail one job, not take the server down
      Finish(&job, "Failed", {std::string("internal error: ") + e.what()});
    }
    std::lock_guard<std::mutex> lock(mu_);
    running_id_.clear();
  }
}

bool EvaluationJobService::Supervise(WorkerProcess* worker, const std::string& id,
                                     const std::function<void()>& every_second) {
  return SuperviseWorker(worker, mu_, wake_, shutting_down_, [&] { return StopRequested(id); }, every_second);
}

Result<std::string> EvaluationJobService::ModelDir(const json& model, const std::string& work, const std::string& id) {
  const std::string identifier = model.value("identifier", "");
  const std::string dir = model.value("dir", "");
  if (!dir.empty()) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return dir;
    // Named by the node that took the request: on a worker, a custom model comes from the
    // artifact bucket instead (CustomModelService fetches it once).
    for (const char* key : {"modelArn", "arn"})
      if (auto cm = custom_models_->FindServable(model.value(key, "")); cm.ok()) return cm->doc.value("_dir", "");
    // A foundation model (behind a provisioned throughput): this node's copy, below.
    if (model.value("localId", "").empty())
      return Status::NotFound("The model " + identifier + " is no longer available (deleted?)");
  }
  const std::string local = model.value("localId", std::string(kDefaultModelId));
  // The built-in default model is built on first use, in a worker a Stop can interrupt.
  LATHE_RETURN_IF_ERROR(BuildDefaultModelIfNeeded(config_, local, work, [&](WorkerProcess* builder) {
    spdlog::info("evaluation job {}: building the default model in worker {}", id, builder->pid());
    return Supervise(builder, id, [] {}) || StopRequested(id);
  }));
  return catalog_->ModelDir(local);
}

void EvaluationJobService::RunJob(store::ResourceRow& job) {
  const std::string work = config_.data_dir + "/evaluation-jobs/" + job.id;
  if (job.status == "Stopping" || StopRequested(job.id)) return Finish(&job, "Stopped", {});
  if (Status s = config_.env->CreateDirs(work + "/data"); !s.ok()) return Finish(&job, "Failed", {s.message()});
  const json& doc = job.doc;
  const std::string account = doc.value("_account", "");
  // What the request named (the store's document: read without assuming its keys, never operator[]).
  const std::string source =
      doc.value(json::json_pointer("/evaluationConfig/automated/datasetMetricConfigs/0/dataset/datasetLocation/s3Uri"),
                std::string(""));

  // 1. The dataset: the job's role may read it and write the output (AWS reads with the role),
  // then a snapshot in the job's folder, its size checked here.
  if (Status s = locations_->CheckRoleAccess(account, doc.value("roleArn", ""), {doc.value("_datasetInput", "")},
                                             doc.value("_outputDir", ""));
      !s.ok())
    return Finish(&job, "Failed", {s.message()});
  auto local = locations_->FetchInput(account, doc.value("_datasetInput", ""), work + "/data/dataset.jsonl",
                                      eval::kMaxTestSetBytes);
  if (!local.ok()) return Finish(&job, "Failed", {local.status().message()});
  if (Status s = locations_->PrepareOutput(account, doc.value("_outputDir", "")); !s.ok())
    return Finish(&job, "Failed", {s.message()});
  // A local file is not copied (FetchInput's bound applies to copies): its size is checked here.
  uint64_t size = 0;
  if (Status s = config_.env->GetFileSize(*local, &size); !s.ok()) return Finish(&job, "Failed", {s.message()});
  if (size > eval::kMaxTestSetBytes)
    return Finish(&job, "Failed", {source + ": the dataset has " + std::to_string(size) + " bytes; an evaluation dataset "
                                   "may have at most " + std::to_string(eval::kMaxTestSetBytes) + " (split it into several jobs)"});
  // The cases themselves are checked by the worker (`lathe eval run` prints each problem as
  // file:line and exits 1): up to 64 MiB of JSON is not parsed inside the server.

  // 2. The models, as folders (the default model built first if this is its first use).
  std::vector<std::string> argv = {config_.worker_binary, "eval", "run", "--dataset", *local};
  EvaluationOutputJob out_job{job.id, doc.value("_taskType", "Custom"), doc.value("_datasetName", "dataset"),
                              doc.value("_metricNames", std::vector<std::string>{}), {}};
  for (const auto& m : doc.value("_models", json::array())) {
    auto dir = ModelDir(m, work, job.id);
    if (!dir.ok()) {
      if (StopRequested(job.id)) return Finish(&job, "Stopped", {});
      if (ShuttingDown()) return;  // runs again on the next start
      return Finish(&job, "Failed", {"The model " + m.value("identifier", "") + " could not be prepared: " +
                                     dir.status().message()});
    }
    argv.insert(argv.end(), {"--model", m.value("label", "model") + "=" + *dir});
    out_job.model_identifiers.push_back(m.value("identifier", ""));
  }
  const json settings = doc.value("latheGenerationSettings", json::object());
  const std::string out = work + "/out";
  std::error_code ec;
  fs::remove_all(out, ec);  // an earlier server's partial run
  argv.insert(argv.end(), {"--out", out, "--progress-json", "--temperature", Number(settings.value("temperature", 0.0)),
                           "--top-p", Number(settings.value("topP", 1.0)), "--max-tokens",
                           std::to_string(settings.value("maxTokens", 128)), "--seed",
                           std::to_string(settings.value("seed", kEvaluationSeed))});

  // 3. The run, in a worker process.
  const std::string log = work + "/eval.log";
  auto worker = WorkerProcess::Start(argv, log, config_.worker_nice);
  if (!worker.ok()) return Finish(&job, "Failed", {worker.status().message()});
  spdlog::info("evaluation job {} ({}): running in worker {} (log: {})", job.name, job.id, worker->pid(), log);
  const bool shutdown = Supervise(&*worker, job.id, [&] {
    // --progress-json writes {"casesDone": ...} lines (nlohmann's objects sort their keys, so
    // casesDone comes first); the last one is the job's progress.
    const std::string rest = worker->LastLine("{\"casesDone\"");
    if (rest.empty()) return;
    json p = json::parse("{\"casesDone\"" + rest, nullptr, false);
    if (!p.is_object()) return;
    job.doc["_progress"] = p;
    (void)Save(job);
  });
  AddWorkerUsage(&job.doc, *worker);  // a rerun after a restart adds its own
  if (shutdown && !StopRequested(job.id)) {
    (void)Save(job);  // the interrupted run's compute is counted, not lost with the process
    return;           // runs again on the next start
  }
  if (StopRequested(job.id)) return Finish(&job, "Stopped", {});
  if (worker->exit_code() != 0) {
    // The dataset's problems, as the worker printed them (naming the local copy: renamed to the
    // dataset's URI), at most kMaxFailureMessages of those in the output the server kept.
    std::vector<std::string> problems;
    const std::string& tail = worker->output_tail();
    for (size_t at = 0; at < tail.size() && problems.size() < kMaxFailureMessages;) {
      size_t end = tail.find('\n', at);
      if (end == std::string::npos) end = tail.size();
      const std::string line = tail.substr(at, end - at);
      at = end + 1;
      if (line.rfind(*local + ":", 0) == 0 && line.find(": error: ") != std::string::npos)
        problems.push_back(source + line.substr(local->size()));
    }
    if (!problems.empty()) return Finish(&job, "Failed", problems);
    std::string why = worker->LastLine("lathe: error: ");
    if (why.empty())
      why = worker->signal() ? "the evaluation process was killed by signal " + std::to_string(worker->signal())
                             : "the evaluation process exited with status " + std::to_string(worker->exit_code());
    return Finish(&job, "Failed", {why + " (log: " + log + ")"});
  }

  // 4. The results in Bedrock's layout, published under <output>/<jobName>/<jobId>/. A shutdown
  // from here on leaves the job InProgress: it runs again on the next start and publishes to the
  // same names (evaluation_output.h), so nothing half-published stays beside the rerun's files.
  if (ShuttingDown()) return;
  // Read with eval::ReadReport's bounds (kMaxReportBytes, depth, sizes): the worker's file.
  auto run = eval::ReadReport(config_.env, out);
  if (!run.ok()) return Finish(&job, "Failed", {"the run's report.json cannot be read: " + run.status().message()});
  const std::string publish = work + "/publish";
  fs::remove_all(publish, ec);
  auto written = WriteEvaluationOutput(config_.env, *run, out_job, out, publish);
  if (!written.ok()) return Finish(&job, "Failed", {"the results could not be written: " + written.status().message()});
  if (ShuttingDown()) return;
  auto published = locations_->PublishOutputs(account, doc.value("_outputDir", ""), publish, {job.id}, job.name);
  if (!published.ok()) return Finish(&job, "Failed", {published.status().message()});
  job.doc["_summary"] = EvaluationSummary(*run, out_job);
  SetEvaluationTokens(&job.doc, *run, doc.value("_models", json::array()));
  // PublishOutputs answers a local folder as a path: named as a URI, like the s3:// ones.
  const std::string folder = (published->rfind("/", 0) == 0 ? "file://" : "") + *published;
  job.doc["_reportUri"] = folder + (folder.back() == '/' ? "" : "/") + job.id + "/report.json";
  fs::remove_all(publish, ec);
  Finish(&job, "Completed", {});
}

}  // namespace lathe::service
