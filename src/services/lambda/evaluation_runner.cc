#include "services/lambda/evaluation_runner.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "core/arn.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

Status Failure(const std::string& type, const std::string& message) { return Status::Aws(type, 0, message); }

}  // namespace

std::string StableHash(const std::string& text) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item.push_back(c);
    }
  }
  return out;
}

std::string EvaluationJobName(const std::string& prefix, const std::string& model_name) {
  std::string slug;
  for (char c : model_name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(l)) && static_cast<unsigned char>(l) < 128) slug.push_back(l);
    else if (!slug.empty() && slug.back() != '-') slug.push_back('-');
    if (slug.size() >= 30) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return prefix + "-" + (slug.empty() ? std::string("model") : slug);
}

Result<CompletedEvaluation> JobEvaluationRunner::Run(const json& request, const std::string& region, int timeout_s,
                                                     const std::atomic<bool>& stopping) {
  if (!evaluations_) return Failure("ServiceUnavailable", "lathe's Bedrock evaluation service is not available");
  if (stopping) return Failure("ServiceUnavailable", "lathe serve is shutting down; no evaluation job was started");
  // The same evaluation asked again (a pipeline's retry after a timeout, a re-run of the step)
  // waits on the job an earlier call started, InProgress or Completed, instead of starting
  // another: the job's name and clientRequestToken are derived from the request (models, data,
  // output, settings; the role names the account), and CreateEvaluationJob answers a repeated
  // token with its job. A job that ended Failed or Stopped is not reused: the next attempt asks anew.
  const std::string base_name = request.value("jobName", std::string("eval"));
  json attempt_request = request;
  attempt_request.erase("jobName");
  attempt_request.erase("clientRequestToken");
  const std::string hash = StableHash(region + "\n" + base_name + "\n" + attempt_request.dump());
  constexpr int kMaxEvaluationAttempts = 20;  // failed ones are kept, as Bedrock keeps them: bounds the walk
  std::string arn;
  for (int attempt = 0; arn.empty(); ++attempt) {
    if (attempt >= kMaxEvaluationAttempts)
      return Failure("EvaluationFailed", "this evaluation failed or was stopped " + std::to_string(attempt) +
                                             " times; see aws bedrock list-evaluation-jobs");
    const std::string suffix = "-" + hash.substr(0, 12) + (attempt > 0 ? "-" + std::to_string(attempt) : "");
    attempt_request["jobName"] = base_name + suffix;
    attempt_request["clientRequestToken"] = "lathe-builtin-" + hash + "-" + std::to_string(attempt);
    Result<json> created = evaluations_->Create(attempt_request, region);
    if (!created.ok()) return created.status();
    Result<json> earlier = evaluations_->Results((*created)["jobArn"].get<std::string>());
    if (!earlier.ok()) return earlier.status();
    const std::string status = (*earlier)["status"];
    if (status != "Failed" && status != "Stopped") arn = (*created)["jobArn"];
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, timeout_s - 1));
  auto running = [](const json& r) { return r["status"] == "InProgress" || r["status"] == "Stopping"; };
  Result<json> results = evaluations_->Results(arn);
  while (results.ok() && running(*results) && std::chrono::steady_clock::now() < deadline && !stopping) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    results = evaluations_->Results(arn);
  }
  if (!results.ok()) return results.status();
  const std::string status = (*results)["status"];
  if (running(*results) && stopping)
    return Failure("ServiceUnavailable",
                   "lathe serve is shutting down; the evaluation job " + arn + " runs again when it starts");
  if (running(*results))
    return Failure("EvaluationTimeout", "the evaluation job " + arn + " did not finish within the function's " +
                                            std::to_string(timeout_s) + " s timeout; it goes on running, and calling the "
                                            "function again waits on it (aws bedrock get-evaluation-job --job-identifier " +
                                            arn + ")");
  if (status != "Completed") {
    std::string why = status;
    if (results->contains("failureMessages") && !(*results)["failureMessages"].empty())
      why += ": " + (*results)["failureMessages"][0].get<std::string>();
    return Failure("EvaluationFailed", "the evaluation job " + arn + " ended " + why);
  }
  CompletedEvaluation out;
  out.arn = arn;
  out.report_uri = results->value("reportUri", "");
  out.summary = (*results)["summary"];
  if (!out.summary.is_object() || !out.summary.contains("models") || out.summary["models"].size() < 2)
    return Failure("EvaluationFailed", "the evaluation job " + arn + " has no results for both models");
  return out;
}

}  // namespace lathe::lambda
