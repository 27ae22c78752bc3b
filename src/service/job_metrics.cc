#include "service/job_metrics.h"

#include <string>

#include "core/metrics.h"
#include "service/compute_record.h"

namespace lathe::service {
namespace {

std::string KindLabel(const std::string& kind) {
  if (kind == "job") return "model-customization";  // job_service.h's kJobKind
  if (kind == "evaluation-job") return "evaluation";
  return "other";
}

std::string StatusLabel(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Stopped" ? status : "other";
}

// A non-negative integer member, or 0.
double Count(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() && it->get<double>() > 0 ? it->get<double>() : 0;
}

}  // namespace

void RecordJobEnd(const store::ResourceRow& job, int64_t now_ms) {
  metrics::Registry& r = metrics::DefaultRegistry();
  static auto& duration = r.Histograms("lathe_job_duration_seconds", "Jobs from creation to their end",
                                       {"kind", "status"}, metrics::JobDurationBuckets(), 50);
  static auto& tokens = r.Counters("lathe_job_tokens_total",
                                   "Tokens jobs trained on (trained), generated and read (evaluation)",
                                   {"kind", "what"}, 50);
  const std::string kind = KindLabel(job.kind);
  if (job.created_ms > 0 && now_ms >= job.created_ms)
    duration.With({kind, StatusLabel(job.status)}).Observe(static_cast<double>(now_ms - job.created_ms) / 1000);
  auto compute = job.doc.find(kComputeKey);
  if (compute == job.doc.end() || !compute->is_object()) return;
  tokens.With({kind, "trained"}).Add(Count(*compute, "trainedTokens"));
  auto models = compute->find("models");
  if (models == compute->end() || !models->is_array()) return;
  for (const auto& m : *models) {
    if (!m.is_object()) continue;
    tokens.With({kind, "generated"}).Add(Count(m, "outputTokens"));
    tokens.With({kind, "read"}).Add(Count(m, "inputTokens"));
  }
}

}  // namespace lathe::service
