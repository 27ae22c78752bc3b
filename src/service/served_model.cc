#include "service/served_model.h"

#include "core/arn.h"

namespace lathe::service {

Result<ServedModel> FindServedModel(ModelCatalog* catalog, CustomModelService* custom_models,
                                    const std::string& model_id, const std::string& region) {
  if (auto cm = custom_models->FindServable(model_id); cm.ok()) {
    auto fm = catalog->Find(cm->doc.value("baseModelName", ""));
    return ServedModel{cm->arn, cm->doc.value("_dir", ""), "",
                       fm.ok() ? catalog->Arn(fm->id, region) : cm->doc.value("baseModelArn", "")};
  }
  if (auto fm = catalog->Find(model_id); fm.ok())
    return ServedModel{catalog->Arn(fm->id, region), "", fm->local_id, catalog->Arn(fm->id, region)};
  return Status::NotFound("The model " + model_id + " was not found (a custom model ARN or name, or a foundation model id)");
}

engine::WeightPrecision WeightPrecisionFor(const std::map<std::string, std::string>& precisions,
                                           std::initializer_list<std::string> names) {
  auto parsed = [](const std::string& value) {
    auto p = engine::ParseWeightPrecision(value);
    return p.ok() ? *p : engine::WeightPrecision::kF32;
  };
  for (const std::string& name : names)
    if (auto it = precisions.find(name); !name.empty() && it != precisions.end()) return parsed(it->second);
  if (auto it = precisions.find("*"); it != precisions.end()) return parsed(it->second);
  return engine::WeightPrecision::kF32;
}

Result<std::shared_ptr<ModelMemory::Reservation>> ReserveServedModel(ModelCatalog* catalog, ModelMemory* memory,
                                                                     const ServedModel& model, int slots,
                                                                     const std::map<std::string, std::string>& precisions) {
  PlannedModel plan;
  if (!model.dir.empty()) {
    plan.dir = model.dir;
    auto config = ReadModelConfig(model.dir);
    if (!config.ok()) return config.status();
    plan.config = std::move(*config);
  } else {
    auto planned = catalog->Plan(model.local_id);
    if (!planned.ok()) return planned.status();
    plan = std::move(*planned);
  }
  // A foundation model's id (an alias, maybe) is its ARN's resource: looked up before the local
  // model behind it, as on-demand invocations look it up.
  std::string foundation_id;
  if (model.dir.empty() && ArnResource(model.arn).rfind("foundation-model/", 0) == 0)
    foundation_id = ArnResource(model.arn).substr(std::string("foundation-model/").size());
  return memory->Reserve(plan.dir, plan.config, slots,
                         WeightPrecisionFor(precisions, {model.arn, foundation_id, model.local_id}));
}

Result<std::shared_ptr<ModelPool>> LoadServedModel(ModelCatalog* catalog, ModelMemory* memory, const ServedModel& model,
                                                   const std::shared_ptr<ModelMemory::Reservation>& reservation,
                                                   int queue_limit) {
  if (model.dir.empty())
    if (auto built = catalog->ModelDir(model.local_id); !built.ok()) return built.status();  // builds the default once
  return memory->LoadPool(reservation, queue_limit);
}

LoaderThreads::~LoaderThreads() { JoinAll(); }

void LoaderThreads::JoinAll() {
  std::list<Loader> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(loaders_);
  }
  for (auto& l : all) l.thread.join();
}

void LoaderThreads::JoinFinishedLocked() {
  for (auto it = loaders_.begin(); it != loaders_.end();) {
    if (!it->done->load()) {
      ++it;
      continue;
    }
    it->thread.join();  // its work has returned: joining cannot wait on anything
    it = loaders_.erase(it);
  }
}

void LoaderThreads::Run(std::function<void()> work) {
  std::lock_guard<std::mutex> lock(mu_);
  JoinFinishedLocked();
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([work = std::move(work), done]() mutable {
    work();
    work = nullptr;  // what the work captured (a memory reservation) goes now
    done->store(true);
  });
  loaders_.push_back({std::move(thread), std::move(done)});
}

size_t LoaderThreads::running() {
  std::lock_guard<std::mutex> lock(mu_);
  JoinFinishedLocked();
  return loaders_.size();
}

}  // namespace lathe::service
