// What a job's work cost lathe, kept in its row: the compute its worker processes used and the
// work they did (tokens trained, read, generated). Jobs keep it as "_compute" in their document;
// GetModelCustomizationJob and GetEvaluationJob answer it as the extra member "latheCompute"
// (SDKs ignore members they do not know); `lathe costs` reads it (costs.h).
//
// "_compute": {"wallMs", "cpuMs", "workers",          every worker the job ran, added up (a job
//                                                      resumed after a restart adds each run)
//              "trainedTokens", "epochs",             customization: as the trainer counts them
//              "models": [{"identifier", "arn", "kind", "inputTokens", "outputTokens"}],
//              "inputTokensEstimated"}                evaluation: per evaluated model
#pragma once

#include <nlohmann/json.hpp>

#include "eval/evaluation.h"
#include "service/worker_process.h"

namespace lathe::service {

inline constexpr const char* kComputeKey = "_compute";

// Adds an ended worker's wall and CPU time to doc["_compute"].
void AddWorkerUsage(nlohmann::json* doc, const WorkerProcess& worker);

// The trainer's token count: from a progress document ({"trainedTokens", "epochs"}) or
// training_summary.json ({"trainedTokens", "epochsRun"}); missing or malformed members change
// nothing (the files are the worker's, read while it writes them).
void SetTrainedTokens(nlohmann::json* doc, const nlohmann::json& progress_or_summary);

// An evaluation's tokens per evaluated model (`models`: the job's "_models", in the run's order):
// generated tokens as the engine counted them, tokens read estimated from the prompts' characters
// (data/model_limits.h's kCharsPerTokenEstimate; the rendered prompt is the worker's alone).
void SetEvaluationTokens(nlohmann::json* doc, const eval::RunResult& run, const nlohmann::json& models);

// The public form of doc["_compute"], or null when the job has none.
nlohmann::json PublicCompute(const nlohmann::json& doc);

}  // namespace lathe::service
