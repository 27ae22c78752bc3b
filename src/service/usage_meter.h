// Usage that has no row of its own to keep it: on-demand inference (InvokeModel / Converse on a
// foundation or custom model without provisioning), counted per model and day in memory and
// flushed to lathe.db every kUsageFlushMs; and the held time of a provisioned throughput, written
// when it is deleted (its row goes). Rows of kind "usage" that `lathe costs` reads (costs.h):
//   "on-demand/<yyyy-mm-dd>/<model id>"  {"what": "on-demand", "modelId", "day", "requests",
//                                         "inputTokens", "outputTokens", "computeMs"}
//   "provisioned-throughput/<id>"        {"what": "provisioned-throughput", "provisionedModelName",
//                                         "provisionedModelArn", "modelArn", "foundationModelArn",
//                                         "modelUnits", "createdMs", "deletedMs"}
// A crash loses at most the last flush interval's counts. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kUsageKind = "usage";
inline constexpr int64_t kUsageFlushMs = 2000;
// Distinct (day, model) counts held between flushes; more are added up under kOtherModels.
inline constexpr size_t kMaxMeteredModels = 256;
inline constexpr const char* kOtherModels = "(other models)";

class UsageMeter {
 public:
  explicit UsageMeter(store::MetadataStore* db, std::function<int64_t()> now_ms = nullptr);
  ~UsageMeter();  // stops the flusher and flushes what is left

  // Starts the thread that flushes every kUsageFlushMs (without it, Flush() is the caller's).
  void Start();
  // One answered on-demand request: `model_id` as the caller named the model.
  void RecordOnDemand(const std::string& model_id, int64_t input_tokens, int64_t output_tokens, int64_t compute_ms);
  // Adds what was counted since the last flush to the rows (one transaction); on failure the
  // counts stay in memory for the next one.
  Status Flush();

 private:
  struct Totals {
    int64_t requests = 0, input_tokens = 0, output_tokens = 0, compute_ms = 0;
  };
  store::MetadataStore* db_;
  std::function<int64_t()> now_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::pair<std::string, std::string>, Totals> pending_;  // (day, model id)
  bool stopping_ = false;
  std::mutex flush_mu_;  // one flush at a time (the thread's and the destructor's)
  std::thread flusher_;
};

// The "usage" row that keeps a provisioned throughput's held time once its row is deleted.
store::ResourceRow EndedThroughputUsage(const store::ResourceRow& throughput, int64_t deleted_ms);

}  // namespace lathe::service
