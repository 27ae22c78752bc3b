// `lathe worker`: claims fine-tuning and evaluation jobs and Lambda functions' invocations from a
// shared PostgreSQL store and runs them, on any machine (docs/scale-out.md). API nodes configured
// with "runJobsOn": "workers" queue them; this process holds a lease on what it runs, uploads a
// job's checkpoints and model to the artifact bucket, and gives work back when stopped
// (SIGINT/SIGTERM) so another worker resumes it.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "cli/commands.h"
#include "cli/node_config.h"
#include "core/metrics.h"
#include "http/metrics_endpoint.h"
#include "server/credentials.h"
#include "server/external_job_objects.h"
#include "service/bedrock_service.h"
#include "service/node_heartbeat.h"
#include "services/iam/role_access.h"
#include "services/lambda/worker_invocations.h"
#include "store/nodes.h"

namespace lathe::cli {
namespace {

constexpr size_t kMaxWorkerIdLength = 128;
constexpr size_t kMaxEndpointLength = 1024;

// The object store's keys: AWS's environment variables (as every S3 client reads them), else the
// API node's key pair as `lathe serve` finds it (server/credentials.h: the shared config file's
// accessKeyId/secretAccessKey, LATHE_ACCESS_KEY_ID/LATHE_SECRET_ACCESS_KEY, a credentials.json in
// the data dir), read only: a worker never makes keys of its own.
Result<api::Credentials> ObjectStoreKeys(const std::string& data_dir, const std::string& config_path) {
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (id && secret && *id && *secret) return api::Credentials{id, secret};
  auto found = server::LoadCredentials(data_dir, config_path);
  if (found.ok()) return found->credentials;
  if (found.status().code() != Status::Code::kNotFound) return found.status();
  return Status::InvalidArgument(
      "--object-store needs keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the API node's keys, which "
      "`lathe serve` prints), or accessKeyId/secretAccessKey in --config");
}

Status CheckEndpoint(const std::string& url) {
  if (url.size() > kMaxEndpointLength || (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0))
    return Status::InvalidArgument("--object-store: expected the http:// or https:// URL of an S3 service (at most 1024 "
                                   "characters), e.g. the API node's http://10.0.0.1:8080");
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) return Status::InvalidArgument("--object-store: the URL has a space or control character");
  return Status::Ok();
}

std::string DefaultWorkerId() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "worker");
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace

