// Custom model deployments: Bedrock's CreateCustomModelDeployment / Get / List / Update / Delete.
// A deployment keeps a model loaded on demand-style slots under a name and an ARN
// (arn:aws:bedrock:<region>:<account>:custom-model-deployment/<12 chars>) that InvokeModel and
// Converse take as modelId. Create answers at once with status Creating; the model loads in the
// background and the status turns Active (or Failed with failureMessage). Update swaps the model
// (updateDetails.updateStatus Updating -> UpdateCompleted | UpdateFailed) without dropping a request.
//
// lathe extensions (docs/compatibility.md):
// - modelArn may be a registry reference (model_reference.h). A deployment on an alias follows
//   it: a follower thread resolves every alias-following deployment (and provisioned throughput)
//   every kFollowIntervalMs; when the alias points elsewhere, the new version loads in the
//   background and, once loaded, replaces the old one in one pointer swap. A request holds the
//   routing it started with to its end: every answer comes whole from the old or the new
//   version, and none fails because of the move.
// - A traffic split (deployment_traffic.h) sends a share to a challenger; a rollback policy
//   watches the challenger (or the canary an alias move makes) and takes it away when unhealthy:
//   the alias moves back from the canary to the champion (AliasRollback, compare and set) and the
//   event "Deployment Rolled Back" (source "lathe.deployments", detail {deploymentArn,
//   deploymentName, reference, from, to, reason, window}) is published in the outbox, so an
//   EventBridge rule can send it to SNS; when the alias cannot be moved back, "Deployment
//   Rollback Failed" (the same detail and "error"). Either way the bad version stops serving
//   and is not loaded again until the alias moves on.
// - Each routed response says which variant and served model answered, and has a response id
//   that feedback names (deployment_stats.h).
//
// Rows: kind "custom-model-deployment" (name unique); the doc holds Bedrock's fields and
// "traffic", "rollbackPolicy", "_serving" {champion, championModelArn, challenger: {served, modelArn},
// canaryUntilMs}, "rollbacks" (the newest 20), "lastInvokedMs" (updated at most once per flush),
// "revision". modelArn is the reference as given (a custom model ARN or a registry reference);
// the model a registry reference resolves to is in "_serving".
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/deployment_stats.h"
#include "service/deployment_traffic.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"
#include "service/model_pool.h"
#include "service/model_reference.h"
#include "service/served_model.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

class ThroughputService;

inline constexpr const char* kDeploymentKind = "custom-model-deployment";
inline constexpr int64_t kFollowIntervalMs = 250;
inline constexpr size_t kMaxDeployments = 100;  // per server (each keeps a model loaded)

// NotFound naming the identifier (cut to 128 bytes): what every operation answers for an unknown one.
Status DeploymentNotFound(const std::string& identifier);

