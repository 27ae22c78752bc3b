// `lathe serve`'s composition root: the HTTP transport, the gateway, and every AWS service on
// it, wired once. It owns no semantics: services keep theirs, the gateway dispatches.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aws/gateway.h"
#include "http/server.h"
#include "service/bedrock_service.h"

namespace lathe::iam {
class IamBackend;
class AuditTrail;
}
namespace lathe::registry {
class Registry;
class ServingLink;
}
namespace lathe::cleanup {
class Cleaner;
class PeriodicCleanup;
}
namespace lathe::s3 {
struct S3Storage;
}
namespace lathe::sns {
class SnsBackend;
class SigningKey;
class DeliveryTransport;
class DeliveryWorker;
}
namespace lathe::events {
class TargetDeliverer;
class EventsBackend;
class DelivererRegistry;
class SystemClock;
class EventDispatcher;
class EventScheduler;
class EventsWorker;
}

namespace lathe::store {
class ExecutionStore;
class MetadataStore;
}
namespace lathe::lambda {
class BuiltinFunctions;
class LambdaBackend;
class QueuedInvocations;
}
namespace lathe::states {
class IntegrationRegistry;
class Executor;
class StatesBackend;
class TaskIntegration;
}

namespace lathe::openai {
class FileObjects;
class OpenAIBackend;
}

namespace lathe::ui {
class Dashboard;
}

namespace lathe::server {

class ApiNode;

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port (see LatheServer::port())
  std::vector<api::Credentials> credentials;  // accepted access keys (all act as the account's root)
  http::ServerLimits limits;
  aws::GatewayOptions gateway;
  // TLS (both set: https on the same port, HTTP/2 by ALPN); tls_ca: the CA clients should trust
  // when it is lathe's own (--tls-self-signed), given to Lambda functions as AWS_CA_BUNDLE.
  std::string tls_cert, tls_key, tls_ca;
  bool dashboard = true;  // /ui/ (src/ui, docs/dashboard.md)
  // GET /metrics, unsigned, for Prometheus (config "metrics"; docs/scale-out.md, Operations).
  bool metrics = true;
};

class LatheServer {
 public:
  // `bedrock` must outlive the server. Its jobs read and write s3:// URIs through this server's
  // S3 storage: start its job runner (BedrockService::Start) after constructing the server.
  LatheServer(service::BedrockService* bedrock, ServeOptions options);
  ~LatheServer();
  // Binds; a taken port is an error naming the address, as is storage that could not be opened.
  Status Listen();
  int port() const;
  // SIGHUP: re-reads the TLS certificate and key (new connections use them).
  Status ReloadTls();
  // Serves until Stop(); EventBridge's scheduler and dispatcher run meanwhile.
  void Run();
  void Stop();  // from any thread
  aws::Gateway& gateway() { return *gateway_; }
  // Where EventBridge delivers: one TargetDeliverer per target ARN service ("sns", ...).
  events::DelivererRegistry& event_deliverers() { return *event_deliverers_; }
  // What EventBridge registers for targets of service "sns" (services/sns/event_target.h);
  // nullptr when SNS could not start.
  events::TargetDeliverer* sns_target() { return sns_target_.get(); }
  // What Step Functions' Task states call: one TaskIntegration per service (states, lambda,
  // sns, events, bedrock are registered here). Add before Listen(): the executor reads it without
  // a lock once started.
  states::IntegrationRegistry& task_integrations() { return *task_integrations_; }
  // Step Functions' backend (nullptr when its store could not be opened).
  states::StatesBackend* states() { return states_.get(); }
  // Lambda's functions (if their storage could not be prepared, Listen() says so).
  lambda::LambdaBackend* lambda() { return lambda_.get(); }
  // Step Functions' "lambda" integration over them, for the IntegrationRegistry to add.
  states::TaskIntegration* lambda_integration();
  // The model registry (over Bedrock's MetadataStore) that SageMaker's Model Registry API serves.
  registry::Registry* registry() { return registry_.get(); }
  // Retention cleanup (services/cleanup): POST /lathe/cleanup and, when the config sets a
  // retention policy, a periodic run while Run() serves.
  cleanup::Cleaner* cleaner() { return cleaner_.get(); }
  // The base of SNS's links (SubscribeURL, ...): publicUrl, else http://<listen address>.
  std::string public_url() const;

