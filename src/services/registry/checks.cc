// The registry's checks on what a version holds (rows.h): every string, count and nesting
// bounded before anything is stored.
#include <cmath>

#include "services/registry/rows.h"

namespace lathe::registry::rows {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

Status CheckDataObject(size_t index, DataObject* d) {
  const std::string field = "data[" + std::to_string(index) + "]";
  LATHE_RETURN_IF_ERROR(CheckToken(field + ".uri", d->uri, kMaxArnBytes, /*required=*/true));
  if (d->purpose.empty()) d->purpose = "training";
  if (d->purpose != "training" && d->purpose != "validation")
    return Invalid(field + ".purpose", "must be training or validation");
  LATHE_RETURN_IF_ERROR(CheckToken(field + ".etag", d->etag, kMaxShortBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken(field + ".versionId", d->version_id, kMaxShortBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken(field + ".format", d->format, kMaxShortBytes, false));
  if (!d->sha256.empty()) LATHE_RETURN_IF_ERROR(NormalizeSha256(field + ".sha256", &d->sha256));
  return Status::Ok();
}

}  // namespace

Status NormalizeSha256(const std::string& field, std::string* digest) {
  if (digest->size() != 64) return Invalid(field, "must be 64 hexadecimal digits");
  for (char& c : *digest) {
    if (!IsHex(c)) return Invalid(field, "must be 64 hexadecimal digits");
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return Status::Ok();
}

bool IsMetricName(const std::string& s) {
  if (s.empty() || s.size() > kMaxMetricNameBytes) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.'))
      return false;
  return true;
}

Status CheckEvaluation(const EvaluationRecord& e) {
  LATHE_RETURN_IF_ERROR(CheckToken("evaluation", e.evaluation, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("evaluation.reportUri", e.report_uri, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("evaluation.testSet", e.test_set, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("evaluation.baseline", e.baseline, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("evaluation.verdict", e.verdict, kMaxShortBytes, false));
  if (!std::isfinite(e.overall_score)) return Invalid("evaluation.overallScore", "must be a finite number");
  if (!e.metrics.is_object()) return Invalid("evaluation.metrics", "must be an object of metric -> mean");
  if (!e.comparison.is_object()) return Invalid("evaluation.comparison", "must be an object of metric -> comparison");
  LATHE_RETURN_IF_ERROR(CheckJsonDepth("evaluation.metrics", e.metrics));
  LATHE_RETURN_IF_ERROR(CheckJsonDepth("evaluation.comparison", e.comparison));
  // Metric names end up in the gate's reasons, emails and reports: bounded, and names only.
  for (const auto* field : {"metrics", "comparison"}) {
    const nlohmann::json& m = std::string(field) == "metrics" ? e.metrics : e.comparison;
    if (m.size() > kMaxMetricEntries)
      return Invalid(std::string("evaluation.") + field, "at most " + std::to_string(kMaxMetricEntries) + " metrics");
    for (const auto& [name, value] : m.items())
      if (!IsMetricName(name))
        return Invalid(std::string("evaluation.") + field,
                       "metric names are 1-" + std::to_string(kMaxMetricNameBytes) + " of A-Za-z0-9_-.");
  }
  return Status::Ok();
}

Status CheckNewVersion(NewVersion* v) {
  LATHE_RETURN_IF_ERROR(CheckEntityName("group", v->group, kMaxGroupNameBytes));
  LATHE_RETURN_IF_ERROR(CheckToken("customModelArn", v->custom_model_arn, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("baseModel", v->base_model, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("trainingJobArn", v->training_job_arn, kMaxArnBytes, false));
  LATHE_RETURN_IF_ERROR(CheckProse("description", v->description, kMaxDescriptionBytes));
  LATHE_RETURN_IF_ERROR(CheckToken("createdBy", v->created_by, kMaxActorBytes, false));
  LATHE_RETURN_IF_ERROR(CheckToken("clientToken", v->client_token, kMaxClientTokenBytes, false));
  if (!v->hyperparameters.is_object()) return Invalid("hyperparameters", "must be an object");
  LATHE_RETURN_IF_ERROR(CheckJsonDepth("hyperparameters", v->hyperparameters));
  if (v->data.size() > kMaxDataObjects)
    return Invalid("data", "at most " + std::to_string(kMaxDataObjects) + " data objects per version, got " +
                               std::to_string(v->data.size()));
  for (size_t i = 0; i < v->data.size(); ++i) LATHE_RETURN_IF_ERROR(CheckDataObject(i, &v->data[i]));
  if (v->evaluations.size() > kMaxEvaluations)
    return Invalid("evaluations", "at most " + std::to_string(kMaxEvaluations) + " evaluations per version, got " +
                                      std::to_string(v->evaluations.size()));
  for (const EvaluationRecord& e : v->evaluations) LATHE_RETURN_IF_ERROR(CheckEvaluation(e));
  LATHE_RETURN_IF_ERROR(CheckMetadata(v->metadata));
  LATHE_RETURN_IF_ERROR(CheckStringMap("tags", v->tags, kMaxTags));
  return Status::Ok();
}

Status CheckVersionDocSize(const store::ResourceRow& row) {
  const size_t bytes = row.doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
  if (bytes > kMaxVersionDocBytes)
    return Invalid("version", "its record would be " + std::to_string(bytes) + " bytes, more than " +
                                  std::to_string(kMaxVersionDocBytes));
  return Status::Ok();
}

}  // namespace lathe::registry::rows
