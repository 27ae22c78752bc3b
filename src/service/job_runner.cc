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
#include "data/model_limits.h"
#include "data/validator.h"
#include "engine/default_model.h"
#include "service/compute_record.h"
#include "service/job_service.h"
#include "service/job_metrics.h"
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

}  // namespace

// The job's data as local files, fetched in the validation phase (never at request time): a
// local file checked again (a symlink swapped in since CreateModelCustomizationJob must not lead
// out of fileRoots), an s3:// object copied into the job's folder (the snapshot it trains on);
// and the output location checked again (a local folder created, an S3 bucket looked at).
Result<JobService::LocalData> JobService::FetchData(const store::ResourceRow& job, const std::string& work) {
  const json& doc = job.doc;
  const std::string account = doc.value("_account", "");
  LocalData out;
  // What the validator would read of each file (Bedrock's quotas, data/model_limits.h).
  const bool pretraining = doc.value("customizationType", "") == "CONTINUED_PRE_TRAINING";
  auto fetch = [&](const std::string& input, data::Purpose purpose, const std::string& snapshot) -> Status {
    const uint64_t max_bytes = purpose == data::Purpose::kValidation ? data::kMaxValidationFileBytes
                               : pretraining                          ? data::kMaxPretrainingFileBytes
                                                                      : data::kMaxFineTuningFileBytes;
    auto local = locations_->FetchInput(account, input, snapshot, max_bytes);
    if (!local.ok()) return local.status();
    out.files.push_back({*local, input, purpose});
    return Status::Ok();
  };
  // The job's role first, as AWS reads the data with it: a refusal fails validation unread.
  std::vector<std::string> inputs = {doc.value("_trainFile", "")};
  for (const auto& v : doc.value("_validationFiles", json::array())) inputs.push_back(v.get<std::string>());
  LATHE_RETURN_IF_ERROR(
      locations_->CheckRoleAccess(account, doc.value("roleArn", ""), inputs, doc.value("_outputDir", "")));
  LATHE_RETURN_IF_ERROR(fetch(doc.value("_trainFile", ""), data::Purpose::kTraining, work + "/data/training.jsonl"));
  size_t n = 0;
  for (const auto& v : doc.value("_validationFiles", json::array()))
    LATHE_RETURN_IF_ERROR(fetch(v.get<std::string>(), data::Purpose::kValidation,
                                work + "/data/validation-" + std::to_string(++n) + ".jsonl"));
  LATHE_RETURN_IF_ERROR(locations_->PrepareOutput(account, doc.value("_outputDir", "")));
  return out;
}

namespace {

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
  // The copies of its s3:// data: an ended job never reads them again (up to 10 GB each).
  std::error_code ec;
  fs::remove_all(config_.data_dir + "/jobs/" + job->id + "/data", ec);
  Status saved = SaveLocked(*job);
  if (!saved.ok() && saved.code() == Status::Code::kConflict && placed(ServiceConfig::JobPlacement::kWorker)) {
    // Another worker holds the job now, or another node ended it: its end is theirs to write.
    spdlog::warn("job {} ({}): its end ({}) was not saved: {}", job->name, job->id, status, saved.message());
    return;
  }
  RecordJobEnd(*job, NowMillis());  // /metrics: duration and tokens (job_metrics.h)
  if (!saved.ok()) {
    spdlog::error("job {} ({}): its end ({}) could not be saved: {}; trying again every few seconds", job->name,
                  job->id, status, saved.message());
    unsaved_ends_.Keep(*job);
  }
}

