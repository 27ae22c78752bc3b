// JobService's runner: one job at a time, through Bedrock's phases (validation, data processing,
// training), training in a `lathe train` worker process; see job_service.h.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/env.h"
#include "data/validator.h"
#include "engine/default_model.h"
#include "service/job_outputs.h"
#include "service/job_service.h"
#include "service/worker_process.h"

namespace lathe::service {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Last data row of a metrics CSV, split on commas (empty when the file has no rows yet).
std::vector<std::string> LastCsvRow(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) header = false;
    else if (!line.empty()) last = line;
  }
  std::vector<std::string> cols;
  for (size_t p = 0; !last.empty() && p <= last.size();) {
    size_t q = last.find(',', p);
    if (q == std::string::npos) q = last.size();
    cols.push_back(last.substr(p, q - p));
    p = q + 1;
  }
  return cols;
}

// The job's files, checked again as it runs, and its output folder created (never at request
// time): a symlink swapped in since CreateModelCustomizationJob must not lead out of fileRoots.
Status CheckLocationsNow(const DataLocations& locations, const json& doc) {
  std::vector<std::string> inputs = {doc.value("_trainFile", "")};
  for (const auto& v : doc.value("_validationFiles", json::array())) inputs.push_back(v);
  for (const auto& file : inputs) {
    auto now = locations.FileForReading(file);
    if (!now.ok()) return now.status();
    if (*now != file)
      return Status::InvalidArgument(file + ": now resolves to another file than when the job was created");
  }
  return locations.CreateFolderForWriting(doc.value("_outputDir", "")).status();
}

// A metric cell as a number; nullopt for anything else (a row cut short by a full disk must not
// throw in the runner thread, which would end the server).
std::optional<double> Number(const std::string& cell) {
  if (cell.empty() || cell.size() > 64) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  if (end != cell.c_str() + cell.size()) return std::nullopt;
  return v;
}

}  // namespace

void JobService::Finish(store::ResourceRow* job, const std::string& status, const std::string& failure) {
  std::lock_guard<std::mutex> lock(mu_);
  FinishLocked(job, status, failure);
}

void JobService::FinishLocked(store::ResourceRow* job, const std::string& status, const std::string& failure) {
  spdlog::info("job {} ({}): {}{}{}", job->name, job->id, status, failure.empty() ? "" : ": ", failure);
  job->status = status;
  job->doc["endTime"] = Iso8601(NowMillis());
  if (!failure.empty()) job->doc["failureMessage"] = failure;
  for (const char* phase : {"validationDetails", "dataProcessingDetails", "trainingDetails"}) {
    const std::string s = job->doc["statusDetails"][phase].value("status", "NotStarted");
    if (s == "InProgress" || s == "Stopping") SetPhase(&job->doc, phase, status);
  }
  stop_requested_.erase(job->id);
  if (running_id_ == job->id) running_id_.clear();
  (void)SaveLocked(*job);
}

