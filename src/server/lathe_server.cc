#include "server/lathe_server.h"

#include <mutex>

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/metrics.h"
#include "http/metrics_endpoint.h"
#include "server/api_node.h"
#include "server/access_control.h"
#include "server/external_job_objects.h"
#include "server/job_object_store.h"
#include "server/openai_file_objects.h"
#include "services/bedrock/operations.h"
#include "services/bedrock/task_integration.h"
#include "services/events/service.h"
#include "services/events/task_integration.h"
#include "services/events/worker.h"
#include "services/iam/role_access.h"
#include "services/iam/service.h"
#include "services/lambda/event_target.h"
#include "services/lambda/service.h"
#include "services/lambda/task_integration.h"
#include "services/openai/service.h"
#include "services/cleanup/cleaner.h"
#include "services/cleanup/serve_cleanup.h"
#include "services/registry/registry.h"
#include "services/registry/serving.h"
#include "services/s3/service.h"
#include "services/sagemaker/service.h"
#include "services/s3/storage.h"
#include "services/sns/delivery_worker.h"
#include "services/sns/event_target.h"
#include "services/sns/service.h"
#include "services/sns/signing.h"
#include "services/sns/task_integration.h"
#include "services/sns/transport.h"
#include "services/states/backend.h"
#include "services/states/event_target.h"
#include "services/states/executor.h"
#include "services/states/service.h"
#include "services/states/start_execution_integration.h"
#include "services/sts/service.h"
#include "store/execution_store.h"
#include "ui/dashboard.h"

