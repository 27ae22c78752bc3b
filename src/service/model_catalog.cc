#include "service/model_catalog.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "core/arn.h"
#include "engine/default_model.h"
#include "engine/hyperparameters.h"

namespace lathe::service {
namespace {

// What the tutorials' model ids are called on Bedrock, so listings read naturally.
std::pair<std::string, std::string> BrandOf(const std::string& id) {
  if (id == kDefaultModelId) return {"lathe default (1M-parameter Llama built on this machine)", "lathe"};
  const std::string provider = id.substr(0, id.find('.'));
  if (provider == "amazon") return {id, "Amazon"};
  if (provider == "anthropic") return {id, "Anthropic"};
  if (provider == "meta") return {id, "Meta"};
  if (provider == "cohere") return {id, "Cohere"};
  return {id, provider};
}

}  // namespace

ModelCatalog::ModelCatalog(const ServiceConfig& config) : config_(config) {}

ModelCatalog::~ModelCatalog() {
  stopping_ = true;  // a build stops at its next step (it resumes at the next start)
  std::thread build;
  {
    std::lock_guard<std::mutex> lock(background_mu_);
    build = std::move(background_build_);
  }
  if (build.joinable()) build.join();  // without the lock: the build's progress takes it
}

std::vector<FoundationModel> ModelCatalog::List() const {
  std::vector<FoundationModel> out;
  auto add = [&](const std::string& id, const std::string& local) {
    auto [name, provider] = BrandOf(id);
    if (local != id) name += " (served by " + local + ")";
    out.push_back({id, name, provider, local});
  };
  if (!config_.models.count(kDefaultModelId)) add(kDefaultModelId, kDefaultModelId);
  for (const auto& [id, dir] : config_.models) add(id, id);
  for (const auto& [id, local] : config_.model_aliases) add(id, local);
  return out;
}

Result<FoundationModel> ModelCatalog::Find(const std::string& id_or_arn) const {
  std::string id = id_or_arn;
  const std::string resource = ArnResource(id_or_arn);
  if (resource.rfind("foundation-model/", 0) == 0) id = resource.substr(17);
  for (auto& m : List())
    if (m.id == id) return m;
  return Status::NotFound("The model " + id_or_arn + " is not a foundation model this server knows; "
                          "`aws bedrock list-foundation-models` lists them, and modelAliases in the "
                          "server's config maps more ids to local models");
}

std::string ModelCatalog::Arn(const std::string& id, const std::string& region) const {
  return MakeArn("bedrock", InRegion(config_.scope, region).region, "", "foundation-model/" + id);
}

Result<std::string> ModelCatalog::ModelDir(const std::string& local_id) {
  if (auto it = config_.models.find(local_id); it != config_.models.end()) return it->second;
  if (local_id != kDefaultModelId)
    return Status::NotFound("no local model " + local_id + " (modelAliases must name a model in \"models\")");
  // One build at a time; a caller waiting for it gives up when the server stops.
  std::unique_lock<std::mutex> lock(build_mu_, std::defer_lock);
  while (!lock.try_lock()) {
    if (stopping_) return Status::Unsupported("the server is stopping; the default model's build resumes at the next start");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  engine::DefaultModelOptions o;
  o.data_dir = config_.data_dir;
  if (config_.default_max_train_records > 0) o.max_train_records = static_cast<uint64_t>(config_.default_max_train_records);
  o.stop = &stopping_;
  std::string logged_stage;
  int logged_tenth = -1;
  o.progress = [&](const engine::DefaultModelProgress& p) {
    const int tenth = static_cast<int>(p.fraction * 10);
    if (p.stage != logged_stage || tenth != logged_tenth) {  // the log: each stage, each tenth of it
      spdlog::info("building the default model: {} {}% {}", p.stage, tenth * 10, p.detail);
      logged_stage = p.stage;
      logged_tenth = tenth;
    }
    std::lock_guard<std::mutex> lock(background_mu_);
    progress_ = p;
  };
  auto built = engine::EnsureDefaultModel(o);
  if (built.ok() && built->built_now)
    spdlog::info("the default model is built: {} (held-out perplexity {:.1f})", built->dir, built->heldout_perplexity);
  if (!built.ok()) return built.status();
  return built->dir;
}

Result<PlannedModel> ModelCatalog::Plan(const std::string& local_id) const {
  PlannedModel plan;
  if (auto it = config_.models.find(local_id); it != config_.models.end()) {
    plan.dir = it->second;
  } else if (local_id == kDefaultModelId) {
    plan.dir = engine::DefaultModelDir(config_.data_dir);
    if (engine::BuiltDefaultModelDir(config_.data_dir).empty()) {
      plan.config = engine::DefaultModelConfig();
      return plan;
    }
  } else {
    return Status::NotFound("no local model " + local_id + " (modelAliases must name a model in \"models\")");
  }
  auto config = engine::LoadModelConfig(plan.dir + "/config.json");
  if (!config.ok()) return config.status();
  plan.config = std::move(*config);
  return plan;
}

Result<std::string> ModelCatalog::ReadyModelDir(const std::string& local_id) {
  if (local_id != kDefaultModelId || config_.models.count(local_id)) return ModelDir(local_id);
  std::lock_guard<std::mutex> lock(background_mu_);
  if (built_dir_.empty()) built_dir_ = engine::BuiltDefaultModelDir(config_.data_dir);
  if (!built_dir_.empty()) return built_dir_;
  if (background_done_) {  // the last build ended: report a failure once, and let the next call retry
    background_build_.join();
    background_done_ = false;
    if (!background_status_.ok()) return background_status_;
  }
  LaunchBackgroundBuildLocked();
  std::string how_far = "starting";
  if (!progress_.stage.empty()) how_far = progress_.stage + " " + std::to_string(static_cast<int>(progress_.fraction * 100)) + "%";
  std::string left = "a few minutes";
  if (progress_.eta_seconds >= 0) left = "about " + std::to_string(static_cast<long long>(progress_.eta_seconds) + 1) + " s";
  return Status::Throttled("The built-in default model is being built on this machine (once): " + how_far + ", " + left +
                           " left; retry then (`lathe models status` shows progress)");
}

void ModelCatalog::StartBuildingDefault() {
  if (config_.models.count(kDefaultModelId)) return;
  std::lock_guard<std::mutex> lock(background_mu_);
  if (built_dir_.empty()) built_dir_ = engine::BuiltDefaultModelDir(config_.data_dir);
  if (built_dir_.empty()) LaunchBackgroundBuildLocked();
}

void ModelCatalog::LaunchBackgroundBuildLocked() {
  if (background_build_.joinable()) return;
  background_build_ = std::thread([this] {
    auto dir = ModelDir(kDefaultModelId);  // returns at once when the model is already built
    if (!dir.ok() && stopping_) spdlog::info("building the default model stopped; the next start resumes it");
    else if (!dir.ok()) spdlog::error("building the default model failed: {}", dir.status().message());
    std::lock_guard<std::mutex> lock(background_mu_);
    background_status_ = dir.status();
    if (dir.ok()) built_dir_ = *dir;
    background_done_ = true;
  });
}

nlohmann::json ModelCatalog::Describe(const FoundationModel& m, const std::string& region) const {
  nlohmann::json hp = nlohmann::json::array();
  for (const auto& s : engine::DefaultHyperparameterSpecs()) {
    nlohmann::json h = {{"name", s.name}, {"default", s.default_value}, {"description", s.description}};
    if (s.type == engine::HyperparameterType::kChoice) {
      h["type"] = "choice";
      h["choices"] = s.choices;
    } else {
      h["type"] = s.type == engine::HyperparameterType::kInt ? "int" : "float";
      h["min"] = s.min;
      h["max"] = s.max;
    }
    hp.push_back(h);
  }
  return {{"modelArn", Arn(m.id, region)},
          {"modelId", m.id},
          {"modelName", m.name},
          {"providerName", m.provider},
          {"inputModalities", {"TEXT"}},
          {"outputModalities", {"TEXT"}},
          {"responseStreamingSupported", true},  // InvokeModelWithResponseStream, ConverseStream
          {"customizationsSupported", {"FINE_TUNING", "CONTINUED_PRE_TRAINING"}},
          {"inferenceTypesSupported", {"ON_DEMAND", "PROVISIONED"}},
          {"modelLifecycle", {{"status", "ACTIVE"}}},
          {"hyperParameters", hp}};  // lathe's addition: the ranges CreateModelCustomizationJob accepts
}

}  // namespace lathe::service
