// What a provisioned throughput or a custom model deployment serves, resolved to its files, and
// how it is loaded under the memory budget (ModelMemory) on a background thread. Shared by
// ThroughputService and DeploymentService, which differ only in what they do once a model loads.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"
#include "service/model_pool.h"

namespace lathe::service {

struct ServedModel {
  std::string arn;             // the custom model ARN, or the foundation model ARN
  std::string dir;             // a custom model's folder; "" = a foundation model, through the catalog
  std::string local_id;        // the catalog's id of a foundation model
  std::string foundation_arn;  // the base model's ARN
};

// A custom model (ARN, name or id) or a foundation model id; NotFound names what was looked for.
Result<ServedModel> FindServedModel(ModelCatalog* catalog, CustomModelService* custom_models,
                                    const std::string& model_id, const std::string& region);
// The model's share of the budget for `slots` slots, taken before anything loads
// (QuotaExceeded when it does not fit).
// `precisions`: ServiceConfig::weight_precision, which says how the model's weights are held.
Result<std::shared_ptr<ModelMemory::Reservation>> ReserveServedModel(ModelCatalog* catalog, ModelMemory* memory,
                                                                     const ServedModel& model, int slots,
                                                                     const std::map<std::string, std::string>& precisions);
// The precision "weightPrecision" gives the first of `names` it lists (a custom model's ARN, a
// foundation model id), else its "*" entry, else f32. The values were checked with the config.
engine::WeightPrecision WeightPrecisionFor(const std::map<std::string, std::string>& precisions,
                                           std::initializer_list<std::string> names);
// Loads the pool (building the built-in default model first if it is one that was never built).
Result<std::shared_ptr<ModelPool>> LoadServedModel(ModelCatalog* catalog, ModelMemory* memory, const ServedModel& model,
                                                   const std::shared_ptr<ModelMemory::Reservation>& reservation,
                                                   int queue_limit);

// Threads that load models. Finished threads are joined by the next Run (or running()); the
// destructor joins them all, so declare it after every member the threads use.
class LoaderThreads {
 public:
  LoaderThreads() = default;
  LoaderThreads(const LoaderThreads&) = delete;
  LoaderThreads& operator=(const LoaderThreads&) = delete;
  ~LoaderThreads();
  void Run(std::function<void()> work);
  size_t running();  // not yet joined
  void JoinAll();

 private:
  struct Loader {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set once the work has returned
  };
  void JoinFinishedLocked();
  std::mutex mu_;
  std::list<Loader> loaders_;
};

}  // namespace lathe::service