namespace lathe::server {

// The store's publish listener outlives neither the worker nor the server safely on its own: the
// store belongs to the BedrockService, which may be destroyed before or after the server. The
// listener holds this, which the server detaches before its worker goes.
struct LatheServer::EventsWaker {
  std::mutex mu;
  events::EventsWorker* worker = nullptr;
  void Wake() {
    std::lock_guard<std::mutex> lock(mu);
    if (worker) worker->Wake();
  }
  void Detach() {
    std::lock_guard<std::mutex> lock(mu);
    worker = nullptr;
  }
};

LatheServer::LatheServer(service::BedrockService* bedrock, ServeOptions options)
    : options_(std::move(options)), bedrock_store_(bedrock->store()) {
  const std::string account = options_.gateway.account;
  std::vector<api::Credentials> keys = options_.credentials;
  // IAM users' keys (secrets in DATA_DIR/iam, docs/iam.md); the credentials file's keys are the
  // account's administrator.
  const std::string data_dir = bedrock->config().data_dir;
  iam_ = std::make_unique<iam::IamBackend>(bedrock->store(), data_dir.empty() ? "" : data_dir + "/iam");
  if (!iam_->open_status().ok()) start_error_ = iam_->open_status();
  iam::IamBackend* roles = iam_.get();
  // A job's role bounds what it reads and writes, when IAM holds that role (docs/iam.md).
  bedrock->set_role_access([roles](const std::string& account, const std::string& role_arn, const std::string& action,
                                   const std::string& resource) {
    return iam::RoleRefusal(roles, account, role_arn, action, resource);
  });
  gateway_ = std::make_unique<aws::Gateway>(
      options_.gateway, [keys, account, roles](const std::string& id) -> std::optional<aws::AccessKey> {
        for (const auto& k : keys)
          if (k.access_key_id == id)
            return aws::AccessKey{k.secret_access_key, aws::Caller{id, account, RootArn(account), account}};
        if (std::optional<iam::KeyIdentity> user = roles->LookUpAccessKey(id))
          return aws::AccessKey{user->secret, aws::Caller{id, user->account, user->user_arn, user->user_id}};
        return std::nullopt;
      });
  // Every request is authorized by IAM (the administrator may do everything) and recorded.
  if (!data_dir.empty()) {
    Result<std::unique_ptr<iam::AuditTrail>> trail = iam::AuditTrail::Open(data_dir + "/audit");
    if (trail.ok()) audit_ = std::move(*trail);
    else if (start_error_.ok()) start_error_ = trail.status();
  }
  access_control_ = std::make_unique<ServerAccessControl>(iam_.get(), audit_.get(), bedrock->store());
  gateway_->set_access_control(access_control_.get());
  auto role_exists = [roles, account](const std::string& arn) { return roles->RoleExists(account, arn); };
  bedrock->jobs().set_role_checker(role_exists);
  bedrock->evaluations().set_role_checker(role_exists);
  bedrock->import_jobs().set_role_checker(role_exists);
  auto bedrock_operations = std::make_shared<bedrock::BedrockOperations>(bedrock);
  gateway_->Add(bedrock_operations);
  gateway_->Add(iam::NewIamService(iam_.get()));
  // The model registry: rows of lathe.db, shared with `lathe registry` and the pipeline built-in.
  registry_ = std::make_unique<registry::Registry>(bedrock->store(), options_.gateway.default_region, account);
  gateway_->Add(sagemaker::NewSageMakerService(registry_.get()));
  // Deployments and provisioned throughput may name a registry version or alias (and follow it).
  serving_link_ = registry::ServingLink::Make(registry_.get(), options_.gateway.default_region, account);
  bedrock->deployments().set_resolver(serving_link_->resolver());
  bedrock->deployments().set_alias_rollback(serving_link_->rollback());
  bedrock->throughput().set_resolver(serving_link_->resolver());
  // Retention cleanup: `lathe cleanup` calls it here while this server holds the data directory.
  // Deployments go through the DeploymentService that has them loaded.
  cleanup::CleanupHooks cleanup_hooks;
  service::DeploymentService* deployments = &bedrock->deployments();
  cleanup_hooks.delete_deployment = [deployments](const std::string& arn) { return deployments->Delete(arn); };
  cleanup_hooks.deployment_serves = [deployments](const std::string& model_arn) { return deployments->Serves(model_arn); };
  cleanup_hooks.deployment_last_request = [deployments](const std::string& id) {
    return deployments->stats().LastRequest(id);
  };
  cleaner_ = std::make_unique<cleanup::Cleaner>(bedrock, registry_.get(), cleanup_hooks);
  bedrock_operations->set_cleanup_handler(
      [cleaner = cleaner_.get(), policy = bedrock->config().retention](const nlohmann::json& body) {
        return cleanup::HandleCleanupRequest(cleaner, policy, body);
      });
  periodic_cleanup_ = std::make_unique<cleanup::PeriodicCleanup>(cleaner_.get(), bedrock->config().retention);
  // S3's bytes live in DATA_DIR/s3; what a crash left there is cleaned before the first request.
  Result<std::unique_ptr<s3::S3Storage>> s3 =
      s3::OpenS3Storage(bedrock->store(), Env::Default(), bedrock->config().data_dir + "/s3");
  if (s3.ok()) {
    s3_ = std::move(*s3);
    std::map<std::string, s3::ExternalBucketLocation> external_endpoints;  // answered PermanentRedirect here
    for (const auto& entry : bedrock->config().external_buckets)
      external_endpoints[entry.first] = {entry.second.endpoint, entry.second.region};
    gateway_->Add(std::make_shared<s3::S3Service>(s3_->buckets.get(), s3_->objects.get(), s3_->multipart.get(),
                                                  std::move(external_endpoints)));
    // Jobs read and write s3:// through the same backends, as the account that owns the bucket;
    // the config's external buckets through their own S3 service.
    job_objects_ = WithExternalBuckets(
        std::make_unique<S3JobObjectStore>(bedrock->config().env, s3_->buckets.get(), s3_->objects.get()),
        bedrock->config().external_buckets);
    bedrock->set_object_store(job_objects_.get());
  } else {
    start_error_ = Status::IOError("S3's storage in " + bedrock->config().data_dir + "/s3 cannot be opened: " +
                                   s3.status().message());
  }
  // The OpenAI-compatible wire: its files in S3 beside the jobs' data, its jobs Bedrock's.
  if (s3_)
    openai_files_ = std::make_unique<S3OpenAIFileObjects>(bedrock->config().env, s3_->buckets.get(),
                                                          s3_->objects.get(), job_objects_.get(),
                                                          options_.gateway.default_region,
                                                          bedrock->config().data_dir + "/openai/scratch");
  openai_ = std::make_unique<openai::OpenAIBackend>(bedrock, openai_files_.get(), account);
  openai_->set_registry_resolver(serving_link_->resolver());
  gateway_->Add(std::make_shared<openai::OpenAIService>(openai_.get()));
  gateway_->Add(sts::NewStsService());
  // SNS: topics in the metadata store, its signing key in DATA_DIR/sns, email in the outbox.
  const service::ServiceConfig& config = bedrock->config();
  public_url_ = config.public_url;
  Result<std::unique_ptr<sns::SigningKey>> key = sns::SigningKey::LoadOrCreate(config.data_dir + "/sns");
  if (key.ok()) {
    sns_key_ = std::move(*key);
    sns_ = std::make_unique<sns::SnsBackend>(bedrock->store());
    sns_transport_ = std::make_unique<sns::CurlTransport>();
    sns::DeliveryOptions delivery;
    delivery.outbox_dir = sns::OutboxDir(config.data_dir);
    delivery.smtp = {config.smtp_relay.url, config.smtp_relay.from, config.smtp_relay.username,
                     config.smtp_relay.password};
    sns_worker_ = std::make_unique<sns::DeliveryWorker>(sns_.get(), sns_key_.get(), sns_transport_.get(), delivery);
    sns::DeliveryWorker* worker = sns_worker_.get();
    sns_->set_on_enqueue([worker] { worker->Wake(); });
    sns_target_ = std::make_unique<sns::SnsTargetDeliverer>(sns_.get());
    gateway_->Add(sns::NewSnsService(sns_.get(), sns_key_.get()));
  } else if (start_error_.ok()) {
    start_error_ = Status::IOError("SNS's signing key in " + config.data_dir + "/sns cannot be made or read: " +
                                   key.status().message());
  }
  // EventBridge: rules over the store's outbox (S3's, Bedrock's and PutEvents' events), delivered
  // by a worker thread that runs while the server does.
  events_ = std::make_unique<events::EventsBackend>(
      bedrock->store(), events::PatternOptions{.strict_aws = bedrock->config().strict_aws_compatibility});
  event_deliverers_ = std::make_unique<events::DelivererRegistry>();
  if (sns_target_) event_deliverers_->Add("sns", sns_target_.get());
  clock_ = std::make_unique<events::SystemClock>();
  event_dispatcher_ = std::make_unique<events::EventDispatcher>(bedrock->store(), events_.get(),
                                                                event_deliverers_.get(), clock_.get());
  event_scheduler_ = std::make_unique<events::EventScheduler>(bedrock->store(), events_.get(), clock_.get());
  events_worker_ = std::make_unique<events::EventsWorker>(event_dispatcher_.get(), event_scheduler_.get());
  events::EventsWorker* worker = events_worker_.get();
  // Every event published (S3, Bedrock, PutEvents, schedules) wakes the dispatcher at once.
  events_waker_ = std::make_shared<EventsWaker>();
  events_waker_->worker = worker;
  bedrock->store()->set_publish_listener([waker = events_waker_] { waker->Wake(); });
  gateway_->Add(events::NewEventsService(events_.get(), [worker] { worker->Wake(); }));
  // Lambda: functions in DATA_DIR/lambda, run as child processes; the built-ins use Bedrock's jobs
  // and S3 through the jobs' view of it.
  lambda_builtins_ = std::make_unique<lambda::BuiltinFunctions>(&bedrock->jobs(), job_objects_.get(),
                                                                config.data_dir + "/lambda/work");
  lambda_builtins_->set_evaluation(&bedrock->evaluations(), &bedrock->custom_models());
  lambda_builtins_->set_registry(registry_.get());  // register-model-version
  lambda::LambdaOptions lambda_options;
  lambda_options.root = config.data_dir + "/lambda";
  lambda_options.run_event_worker = false;  // started in Listen, once functions know this server
  if (config.job_placement == service::ServiceConfig::JobPlacement::kWorkers) {
    lambda::QueuedInvocationOptions queued;
    queued.account = account;
    queued.bucket = config.artifact_bucket;
    queued.lease_ms = int64_t{config.lease_seconds} * 1000;
    lambda_placement_ = std::make_unique<lambda::QueuedInvocations>(bedrock->store(), job_objects_.get(), queued);
    lambda_placement_->SweepResults();
    lambda_options.placement = lambda_placement_.get();
  }
  lambda_ = std::make_unique<lambda::LambdaBackend>(bedrock->store(), lambda_builtins_.get(), lambda_options);
  if (Status s = lambda_->Start(); !s.ok() && start_error_.ok())
    start_error_ = Status::IOError("Lambda's storage in " + lambda_options.root + " cannot be prepared: " + s.message());
  gateway_->Add(lambda::NewLambdaService(lambda_.get()));
  lambda_integration_ = std::make_unique<lambda::LambdaTaskIntegration>(lambda_.get());
  lambda_target_ = std::make_unique<lambda::LambdaTargetDeliverer>(lambda_.get());
  event_deliverers_->Add("lambda", lambda_target_.get());
  // Step Functions: executions in lathe.db beside everything else, run by the executor's threads
  // (started in Listen), reachable from EventBridge rules and from other state machines.
  task_integrations_ = std::make_unique<states::IntegrationRegistry>();
  Result<std::unique_ptr<store::ExecutionStore>> executions = store::ExecutionStore::Open(bedrock->store());
  if (executions.ok()) {
    executions_ = std::move(*executions);
    states::ExecutorOptions executor_options;
    executor_options.wait_time_scale = config.wait_time_scale;
    executor_ = std::make_unique<states::Executor>(executions_.get(), task_integrations_.get(), clock_.get(),
                                                   executor_options);
    states_ = std::make_unique<states::StatesBackend>(bedrock->store(), executions_.get(), executor_.get(),
                                                      clock_.get());
    states_target_ = std::make_unique<states::StatesTargetDeliverer>(states_.get());
    event_deliverers_->Add("states", states_target_.get());
    states_integration_ = std::make_unique<states::StartExecutionIntegration>(states_.get());
    task_integrations_->Add("states", states_integration_.get());
    // What Task states reach besides other state machines: each service's own adapter.
    auto add = [this](const std::string& service, std::unique_ptr<states::TaskIntegration> integration) {
      task_integrations_->Add(service, integration.get());
      service_integrations_.push_back(std::move(integration));
    };
    if (sns_) add("sns", std::make_unique<sns::SnsTaskIntegration>(sns_.get()));
    add("events", std::make_unique<events::EventsTaskIntegration>(events_.get(), [worker] { worker->Wake(); }));
    add("bedrock", std::make_unique<bedrock::BedrockTaskIntegration>(&bedrock->jobs(), &bedrock->runtime()));
    task_integrations_->Add("lambda", lambda_integration_.get());
    gateway_->Add(states::NewStatesService(states_.get()));
  } else if (start_error_.ok()) {
    start_error_ = Status::IOError("Step Functions' tables in " + config.data_dir +
                                   "/lathe.db cannot be opened: " + executions.status().message());
  }
  // The dashboard (/ui/): its own sessions instead of SigV4, over the backends wired above.
  if (options_.dashboard) {
    ui::Backends backends;
    backends.bedrock = bedrock;
    backends.store = bedrock->store();
    backends.registry = registry_.get();
    backends.states = states_.get();
    backends.executions = executions_.get();
    backends.events = events_.get();
    backends.sns = sns_.get();
    if (s3_) {
      backends.buckets = s3_->buckets.get();
      backends.objects = s3_->objects.get();
    }
    backends.job_objects = job_objects_.get();
    backends.audit = audit_.get();
    backends.account = account;
    backends.region = options_.gateway.default_region;
    backends.data_dir = config.data_dir;
    ui::DashboardOptions ui_options;
    ui_options.secure_cookies = !options_.tls_cert.empty();
    dashboard_ = std::make_unique<ui::Dashboard>(
        ui_options,
        [keys](const std::string& id) -> std::optional<std::string> {
          for (const auto& k : keys)
            if (k.access_key_id == id) return k.secret_access_key;
          return std::nullopt;
        },
        backends);
  }
  aws::Gateway* gw = gateway_.get();
  ui::Dashboard* dashboard = dashboard_.get();
  const bool metrics = options_.metrics;
  http_ = std::make_unique<http::Server>(
      options_.limits,
      [gw, dashboard, metrics](http::Request& req, http::Response& res) {
        // Unsigned GET /metrics only: a signed request to a bucket "metrics" is S3's.
        if (metrics && http::IsMetricsScrape(req)) return http::ServeMetrics(metrics::DefaultRegistry(), req, res);
        if (dashboard && ui::Dashboard::Claims(req)) return dashboard->Handle(req, res);
        gw->Handle(req, res);
      },
      [gw](http::TransportError e, const http::Request& partial, http::Response& res) {
        gw->WriteTransportError(e, partial, res);
      });
}

LatheServer::~LatheServer() {
  if (dashboard_) dashboard_->Stop();  // its poller reads the stores that go below
  if (periodic_cleanup_) periodic_cleanup_->Stop();
  if (serving_link_) serving_link_->Detach();
  if (events_waker_) events_waker_->Detach();
  // EventBridge's worker first (it starts executions through states_target_), then the executor,
  // whose task threads call the integrations, the backend and the store; Lambda's running
  // invocations are ended once the executor records no answer (they run again after a restart).
  if (events_worker_) events_worker_->Stop();
  if (executor_) executor_->Stop([this] {
    if (lambda_) lambda_->Stop();
  });
  if (lambda_) lambda_->Stop();
  if (sns_worker_) sns_worker_->Stop();
}

states::TaskIntegration* LatheServer::lambda_integration() { return lambda_integration_.get(); }

std::string LatheServer::public_url() const {
  if (!public_url_.empty()) return public_url_;
  std::string host = options_.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return (http_->tls() ? "https://" : "http://") + host + ":" + std::to_string(http_->port());
}

Status LatheServer::Listen() {
  LATHE_RETURN_IF_ERROR(start_error_);
  if (!options_.tls_cert.empty()) LATHE_RETURN_IF_ERROR(http_->EnableTls(options_.tls_cert, options_.tls_key));
  LATHE_RETURN_IF_ERROR(http_->Listen(options_.host, options_.port));
  // Functions call this server as AWS_ENDPOINT_URL, signed with its first key (all keys are the
  // account's root here), as a function calls AWS with its role's credentials.
  if (lambda_) {
    lambda_->runtime().SetBaseVariable("AWS_ENDPOINT_URL", public_url());
    if (!options_.tls_ca.empty()) lambda_->runtime().SetBaseVariable("AWS_CA_BUNDLE", options_.tls_ca);
    if (!options_.credentials.empty()) {
      lambda_->runtime().SetBaseVariable("AWS_ACCESS_KEY_ID", options_.credentials[0].access_key_id);
      lambda_->runtime().SetBaseVariable("AWS_SECRET_ACCESS_KEY", options_.credentials[0].secret_access_key);
    }
    // Only now: an Event invocation left queued by the last run would otherwise run without them.
    lambda_->StartEventWorker();
  }
  // Deliveries left by the last run go out now; the links in them name this server's address.
  if (sns_worker_) {
    sns_worker_->set_base_url(public_url());
    sns_worker_->Start();
  }
  // Executions left RUNNING by the last run go on from their last committed transition.
  if (executor_) LATHE_RETURN_IF_ERROR(executor_->Start());
  return Status::Ok();
}
int LatheServer::port() const { return http_->port(); }
Status LatheServer::ReloadTls() { return http_->ReloadTls(); }
void LatheServer::Run() {
  events_worker_->Start();
  if (dashboard_) dashboard_->Start();
  periodic_cleanup_->Start();  // only when the config sets a retention policy
  // The address is known now; a node id the store refuses (a host name beyond 255 bytes) is
  // logged and the server serves anyway: `lathe status` is for operators, not for clients.
  api_node_ = std::make_unique<ApiNode>(bedrock_store_, public_url(), http_->port());
  if (Status s = api_node_->Start(); !s.ok()) spdlog::warn("not listed in `lathe status`: {}", s.ToString());
  http_->Run();
  api_node_.reset();
  periodic_cleanup_->Stop();
  events_worker_->Stop();  // pending deliveries stay in the store for the next start
}
void LatheServer::Stop() {
  // Before the transport waits for its requests: an Invoke of evaluate-finetuned-model would
  // otherwise hold it for the function's timeout.
  if (lambda_builtins_) lambda_builtins_->Stop();
  if (dashboard_) dashboard_->Stop();  // its live feeds end, so the transport need not wait for them
  http_->Stop();
  if (sns_worker_) sns_worker_->Stop();
}

}  // namespace lathe::server
