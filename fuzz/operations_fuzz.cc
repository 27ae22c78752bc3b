// The request path of every operation `lathe serve` answers, without sockets: arbitrary bytes
// become an operation's path labels, query and body, and go through the gateway (unsigned, as
// `--no-auth` accepts them) into the real services over a real store in a temporary folder.
// Nothing may crash, leak, hang or allocate without bound, and every answer must be a status a
// client can read, in its protocol's shape. Jobs never start (maxActiveJobs is 0) and no model
// loads (the memory budget is 0), so each input costs milliseconds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "aws/gateway.h"
#include "http/message.h"
#include "service/bedrock_service.h"
#include "services/bedrock/operations.h"
#include "services/iam/service.h"
#include "services/s3/service.h"
#include "services/s3/storage.h"
#include "services/states/backend.h"
#include "services/states/executor.h"
#include "services/states/service.h"
#include "services/sts/service.h"
#include "store/execution_store.h"

using namespace lathe;

namespace {

struct Operation {
  const char* method;
  const char* path;  // "{}" is replaced by a piece of the input (a label)
  const char* content_type;
  const char* target;  // X-Amz-Target, or nullptr
};

// Every Bedrock and Bedrock Runtime route, S3's bucket routes, the query services (their Action
// is in the body) and Step Functions' operations that take definitions, inputs and tokens.
constexpr Operation kOperations[] = {
    {"POST", "/model-customization-jobs", "application/json", nullptr},
    {"GET", "/model-customization-jobs?{}", nullptr, nullptr},
    {"GET", "/model-customization-jobs/{}", nullptr, nullptr},
    {"POST", "/model-customization-jobs/{}/stop", nullptr, nullptr},
    {"GET", "/foundation-models?{}", nullptr, nullptr},
    {"GET", "/foundation-models/{}", nullptr, nullptr},
    {"GET", "/custom-models?{}", nullptr, nullptr},
    {"GET", "/custom-models/{}", nullptr, nullptr},
    {"DELETE", "/custom-models/{}", nullptr, nullptr},
    {"POST", "/provisioned-model-throughput", "application/json", nullptr},
    {"GET", "/provisioned-model-throughputs?{}", nullptr, nullptr},
    {"GET", "/provisioned-model-throughput/{}", nullptr, nullptr},
    {"PATCH", "/provisioned-model-throughput/{}", "application/json", nullptr},
    {"DELETE", "/provisioned-model-throughput/{}", nullptr, nullptr},
    {"POST", "/tagResource", "application/json", nullptr},
    {"POST", "/untagResource", "application/json", nullptr},
    {"POST", "/listTagsForResource", "application/json", nullptr},
    {"POST", "/model/{}/invoke", "application/json", nullptr},
    {"POST", "/model/{}/converse", "application/json", nullptr},
    {"PUT", "/{}", "application/xml", nullptr},  // S3 CreateBucket (the body: CreateBucketConfiguration)
    {"HEAD", "/{}", nullptr, nullptr},
    {"GET", "/?{}", nullptr, nullptr},  // ListBuckets
    {"GET", "/{}?location", nullptr, nullptr},
    {"DELETE", "/{}", nullptr, nullptr},
    {"POST", "/", "application/x-www-form-urlencoded; charset=utf-8", nullptr},        // IAM or STS
    // Step Functions: the executor is never started, so executions are recorded and queued only.
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.CreateStateMachine"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.ValidateStateMachineDefinition"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.UpdateStateMachine"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.ListStateMachines"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.StartExecution"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.ListExecutions"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.GetExecutionHistory"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.SendTaskSuccess"},
    {"POST", "/", "application/x-amz-json-1.0", "AWSStepFunctions.TagResource"},
};

struct World {
  std::string dir;
  std::unique_ptr<service::BedrockService> bedrock;
  std::unique_ptr<iam::IamBackend> iam;
  std::unique_ptr<s3::S3Storage> s3;
  std::unique_ptr<store::ExecutionStore> executions;
  states::IntegrationRegistry integrations;  // empty: no task could reach another service
  events::SystemClock clock;
  std::unique_ptr<states::Executor> executor;
  std::unique_ptr<states::StatesBackend> states;
  std::unique_ptr<aws::Gateway> gateway;
};

World* Make() {
  char tmpl[] = "/tmp/lathe-fuzz-ops-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  auto* w = new World;
  w->dir = tmpl;
  service::ServiceConfig config;
  config.data_dir = w->dir;
  config.model_aliases = service::DefaultModelAliases();
  config.models[service::kDefaultModelId] = w->dir + "/no-model";  // never built, never loaded
  config.max_active_jobs = 0;                                      // validation runs, no job starts
  config.model_memory_bytes = 0;                                   // no model is ever loaded
  config.file_roots = {w->dir};
  auto opened = service::BedrockService::Open(config);
  if (!opened.ok()) std::abort();
  w->bedrock = std::move(*opened);
  w->iam = std::make_unique<iam::IamBackend>(w->bedrock->store());
  aws::GatewayOptions options;
  options.no_auth = true;
  w->gateway = std::make_unique<aws::Gateway>(options, [](const std::string&) { return std::nullopt; });
  w->gateway->Add(std::make_shared<bedrock::BedrockOperations>(w->bedrock.get()));
  w->gateway->Add(iam::NewIamService(w->iam.get()));
  w->gateway->Add(sts::NewStsService());
  auto s3 = s3::OpenS3Storage(w->bedrock->store(), Env::Default(), w->dir + "/s3");
  if (!s3.ok()) std::abort();
  w->s3 = std::move(*s3);
  w->gateway->Add(std::make_shared<s3::S3Service>(w->s3->buckets.get(), w->s3->objects.get(), w->s3->multipart.get()));
  auto executions = store::ExecutionStore::Open(w->bedrock->store());
  if (!executions.ok()) std::abort();
  w->executions = std::move(*executions);
  w->executor = std::make_unique<states::Executor>(w->executions.get(), &w->integrations, &w->clock,
                                                   states::ExecutorOptions{});
  w->states = std::make_unique<states::StatesBackend>(w->bedrock->store(), w->executions.get(), w->executor.get(),
                                                      &w->clock);
  w->gateway->Add(states::NewStatesService(w->states.get()));
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = Make();  // one store for the whole run: state builds up as in a server
  if (size < 1) return 0;
  const Operation& op = kOperations[data[0] % (sizeof kOperations / sizeof kOperations[0])];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Up to the first newline: the label or query; after it: the body.
  const size_t nl = rest.find('\n');
  std::string_view label = nl == std::string_view::npos ? std::string_view() : rest.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? rest : rest.substr(nl + 1);

  http::Request request;
  request.method = op.method;
  request.target = op.path;
  if (size_t at = request.target.find("{}"); at != std::string::npos) request.target.replace(at, 2, label);
  if (op.content_type) request.headers.push_back({"Content-Type", op.content_type});
  if (op.target) request.headers.push_back({"X-Amz-Target", op.target});
  http::StringBodyReader reader{std::string(body)};
  request.body = &reader;
  http::Response response;
  world->gateway->Handle(request, response);
  if (response.status < 200 || response.status > 599) std::abort();
  return 0;
}
