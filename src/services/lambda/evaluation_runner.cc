#include "services/lambda/evaluation_runner.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "core/arn.h"

namespace lathe::lambda {
using nlohmann::json;

namespace {

Status Failure(const std::string& type, const std::string& message) { return Status::Aws(type, 0, message); }

std::string Compact(int64_t ms) {  // 20261202-051502
  std::string t = Iso8601(ms), out;
  for (char c : t.substr(0, 19))
    if (c != ':' && c != '-') out.push_back(c == 'T' ? '-' : c);
  return out;
}

}  // namespace

std::string EvaluationJobName(const std::string& prefix, const std::string& model_name) {
  std::string slug;
  for (char c : model_name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(l)) && static_cast<unsigned char>(l) < 128) slug.push_back(l);
    else if (!slug.empty() && slug.back() != '-') slug.push_back('-');
    if (slug.size() >= 30) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return prefix + "-" + (slug.empty() ? std::string("model") : slug) + "-" + Compact(NowMillis()) + "-" +
         NewResourceId(4);
}

Result<CompletedEvaluation> JobEvaluationRunner::Run(const json& request, const std::string& region, int timeout_s,
                                                     const std::atomic<bool>& stopping) {
  if (!evaluations_) return Failure("ServiceUnavailable", "lathe's Bedrock evaluation service is not available");
  Result<json> created = evaluations_->Create(request, region);
  if (!created.ok()) return created.status();
  const std::string arn = (*created)["jobArn"];

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
                                            std::to_string(timeout_s) + " s timeout; it goes on running "
                                            "(aws bedrock get-evaluation-job --job-identifier " + arn + ")");
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