 private:
  ServeOptions options_;
  std::unique_ptr<iam::IamBackend> iam_;
  std::unique_ptr<iam::AuditTrail> audit_;              // DATA_DIR/audit
  std::unique_ptr<aws::AccessControl> access_control_;  // IAM's decisions and audit_, for gateway_
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<cleanup::Cleaner> cleaner_;                   // over registry_ and Bedrock's services
  std::unique_ptr<cleanup::PeriodicCleanup> periodic_cleanup_;  // stops before cleaner_ goes
  // What deployments and provisioned throughput resolve registry references through; cut
  // before registry_ goes (the BedrockService may outlive this server).
  std::shared_ptr<registry::ServingLink> serving_link_;
  std::unique_ptr<s3::S3Storage> s3_;
  std::unique_ptr<service::JobObjectStore> job_objects_;  // what Bedrock jobs see of s3_
  std::unique_ptr<openai::FileObjects> openai_files_;     // /v1/files' bytes in s3_
  std::unique_ptr<openai::OpenAIBackend> openai_;         // the /v1/ wire (after s3_, before gateway_)
  std::string public_url_;  // config publicUrl
  // SNS: the worker goes first on destruction (it uses the others).
  std::unique_ptr<sns::SnsBackend> sns_;
  std::unique_ptr<sns::SigningKey> sns_key_;
  std::unique_ptr<sns::DeliveryTransport> sns_transport_;
  std::unique_ptr<events::TargetDeliverer> sns_target_;
  std::unique_ptr<sns::DeliveryWorker> sns_worker_;
  // EventBridge, after SNS so that it is destroyed first (its dispatcher delivers to sns_target_).
  std::unique_ptr<events::EventsBackend> events_;
  std::unique_ptr<events::DelivererRegistry> event_deliverers_;
  std::unique_ptr<events::SystemClock> clock_;
  std::unique_ptr<events::EventDispatcher> event_dispatcher_;
  std::unique_ptr<events::EventScheduler> event_scheduler_;
  std::unique_ptr<events::EventsWorker> events_worker_;
  // Step Functions, after EventBridge's deliverers (it registers its target there) and before
  // EventBridge's worker in destruction order: the executor stops first (see ~LatheServer).
  std::unique_ptr<store::ExecutionStore> executions_;
  std::unique_ptr<states::IntegrationRegistry> task_integrations_;
  std::unique_ptr<states::Executor> executor_;
  std::unique_ptr<states::StatesBackend> states_;
  std::unique_ptr<events::TargetDeliverer> states_target_;
  std::unique_ptr<states::TaskIntegration> states_integration_;
  std::vector<std::unique_ptr<states::TaskIntegration>> service_integrations_;  // sns, events, bedrock
  struct EventsWaker;
  std::shared_ptr<EventsWaker> events_waker_;  // what the store's publish listener wakes
  // Lambda: built-ins over Bedrock's jobs and job_objects_; destroyed before both.
  std::unique_ptr<lambda::BuiltinFunctions> lambda_builtins_;
  // "runJobsOn": "workers": functions' code runs on lathe workers (outlives lambda_).
  std::unique_ptr<lambda::QueuedInvocations> lambda_placement_;
  std::unique_ptr<lambda::LambdaBackend> lambda_;
  std::unique_ptr<states::TaskIntegration> lambda_integration_;
  std::unique_ptr<events::TargetDeliverer> lambda_target_;  // EventBridge rules' function targets
  Status start_error_;
  std::unique_ptr<ui::Dashboard> dashboard_;  // /ui/: outlives the transport (its live feeds are streams)
  std::unique_ptr<aws::Gateway> gateway_;
  std::unique_ptr<http::Server> http_;
  store::MetadataStore* bedrock_store_ = nullptr;
  std::unique_ptr<ApiNode> api_node_;  // the nodes table's row while Run() serves (api_node.h)
};

}  // namespace lathe::server