void JobService::RunLoop() {
  while (true) {
    std::optional<store::ResourceRow> next;
    {
      // Picking a job and marking it running is one step under mu_, against Stop.
      std::unique_lock<std::mutex> lock(mu_);
      if (shutting_down_) return;
      store::MetadataStore::ListFilter active;
      active.statuses = {"InProgress", "Stopping"};
      active.limit = 1;  // the oldest
      if (auto rows = db_->List(kJobKind, active); rows.ok())
        for (auto& r : *rows)
          if (r.status == "InProgress" || r.status == "Stopping") {
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
      Finish(&job, "Failed", std::string("internal error: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    running_id_.clear();
  }
}

Status JobService::ValidateData(store::ResourceRow* job) {
  const json& d = job->doc;
  std::vector<std::pair<std::string, data::Purpose>> files = {{d["_trainFile"], data::Purpose::kTraining}};
  for (const auto& v : d["_validationFiles"]) files.push_back({v, data::Purpose::kValidation});
  for (const auto& [file, purpose] : files) {
    data::ValidateOptions o;
    o.purpose = purpose;
    o.allow_small = true;  // lathe's small models learn from small sets; the CLI warns instead
    if (d.value("customizationType", "") == "CONTINUED_PRE_TRAINING") o.format = data::Format::kPretraining;
    data::FileReport r = data::ValidateFile(config_.env, file, o);
    if (r.ok() && r.format == data::Format::kPretraining && o.format != data::Format::kPretraining)
      return Status::InvalidArgument(file + " holds continued pre-training records ({\"input\"}); a FINE_TUNING job "
                                     "needs prompt/completion or chat records (or create a CONTINUED_PRE_TRAINING job)");
    if (!r.ok()) {
      for (const auto& p : r.problems)
        if (p.severity == data::Severity::kError)
          return Status::InvalidArgument("Validation of the " +
                                         std::string(purpose == data::Purpose::kTraining ? "training" : "validation") +
                                         " data failed (" + std::to_string(r.errors) + " error(s)); first: " +
                                         FormatProblem(p));
      return Status::InvalidArgument(file + ": invalid data");
    }
  }
  return Status::Ok();
}

void JobService::RefreshMetrics(store::ResourceRow* job) {
  const std::string run = config_.data_dir + "/jobs/" + job->id + "/run";
  std::string progress;
  if (ReadFileToString(config_.env, config_.data_dir + "/jobs/" + job->id + "/progress.json", &progress).ok()) {
    json p = json::parse(progress, nullptr, false);
    if (p.is_object()) {
      // A diverged run writes NaN, which JSON holds as null.
      if (p.value("loss", nlohmann::json()).is_number()) job->doc["trainingMetrics"] = {{"trainingLoss", p["loss"]}};
      job->doc["_progress"] = p;  // for `lathe jobs watch`, through GetModelCustomizationJob's extras
    }
  }
  auto train = LastCsvRow(run + "/training_artifacts/step_wise_training_metrics.csv");
  if (train.size() >= 3 && !job->doc.contains("_progress"))
    if (auto loss = Number(train[2])) job->doc["trainingMetrics"] = {{"trainingLoss", *loss}};
  auto val = LastCsvRow(run + "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv");
  if (val.size() >= 3)
    if (auto loss = Number(val[2])) job->doc["validationMetrics"] = json::array({{{"validationLoss", *loss}}});
}

bool JobService::SuperviseWorker(WorkerProcess* worker, const std::function<bool()>& stop_requested,
                                 const std::function<void()>& every_second) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point interrupted{}, last_tick = Clock::now();
  bool shutdown = false;
  while (!worker->Poll()) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(200));
      shutdown = shutting_down_;
    }
    const bool stopping = stop_requested() || shutdown;
    if (stopping && interrupted == Clock::time_point{}) {
      worker->Signal(SIGINT);  // stops at the next step, keeping the metrics and best weights so far
      interrupted = Clock::now();
    } else if (stopping && Clock::now() - interrupted > std::chrono::seconds(4)) {
      worker->Signal(SIGKILL);  // Stop takes effect within 5 s, whatever the step time
    }
    if (Clock::now() - last_tick > std::chrono::seconds(1)) {
      last_tick = Clock::now();
      every_second();
    }
  }
  return shutdown;
}