class DeploymentService {
 public:
  DeploymentService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                    CustomModelService* custom_models, ModelMemory* memory);
  ~DeploymentService();  // stops the follower, joins loaders, flushes the stats

  // Wiring, before Start(). Without a resolver, registry references are refused (InvalidArgument).
  void set_resolver(ModelResolver resolver);
  void set_alias_rollback(AliasRollback rollback);
  // Provisioned throughputs created on an alias are followed by the same thread.
  void set_throughput(ThroughputService* throughput);
  // Loads every deployment left by an earlier run, then starts the follower thread.
  void Start();
  void Stop();

  // Bedrock's operations; requests checked against botocore's shapes (request_fields.h).
  // `region`: the request's, for the ARN minted ("" = the server's).
  Result<nlohmann::json> Create(const nlohmann::json& request, const std::string& region = "");
  Result<nlohmann::json> Get(const std::string& identifier);
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  Result<nlohmann::json> Update(const std::string& identifier, const nlohmann::json& request);
  Status Delete(const std::string& identifier);

  // Whether a deployment serves (or is loading) this custom model ARN: DeleteCustomModel's and
  // cleanup's in-use check.
  bool Serves(const std::string& model_arn);

  // What one request runs on. NotFound when `identifier` is not a deployment's ARN, id or name
  // (the runtime then tries its other kinds); Throttled (ModelNotReadyException) while Creating.
  struct Routed {
    std::shared_ptr<ModelPool> pool;
    std::string deployment_id, deployment_arn;
    Variant variant = Variant::kChampion;
    std::string served;     // "<group>/<version>" or the model ARN
    std::string model_arn;  // what serves it
  };
  // user_id: the caller's sticky-routing key ("" = none; longer than kMaxUserIdBytes: InvalidArgument).
  Result<Routed> Route(const std::string& identifier, const std::string& user_id);
  // Counts a routed request's outcome; returns its response id.
  std::string Record(const Routed& routed, Outcome outcome);

  // lathe's extension operations (the wire: services/bedrock; the CLI: `lathe deployments`).
  // {"challengerModelArn", "challengerWeight", "sticky", "rollbackPolicy"}: each member optional;
  // a challenger "" removes it. The challenger loads before it takes traffic.
  Result<nlohmann::json> SetTraffic(const std::string& identifier, const nlohmann::json& request);
  // {"responseId", "rating", "score", "comment"}.
  Status AddFeedback(const nlohmann::json& request);
  // {"deploymentArn", "deploymentName", "modelArn", "variants": [{"variant", "served",
  //   "window": {...}, "total": {...}, "lastRequestTime"}], "windowSeconds", "rollbacks": [...]}
  Result<nlohmann::json> Stats(const std::string& identifier, int64_t window_ms);

  // One follower step, for tests (the thread calls it every kFollowIntervalMs): resolve aliases,
  // start loads, swap loaded ones in, judge challengers, flush stats.
  void FollowOnce();
  DeploymentStats& stats() { return stats_; }
  // Test seam: the clock rollback windows and canaries read (default: NowMillis).
  void set_clock(std::function<int64_t()> now);

 private:
  // One served model of a deployment.
  struct Served {
    std::shared_ptr<ModelPool> pool;
    std::string served, model_arn;  // served: "<group>/<version>" or the model ARN
  };
  // What requests route to: immutable once published; a request keeps the one it started with.
  struct Snapshot {
    Served champion, challenger;  // challenger.pool null: none
    TrafficSplit split;
  };
  // What a deployment should serve: a resolved reference.
  struct Want {
    std::string reference, model_arn, served;  // reference: "" for none (no challenger)
    bool follows = false;
    std::string regression;  // ResolvedModel::regression of an alias's holder (not part of ==)
    bool operator==(const Want& o) const { return model_arn == o.model_arn && served == o.served; }
  };
  struct Entry {
    std::string id, arn, name;
    std::shared_ptr<const Snapshot> live;  // null until the first load
    Want champion, challenger;             // what the newest Create/Update/SetTraffic/alias move asked for
    TrafficSplit split;
    RollbackPolicy policy;
    int64_t canary_until_ms = 0;  // > 0: the challenger is an alias move under watch
    bool canary = false;          // the challenger is an alias move under watch (rollbackPolicy)
    std::string follow_error;     // the last failed load of an alias move (logged once)
    std::string failed_served;    // and what it tried to load: not tried again until the alias moves on
    int64_t saved_last_invoked_ms = 0;
  };
  enum class Role { kChampion, kChallenger };

  // A reference (model_reference.h or a custom model) resolved to what serves it.
  Result<Want> Resolve(const std::string& reference);
  // The model's files found and its share of the memory budget taken (QuotaExceeded when it does
  // not fit): before anything is recorded, so Create and Update can refuse at once.
  struct Prepared {
    ServedModel model;
    std::shared_ptr<ModelMemory::Reservation> reservation;
  };
  Result<Prepared> Prepare(const Want& want, const std::string& region);
  // Loads on a loader thread, then Install: kept only if it is still what the entry wants.
  void Launch(const std::string& id, Role role, const Want& want, Prepared prepared);
  // Start's load of a challenger (or a canary) it found in the row; on a refusal it goes.
  void LaunchChallengerAtStart(const Entry& e, const Want& challenger, const std::string& arn);
  void Install(const std::string& id, Role role, const Want& want, Result<std::shared_ptr<ModelPool>> loaded);
  // Under mu_: publishes a new snapshot built from the entry's live one.
  void Publish(Entry& e, std::shared_ptr<Snapshot> next);
  // Under mu_: the challenger (a canary or a fixed one) goes: its Want, the canary watch, its
  // traffic (a canary's split is the policy's and goes whole; a fixed challenger keeps its name
  // with weight 0, SetTraffic gives it traffic again), and a snapshot without it is published.
  void ClearChallengerLocked(Entry& e);
  // Under mu_: rewrites the row's "_serving", "traffic", "rollbackPolicy" from the entry.
  void SaveServingLocked(const Entry& e, store::ResourceRow* row);
  Entry* FindEntryLocked(const std::string& identifier);
  // The follower's steps.
  void FollowAlias(const std::string& id);
  void JudgeChallenger(const std::string& id, int64_t now);
  void RollBack(const std::string& id, const std::string& reason, int64_t now);
  void Run();  // the follower thread
  int64_t Now() const { return clock_(); }

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  ModelMemory* memory_;
  ThroughputService* throughput_ = nullptr;
  ModelResolver resolver_;
  AliasRollback alias_rollback_;
  DeploymentStats stats_;
  std::function<int64_t()> clock_;

  std::mutex mu_;  // entries_, keys_, the rows' writes
  std::map<std::string, Entry> entries_;      // by id
  std::map<std::string, std::string> keys_;  // ARN, id and name -> id
  std::mutex step_mu_;  // one FollowOnce at a time (the thread's and a test's)
  int64_t last_flush_ms_ = 0;

  std::mutex follow_mu_;
  std::condition_variable follow_cv_;
  bool stopping_ = false;
  std::thread follower_;
  LoaderThreads loaders_;  // last: joined before the members its threads use go
};

}  // namespace lathe::service
