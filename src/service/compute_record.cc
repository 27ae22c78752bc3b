#include "service/compute_record.h"

#include "core/json_fields.h"
#include "core/utf8.h"
#include "data/model_limits.h"

#include <algorithm>

namespace lathe::service {
using nlohmann::json;

namespace {

// A member of a document lathe wrote, read without trusting its type.
constexpr auto Int = JsonInt;

}  // namespace

void AddWorkerUsage(json* doc, const WorkerProcess& worker) {
  json& c = (*doc)[kComputeKey];
  if (!c.is_object()) c = json::object();
  c["wallMs"] = Int(c, "wallMs") + worker.usage().wall_ms;
  c["cpuMs"] = Int(c, "cpuMs") + worker.usage().cpu_ms;
  c["workers"] = Int(c, "workers") + 1;
}

void SetTrainedTokens(json* doc, const json& p) {
  if (!p.is_object()) return;
  auto tokens = p.find("trainedTokens");
  if (tokens == p.end() || !tokens->is_number_unsigned()) return;
  json& c = (*doc)[kComputeKey];
  if (!c.is_object()) c = json::object();
  c["trainedTokens"] = tokens->get<uint64_t>();
  for (const char* key : {"epochs", "epochsRun"})
    if (auto e = p.find(key); e != p.end() && e->is_number_integer()) c["epochs"] = *e;
}

void SetEvaluationTokens(json* doc, const eval::RunResult& run, const json& models) {
  uint64_t prompt_chars = 0;
  for (const auto& c : run.test_set.cases) {
    prompt_chars += CountCodePoints(c.prompt);
    for (const auto& m : c.messages) prompt_chars += CountCodePoints(m.content);
  }
  const uint64_t per = static_cast<uint64_t>(data::kCharsPerTokenEstimate);
  json out = json::array();
  for (size_t i = 0; i < run.models.size(); ++i) {
    uint64_t generated = 0;
    for (const auto& c : run.models[i].cases) generated += static_cast<uint64_t>(std::max(c.answer.output_tokens, 0));
    const json model = models.is_array() && i < models.size() && models[i].is_object() ? models[i] : json::object();
    out.push_back({{"identifier", model.value("identifier", run.models[i].model.identifier)},
                   {"arn", model.value("arn", "")},
                   {"kind", model.value("kind", "")},
                   {"inputTokens", (prompt_chars + per - 1) / per},
                   {"outputTokens", generated}});
  }
  json& c = (*doc)[kComputeKey];
  if (!c.is_object()) c = json::object();
  c["models"] = out;
  c["inputTokensEstimated"] = true;
}

json PublicCompute(const json& doc) {
  auto c = doc.find(kComputeKey);
  return c != doc.end() && c->is_object() ? *c : json();
}

}  // namespace lathe::service