void AddWorkerCommand(CLI::App* app, Context* ctx) {
  struct Args {
    std::string data_dir, config, store, object_store, id, ca_bundle, metrics_listen;
    int64_t cpus = std::max(1u, std::thread::hardware_concurrency());
    int64_t gpus = 0;
    int64_t memory_bytes = service::DefaultModelMemoryBytes() * 2;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "worker",
      "Claim fine-tuning and evaluation jobs and function invocations from a shared PostgreSQL store and run them "
      "(scale-out; docs/scale-out.md)");
  cmd->footer(
      "API nodes (`lathe serve` with \"runJobsOn\": \"workers\" in their config) queue jobs and Lambda\n"
      "invocations (their code comes from the artifact bucket); any number of\n"
      "workers, on any machines, claim them with leases. A worker that dies loses its lease and another\n"
      "resumes its job from the last checkpoint, which lives in the artifact bucket (\"artifactBucket\",\n"
      "default lathe-artifacts), with the models the jobs make. Stop it with SIGINT/SIGTERM: its job goes\n"
      "back to the queue.\n\n"
      "Example:\n"
      "  export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...   # the API node's keys\n"
      "  lathe worker --store 'postgresql://lathe@db/lathe' --object-store http://10.0.0.1:8080 \\\n"
      "               --config lathe.json --data-dir /var/lib/lathe-worker");
  cmd->add_option("--store", a->store, "The shared store: a postgresql:// URL (or the config's \"store\")");
  cmd->add_option("--object-store", a->object_store,
                  "The S3 service holding the buckets (jobs' data and outputs, the artifact bucket) that the\n"
                  "config's externalBuckets do not place elsewhere: usually the API node's URL")
      ->required();
  cmd->add_option("--ca-bundle", a->ca_bundle, "A PEM file trusted for an https:// --object-store")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data-dir", a->data_dir,
                  "This worker's scratch: jobs' local files, the built-in default model (default: $LATHE_HOME or\n"
                  "~/.local/share/lathe; not an API node's)");
  cmd->add_option("--config", a->config, "The JSON config the API nodes use (models, region, account, externalBuckets,\n"
                                         "artifactBucket, leaseSeconds; docs/serve.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--metrics-listen", a->metrics_listen,
                  "Serve Prometheus metrics at http://HOST:PORT/metrics (docs/scale-out.md, Operations)");
  cmd->add_option("--id", a->id, "This worker's name in leases and `lathe status` (default: HOST-PID)");
  cmd->add_option("--cpus", a->cpus, "CPUs offered: a job needs one per training process (its `workers`); as many function\n"
                                 "invocations run at once (at most 8)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  cmd->add_option("--gpus", a->gpus, "GPUs offered")->check(CLI::Range(int64_t{0}, int64_t{1024}))->capture_default_str();
  cmd->add_option("--memory", a->memory_bytes, "Bytes of memory offered")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50))
      ->capture_default_str();
  cmd->callback([a, ctx] {
    auto loaded = LoadNodeConfig(a->data_dir, a->config, a->store);
    if (!loaded.ok()) {
      ctx->exit_code = ReportError(loaded.status());
      return;
    }
    service::ServiceConfig config = std::move(*loaded);
    if (config.store_url.empty()) {
      ctx->exit_code = ReportError(Status::InvalidArgument(
          "lathe worker needs the API nodes' shared store: --store postgresql://... (or \"store\" in --config)"));
      return;
    }
    if (Status s = CheckEndpoint(a->object_store); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    config.job_placement = service::ServiceConfig::JobPlacement::kWorker;
    config.worker_id = a->id.empty() ? DefaultWorkerId() : a->id;
    if (config.worker_id.size() > kMaxWorkerIdLength ||
        config.worker_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
            std::string::npos) {
      ctx->exit_code = ReportError(Status::InvalidArgument("--id: 1 to 128 letters, digits, '.', '-', '_'"));
      return;
    }
    config.worker_capacity = {a->cpus, a->gpus, a->memory_bytes};
    std::string metrics_host = "127.0.0.1";
    int metrics_port = 0;
    if (!a->metrics_listen.empty() && !ParseListen(a->metrics_listen, &metrics_host, &metrics_port)) {
      ctx->exit_code = ReportError(Status::InvalidArgument("--metrics-listen: expected HOST:PORT, got " + a->metrics_listen));
      return;
    }
    auto keys = ObjectStoreKeys(config.data_dir, a->config);
    if (!keys.ok()) {
      ctx->exit_code = ReportError(keys.status());
      return;
    }
    aws::S3Endpoint endpoint;
    endpoint.url = a->object_store;
    while (!endpoint.url.empty() && endpoint.url.back() == '/') endpoint.url.pop_back();
    endpoint.region = config.scope.region;
    endpoint.credentials = *keys;
    endpoint.ca_bundle = a->ca_bundle;
    endpoint.unreachable_hint = "is the API node (lathe serve) running there?";
    auto objects = server::WithExternalBuckets(std::make_unique<server::RemoteJobObjectStore>(endpoint),
                                               config.external_buckets);
    if (Status s = objects->CheckBucket(config.scope.account, config.artifact_bucket); !s.ok()) {
      ctx->exit_code = ReportError(Status::InvalidArgument(
          "the artifact bucket " + config.artifact_bucket + " (config \"artifactBucket\") cannot be used: " + s.message() +
          "; create it once: aws s3 mb s3://" + config.artifact_bucket + " --endpoint-url " + endpoint.url));
      return;
    }
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    spdlog::set_default_logger(spdlog::stderr_color_mt("worker"));
    std::unique_ptr<iam::IamBackend> roles;  // outlives the service, whose jobs ask it
    auto service = service::BedrockService::Open(config, /*start=*/false);
    if (!service.ok()) {
      ctx->exit_code = ReportError(service.status());
      return;
    }
    // Prometheus' scrape (the same families as lathe serve's: jobs' durations and tokens).
    std::unique_ptr<http::MetricsEndpoint> metrics_endpoint;
    std::string metrics_url;
    if (!a->metrics_listen.empty()) {
      auto started = http::StartMetricsEndpoint(metrics_host, metrics_port, &metrics::DefaultRegistry());
      if (!started.ok()) {
        ctx->exit_code = ReportError(started.status());
        return;
      }
      metrics_endpoint = std::move(*started);
      metrics_url = "http://" + metrics_host + ":" + std::to_string(metrics_endpoint->port()) + "/metrics";
    }
    (*service)->set_object_store(objects.get());
    // A job's role bounds what it reads and writes here as on the API node: IAM's roles and
    // policies are in the shared store (docs/iam.md); no access keys are needed for that.
    roles = std::make_unique<iam::IamBackend>((*service)->store());
    (*service)->set_role_access([r = roles.get()](const std::string& account, const std::string& role_arn,
                                                  const std::string& action, const std::string& resource) {
      return iam::RoleRefusal(r, account, role_arn, action, resource);
    });
    (*service)->Start();
    // Lambda functions' code, which the API nodes run here (docs/scale-out.md): the functions call
    // AWS at the API node, with its keys, as they would there.
    lambda::RuntimeOptions runtime_options;
    runtime_options.root = config.data_dir + "/lambda";
    runtime_options.base_environment = {{"AWS_ENDPOINT_URL", endpoint.url},
                                        {"AWS_ACCESS_KEY_ID", keys->access_key_id},
                                        {"AWS_SECRET_ACCESS_KEY", keys->secret_access_key}};
    if (!a->ca_bundle.empty()) runtime_options.base_environment["AWS_CA_BUNDLE"] = a->ca_bundle;
    lambda::FunctionRuntime runtime(runtime_options);
    lambda::InvocationWorker functions((*service)->store(), objects.get(), &runtime,
                                       config.data_dir + "/lambda/worker-code", config);
    Status functions_ready = lambda::MakePrivateDir(runtime_options.root);
    if (functions_ready.ok()) functions_ready = runtime.Prepare();
    if (functions_ready.ok())
      functions_ready = functions.Start(static_cast<size_t>(std::min<int64_t>(a->cpus, lambda::kMaxWorkerInvocationSlots)));
    if (!functions_ready.ok()) {
      ctx->exit_code = ReportError(Status::IOError("Lambda's runtime in " + runtime_options.root +
                                                   " cannot be prepared: " + functions_ready.message()));
      return;
    }
    // Listed by `lathe status` while it runs (the items it holds are the store's work leases).
    store::NodeRegistry nodes((*service)->store());
    store::NodeInfo node;
    node.id = config.worker_id;
    node.role = "worker";
    node.host = service::ThisHostName();
    node.endpoint = metrics_url;
    node.capacity = config.worker_capacity;
    service::NodeHeartbeat heartbeat(&nodes, node);
    if (Status s = heartbeat.Start(); !s.ok()) spdlog::warn("not listed in `lathe status`: {}", s.ToString());
    std::printf("lathe worker %s: claiming jobs and function invocations from the shared store (data: %s, objects: %s)\n",
                config.worker_id.c_str(), config.data_dir.c_str(), endpoint.url.c_str());
    if (!metrics_url.empty()) std::printf("  metrics: %s\n", metrics_url.c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("signal {}: stopping (a running job is checkpointed and given back to the queue; again to quit at once)", sig);
    std::thread hard_stop([stop_signals] {
      int again = 0;
      sigwait(&stop_signals, &again);
      std::_Exit(130);
    });
    hard_stop.detach();
    functions.Stop();  // running invocations killed; their items go back to the queue
    heartbeat.Stop();  // a clean stop: no longer listed (before the store goes with the service)
    service->reset();  // interrupts the trainer, uploads its checkpoint, releases the lease
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
