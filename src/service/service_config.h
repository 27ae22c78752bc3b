// How `lathe serve` is set up: where its data lives, what its ARNs say, which local models stand
// behind Bedrock's model ids, and its limits. Read from a JSON file (docs/serve.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/arn.h"
#include "core/env.h"
#include "core/status.h"
#include "data/estimate.h"
#include "service/external_buckets.h"
#include "store/work_leases.h"
#include "service/retention_policy.h"

namespace lathe::service {

// The default memory budget for loaded models (modelMemoryBytes): a quarter of the machine's
// physical memory (4 GiB where that cannot be read), leaving the rest to training workers, the
// page cache and everything else on the machine.
int64_t DefaultModelMemoryBytes();

// The built-in default model's foundation-model id.
inline constexpr const char* kDefaultModelId = "lathe.default-v1";

struct ServiceConfig {
  std::string data_dir;  // lathe.db, jobs/, custom-models/, models/lathe-default, files/
  // Where the metadata store lives: "" = DATA_DIR/lathe.db (SQLite); a postgresql:// URL = a
  // PostgreSQL database several nodes share ("store", `--store`; docs/scale-out.md).
  std::string store_url;
  // lathe serve answers unsigned GET /metrics for Prometheus ("metrics"; docs/scale-out.md).
  bool metrics = true;
  // The folders whose files jobs may read and write outputs into (file:// URIs; symlinks are
  // resolved first). `lathe serve` defaults: DATA_DIR/files and the folder it was started in.
  std::vector<std::string> file_roots;
  ArnScope scope;
  // Local foundation models besides the built-in default: model id ("provider.name") -> model
  // directory.
  std::map<std::string, std::string> models;
  // Bedrock model ids users bring (the tutorials') -> a local model id. Defaults: see
  // DefaultModelAliases().
  std::map<std::string, std::string> model_aliases;
  std::string worker_binary;      // the `lathe` executable training runs in (default: this one)
  int worker_nice = 10;           // training runs at a lower CPU priority than the API
  int on_demand_slots = 1;        // concurrent generations per on-demand model
  int queue_per_slot = 8;         // waiting requests per slot before ThrottlingException
  // A model's slots share forward passes ("continuousBatching", docs/performance.md): one
  // scheduler thread per pool advances all its requests a token per step. false: each slot
  // generates alone.
  bool continuous_batching = true;
  int max_active_jobs = 20;       // InProgress jobs (running + queued) before ServiceQuotaExceeded
  // How served models hold their weights ("weightPrecision"): a custom model's ARN or a foundation
  // model id (or "*" for every other model) -> "f32", "bf16" or "q8_0" (docs/performance.md).
  std::map<std::string, std::string> weight_precision;
  // Memory that served models may take together (weights once per model, KV caches per slot);
  // more is refused with ServiceQuotaExceeded. See ModelMemory.
  int64_t model_memory_bytes = DefaultModelMemoryBytes();
  // The most bytes one model import (CreateModelImportJob, `lathe models add`) copies into the
  // data directory: the folder's config, tokenizer and weights together ("maxImportBytes").
  int64_t max_import_bytes = int64_t{32} << 30;
  // A job whose roleArn names no IAM role is refused (as AWS refuses it) instead of accepted.
  bool strict_roles = false;
  // Where lathe knowingly accepts what AWS refuses (docs/compatibility.md: the automation
  // tutorial's {"prefix", "suffix"} event pattern), refuse it as AWS does.
  bool strict_aws_compatibility = false;
  // Regions a request may be signed for; empty: any well-formed region (docs/compatibility.md).
  std::vector<std::string> allowed_regions;
  // SNS's email: an SMTP relay (smtpRelay: {url, from, username, password}); url "" = none, the
  // messages go to DATA_DIR/notifications/outbox only (they always go there too).
  struct SmtpRelay {
    std::string url, from, username, password;
  } smtp_relay;
  // How subscribers reach this server (publicUrl): the base of SNS's SubscribeURL,
  // UnsubscribeURL and SigningCertURL. "" = http://<listen address>.
  std::string public_url;
  // Step Functions: Wait states wait this many times their stated time (waitTimeScale), like Step
  // Functions Local's option, so that the tutorial's 300-second poll can run in seconds in tests
  // and demos. 1.0 = as written; 0 = not at all.
  double wait_time_scale = 1.0;
  // Bedrock's prices, what `lathe costs` shows lathe's work would have cost there ("prices", the
  // format of docs/prices.example.json); default: lathe's built-in table.
  data::PriceTable prices = data::DefaultPriceTable();
  // Buckets in another S3-compatible service ("externalBuckets"): jobs read and write them there,
  // not in lathe's own store. Empty: every bucket is lathe's.
  std::map<std::string, ExternalBucket> external_buckets;
  // Where fine-tuning jobs run (docs/scale-out.md). kHere: this process's runner (the default).
  // kWorkers ("runJobsOn": "workers"): queued in the shared store for `lathe worker`s to claim,
  // so that an API node never trains. kWorker: this process is a `lathe worker`.
  enum class JobPlacement { kHere, kWorkers, kWorker };
  JobPlacement job_placement = JobPlacement::kHere;
  // The bucket where workers keep jobs' latest checkpoints and the models they make, so that
  // another worker resumes a job and every node serves its model ("artifactBucket").
  std::string artifact_bucket = "lathe-artifacts";
  // How long a worker's claim on a job lasts without a heartbeat ("leaseSeconds", 5 to 3600): how
  // soon another worker takes over the job of one that died.
  int lease_seconds = 30;
  // A worker's (kWorker) name in the store's leases and `lathe status`, and what it offers.
  std::string worker_id;
  store::Capacity worker_capacity;
  // What the periodic cleanup deletes ("retention"; services/cleanup): off unless configured.
  RetentionPolicy retention;
  int default_max_train_records = 0;  // building the default model: 0 = its standard size
  // Build the default model at start-up when it is missing (`lathe serve`; `--default-build
  // first-use` turns it off: then the first request that needs it starts the build).
  bool build_default_at_start = false;
  Env* env = Env::Default();          // the job runner's file I/O (tests inject faults here)
};

// amazon.titan-text-express-v1, amazon.titan-text-lite-v1,
// anthropic.claude-3-haiku-20240307-v1:0, meta.llama2-13b-v1, cohere.command-light-text-v14
// -> lathe.default-v1.
std::map<std::string, std::string> DefaultModelAliases();

// Bounds on "fileRoots": folders in the list, and characters in one.
inline constexpr size_t kMaxFileRoots = 64;
inline constexpr size_t kMaxFileRootLength = 4096;

// Defaults, then the file's keys (any missing key keeps its default): {"region", "account",
// "models", "modelAliases", "onDemandSlots", "queuePerSlot", "workerNice", "maxActiveJobs",
// "fileRoots", "modelMemoryBytes", "maxImportBytes", "weightPrecision", "continuousBatching", "strictRoles", "allowedRegions", "strictAwsCompatibility", "waitTimeScale", "prices", "retention", "externalBuckets", "runJobsOn", "artifactBucket", "leaseSeconds", "metrics"}. Unknown keys and wrong types are errors naming the file and the key.
Result<ServiceConfig> LoadServiceConfig(const std::string& path, ServiceConfig defaults);

}  // namespace lathe::service