void JobService::RunLoop() {
  while (true) {
    std::optional<store::ResourceRow> next;
    {
      // Picking a job and marking it running is one step under mu_, against Stop.
      std::unique_lock<std::mutex> lock(mu_);
      if (shutting_down_) return;
      unsaved_ends_.Retry([this](const store::ResourceRow& r) { return SaveLocked(r); });
      store::MetadataStore::ListFilter active;
      active.statuses = {"InProgress", "Stopping"};
      active.limit = 1 + unsaved_ends_.size();  // the oldest that has not ended already
      if (auto rows = db_->List(kJobKind, active); rows.ok())
        for (auto& r : *rows)
          if ((r.status == "InProgress" || r.status == "Stopping") && !unsaved_ends_.Has(r.id)) {
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

Status JobService::ValidateData(const store::ResourceRow& job, const LocalData& data) {
  for (const auto& input : data.files) {
    data::ValidateOptions o;
    o.purpose = input.purpose;
    o.allow_small = true;  // lathe's small models learn from small sets; the CLI warns instead
    if (job.doc.value("customizationType", "") == "CONTINUED_PRE_TRAINING") o.format = data::Format::kPretraining;
    data::FileReport r = data::ValidateFile(config_.env, input.local, o);
    // Named as the client named it: an s3:// object's snapshot is a file of lathe's.
    const std::string& shown = input.source;
    if (r.ok() && r.format == data::Format::kPretraining && o.format != data::Format::kPretraining)
      return Status::InvalidArgument(shown + " holds continued pre-training records ({\"input\"}); a FINE_TUNING job "
                                     "needs prompt/completion or chat records (or create a CONTINUED_PRE_TRAINING job)");
    if (!r.ok()) {
      for (auto p : r.problems)
        if (p.severity == data::Severity::kError) {
          p.file = shown;
          return Status::InvalidArgument("Validation of the " +
                                         std::string(input.purpose == data::Purpose::kTraining ? "training" : "validation") +
                                         " data failed (" + std::to_string(r.errors) + " error(s)); first: " +
                                         FormatProblem(p));
        }
      return Status::InvalidArgument(shown + ": invalid data");
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
      SetTrainedTokens(&job->doc, p);
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
  return service::SuperviseWorker(worker, mu_, wake_, shutting_down_, stop_requested, every_second);
}

void JobService::RunJob(store::ResourceRow& job) {
  const std::string work = config_.data_dir + "/jobs/" + job.id;
  std::error_code ec;
  if (Status s = config_.env->CreateDirs(work); !s.ok()) return Finish(&job, "Failed", s.message());
  auto stop_requested = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_requested_.count(job.id) > 0 || job.status == "Stopping" ||
           (keeper_ && (keeper_->lost() || keeper_->stopping()));
  };
  if (stop_requested()) return Finish(&job, "Stopped", "");

  // 1. Validation: the data is checked record by record before any training.
  auto& details = job.doc["statusDetails"];
  if (details["validationDetails"].value("status", "") != "Completed") {
    SetPhase(&job.doc, "validationDetails", "InProgress");
    (void)Save(job);
  }
  auto inputs = FetchData(job, work);
  if (!inputs.ok()) {
    if (details["validationDetails"].value("status", "") != "Completed") SetPhase(&job.doc, "validationDetails", "Failed");
    return Finish(&job, "Failed", inputs.status().message());
  }
  if (details["validationDetails"].value("status", "") != "Completed") {
    if (Status s = ValidateData(job, *inputs); !s.ok()) {
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
  if (!base_dir.empty() && !fs::exists(base_dir + "/config.json", ec)) {
    // A custom model as the base, whose folder the API node named: on a worker it comes from the
    // artifact bucket instead (CustomModelService fetches it once).
    auto base = custom_models_->FindServable(job.doc.value("baseModelArn", ""));
    if (!base.ok()) {
      SetPhase(&job.doc, "dataProcessingDetails", "Failed");
      return Finish(&job, "Failed", "The base model's files are not on this node (" + base_dir +
                                        "): " + base.status().message());
    }
    base_dir = base->doc.value("_dir", "");
  }
  const std::string base_local = job.doc.value("_baseLocalId", std::string(kDefaultModelId));
  if (base_dir.empty()) {
    // The built-in default is built on first use: minutes of pretraining, so in a worker process
    // that a Stop or the server's shutdown interrupts like training (the build resumes later).
    bool shutdown = false;
    Status built = BuildDefaultModelIfNeeded(config_, base_local, work, [&](WorkerProcess* builder) {
      spdlog::info("job {} ({}): building the default model in worker {}", job.name, job.id, builder->pid());
      shutdown = SuperviseWorker(builder, stop_requested, [] {});
      AddWorkerUsage(&job.doc, *builder);
      return shutdown || stop_requested();
    });
    if (shutdown && !stop_requested()) return (void)Save(job);
    if (stop_requested()) return Finish(&job, "Stopped", "");
    if (!built.ok()) {
      SetPhase(&job.doc, "dataProcessingDetails", "Failed");
      return Finish(&job, "Failed", built.message());
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
  std::vector<std::string> vfiles;
  for (const auto& input : inputs->files)
    if (input.purpose == data::Purpose::kValidation) vfiles.push_back(input.local);
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

  // 3. Training, in a worker process (resumes from its checkpoint if this job ran before: on
  // workers, the checkpoint another worker uploaded before it stopped or died).
  SetPhase(&job.doc, "trainingDetails", "InProgress");
  (void)Save(job);
  if (artifacts_) {
    auto generation = artifacts_->DownloadCheckpoint(job.id, work + "/run/checkpoint");
    if (!generation.ok()) return Finish(&job, "Failed", "The job's checkpoint could not be fetched: " +
                                                            generation.status().message());
    if (*generation > 0)
      spdlog::info("job {} ({}): resuming from checkpoint generation {}", job.name, job.id, *generation);
  }
  std::vector<std::string> argv = {config_.worker_binary, "train", "--model", base_dir, "--train",
                                   inputs->files.front().local, "--out", work + "/run", "--merged", "--json",
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
  if (LeaseLost()) return;  // another worker has the job now: nothing here is the job's any more
  RefreshMetrics(&job);
  AddWorkerUsage(&job.doc, *worker);
  if (std::string summary; ReadFileToString(config_.env, work + "/run/training_summary.json", &summary).ok())
    SetTrainedTokens(&job.doc, json::parse(summary, nullptr, false));
  if (shutdown && !stop_requested()) {  // the server is going down: the job resumes on the next start
    (void)Save(job);
    return;
  }
  // Bedrock's layout under the output location: <output>/model-customization-job-<id>/...
  // (DataLocations: a local folder staged and renamed into place, or objects uploaded once all
  // are complete on disk). Whatever the worker's end: a stopped or failed job's metrics so far
  // are worth having.
  const Result<std::string> published =
      locations_->PublishOutputs(job.doc.value("_account", ""), job.doc.value("_outputDir", ""), work + "/run",
                                 {"training_artifacts", "validation_artifacts"}, "model-customization-job-" + job.id);
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
  if (!published.ok()) return Finish(&job, "Failed", published.status().message());
  // On workers the model goes to the artifact bucket, where every node finds it.
  nlohmann::json artifact;
  if (artifacts_) {
    auto uploaded = artifacts_->UploadModel(job.id, work + "/run/model");
    if (!uploaded.ok()) return Finish(&job, "Failed", "uploading the model to the artifact bucket: " +
                                                          uploaded.status().message());
    artifact = *uploaded;
  }
  auto model = custom_models_->Register(job, work + "/run/model", artifact);
  if (!model.ok()) return Finish(&job, "Failed", "registering the custom model: " + model.status().message());
  job.doc["outputModelArn"] = *model;
  Finish(&job, "Completed", "");
}

}  // namespace lathe::service