void JobService::RunJob(store::ResourceRow& job) {
  const std::string work = config_.data_dir + "/jobs/" + job.id;
  std::error_code ec;
  if (Status s = config_.env->CreateDirs(work); !s.ok()) return Finish(&job, "Failed", s.message());
  auto stop_requested = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_requested_.count(job.id) > 0 || job.status == "Stopping";
  };
  if (stop_requested()) return Finish(&job, "Stopped", "");

  // 1. Validation: the data is checked record by record before any training.
  auto& details = job.doc["statusDetails"];
  if (Status s = CheckLocationsNow(*locations_, job.doc); !s.ok()) {
    if (details["validationDetails"].value("status", "") != "Completed") SetPhase(&job.doc, "validationDetails", "Failed");
    return Finish(&job, "Failed", s.message());
  }
  if (details["validationDetails"].value("status", "") != "Completed") {
    SetPhase(&job.doc, "validationDetails", "InProgress");
    (void)Save(job);
    if (Status s = ValidateData(&job); !s.ok()) {
      SetPhase(&job.doc, "validationDetails", "Failed");
      return Finish(&job, "Failed", s.message());
    }
    SetPhase(&job.doc, "validationDetails", "Completed");
  }
  if (stop_requested()) return Finish(&job, "Stopped", "");
  // 2. Data processing: the base model's files (the built-in default is built on first use).
  SetPhase(&job.doc, "dataProcessingDetails", "InProgress");
  (void)Save(job);
  std::string base_dir = job.doc.value("_baseDir", "");
  const std::string base_local = job.doc.value("_baseLocalId", std::string(kDefaultModelId));
  if (base_dir.empty() && base_local == kDefaultModelId && !config_.models.count(base_local) &&
      engine::BuiltDefaultModelDir(config_.data_dir).empty()) {
    // The built-in default is built on first use: minutes of pretraining, so in a worker process
    // that a Stop or the server's shutdown interrupts like training (the build resumes later).
    std::vector<std::string> build = {config_.worker_binary, "models", "build-default", "--data-dir", config_.data_dir};
    if (config_.default_max_train_records > 0)
      build.insert(build.end(), {"--max-records", std::to_string(std::max(config_.default_max_train_records, 1000))});
    auto builder = WorkerProcess::Start(build, work + "/build-default.log", config_.worker_nice);
    if (!builder.ok()) return Finish(&job, "Failed", builder.status().message());
    spdlog::info("job {} ({}): building the default model in worker {}", job.name, job.id, builder->pid());
    if (SuperviseWorker(&*builder, stop_requested, [] {}) && !stop_requested()) return (void)Save(job);
    if (stop_requested()) return Finish(&job, "Stopped", "");
    if (builder->exit_code() != 0) {
      SetPhase(&job.doc, "dataProcessingDetails", "Failed");
      const std::string why = builder->LastLine("lathe: error: ");
      return Finish(&job, "Failed", "The default model could not be built: " +
                                        (why.empty() ? "the build exited with status " + std::to_string(builder->exit_code()) : why) +
                                        " (log: " + work + "/build-default.log)");
    }
  }
  if (base_dir.empty()) {
    auto dir = catalog_->ModelDir(job.doc.value("_baseLocalId", std::string(kDefaultModelId)));
    if (!dir.ok()) {
      SetPhase(&job.doc, "dataProcessingDetails", "Failed");
      return Finish(&job, "Failed", "The base model could not be prepared: " + dir.status().message());
    }
    base_dir = *dir;
  }
  std::string validation_file;
  const json& vfiles = job.doc["_validationFiles"];
  if (vfiles.size() == 1) validation_file = vfiles[0];
  if (vfiles.size() > 1) {  // several validators: one validation set, in their order
    validation_file = work + "/validation.jsonl";
    std::string all;
    Status s;
    for (const auto& f : vfiles) {
      std::string text;
      if (s.ok()) s = ReadFileToString(config_.env, f, &text);
      all += text + (text.empty() || text.back() == '\n' ? "" : "\n");
    }
    if (s.ok()) s = WriteFileAtomically(config_.env, validation_file, all);
    if (!s.ok()) {
      SetPhase(&job.doc, "dataProcessingDetails", "Failed");
      return Finish(&job, "Failed", "The validation data could not be prepared: " + s.message());
    }
  }
  SetPhase(&job.doc, "dataProcessingDetails", "Completed");
  if (stop_requested()) return Finish(&job, "Stopped", "");

  // 3. Training, in a worker process (resumes from its checkpoint if this job ran before).
  SetPhase(&job.doc, "trainingDetails", "InProgress");
  (void)Save(job);
  std::vector<std::string> argv = {config_.worker_binary, "train", "--model", base_dir, "--train",
                                   job.doc["_trainFile"], "--out", work + "/run", "--merged", "--json",
                                   "--progress-file", work + "/progress.json"};
  if (!validation_file.empty()) argv.insert(argv.end(), {"--validation", validation_file});
  for (const auto& [k, v] : job.doc["hyperParameters"].items()) argv.insert(argv.end(), {"--set", k + "=" + v.get<std::string>()});
  const std::string log = work + "/train.log";
  auto worker = WorkerProcess::Start(argv, log, config_.worker_nice);
  spdlog::info("job {} ({}): training in worker {} (log: {})", job.name, job.id, worker.ok() ? worker->pid() : -1, log);
  if (!worker.ok()) return Finish(&job, "Failed", worker.status().message());
  const bool shutdown = SuperviseWorker(&*worker, stop_requested, [&] {
    RefreshMetrics(&job);
    (void)Save(job);
  });
  RefreshMetrics(&job);
  if (shutdown && !stop_requested()) {  // the server is going down: the job resumes on the next start
    (void)Save(job);
    return;
  }
  // Bedrock's layout under the output location: <output>/model-customization-job-<id>/...,
  // complete or absent. The location is checked again (training took a while) and the job's
  // folder is staged and renamed inside it.
  auto parent = locations_->CreateFolderForWriting(job.doc.value("_outputDir", ""));
  const std::string out = (parent.ok() ? *parent : job.doc.value("_outputDir", "")) + "/model-customization-job-" + job.id;
  Status copied = parent.ok() ? CopyJobOutputs(config_.env, work + "/run", {"training_artifacts", "validation_artifacts"}, out)
                              : parent.status();
  // The job is over: its checkpoints (weights and optimizer state, ~3x the trained parameters)
  // can never be resumed, so they go; the model, adapter, metrics and log stay.
  fs::remove_all(work + "/run/checkpoint", ec);
  if (stop_requested()) return Finish(&job, "Stopped", "");
  // The worker's own words first (they name the file and the cause, e.g. a full disk); its log
  // may be unwritable for the same reason, so they come from its output as the server read it.
  const std::string log_note = worker->log_error().empty() ? " (log: " + log + ")" : " (" + worker->log_error() + ")";
  if (worker->exit_code() != 0) {
    std::string why = worker->LastLine("lathe: error: ");
    if (why.empty())
      why = worker->signal() ? "the training process was killed by signal " + std::to_string(worker->signal()) +
                                   (worker->signal() == SIGKILL ? " (out of memory?)" : "")
                             : "the training process exited with status " + std::to_string(worker->exit_code());
    return Finish(&job, "Failed", why + log_note);
  }
  if (!copied.ok()) return Finish(&job, "Failed", "The job's outputs could not be written to " + out + ": " + copied.message());
  auto model = custom_models_->Register(job, work + "/run/model");
  if (!model.ok()) return Finish(&job, "Failed", "registering the custom model: " + model.status().message());
  job.doc["outputModelArn"] = *model;
  Finish(&job, "Completed", "");
}

}  // namespace lathe::service
