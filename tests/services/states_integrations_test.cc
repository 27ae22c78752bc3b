// Step Functions' task integrations for SNS, EventBridge and Bedrock, called as the executor calls
// them (a TaskCall in, a TaskOutcome out) over the real backends and a temporary store: what they
// publish reaches SNS's delivery queue and EventBridge's outbox, Bedrock jobs are created, polled
// and stopped, and every refusal carries the error name a Catch would match.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "services/bedrock/task_integration.h"
#include "services/events/task_integration.h"
#include "services/sns/backend.h"
#include "services/sns/task_integration.h"
#include "test_util.h"

namespace lathe {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;
using nlohmann::json;
using states::TaskCall;
using states::TaskOutcome;

constexpr char kAccount[] = "123456789012";
constexpr char kRegion[] = "us-east-1";
constexpr char kExecution[] = "arn:aws:states:us-east-1:123456789012:execution:pipeline:run-1";

TaskCall Call(const std::string& service, const std::string& action, json parameters, std::string pattern = "") {
  TaskCall c;
  c.service = service;
  c.action = action;
  c.pattern = std::move(pattern);
  c.resource = "arn:aws:states:::" + service + ":" + action + (c.pattern.empty() ? "" : "." + c.pattern);
  c.parameters = std::move(parameters);
  c.execution_arn = kExecution;
  c.state_name = "Notify";
  c.account = kAccount;
  c.region = kRegion;
  return c;
}

#define EXPECT_TASK_ERROR(outcome, name)                                        \
  do {                                                                          \
    const TaskOutcome& _o = (outcome);                                          \
    EXPECT_FALSE(_o.ok) << _o.result.dump();                                    \
    EXPECT_EQ(_o.error, name) << _o.cause;                                      \
    EXPECT_FALSE(_o.cause.empty());                                             \
  } while (0)

// ---- SNS ----

class SnsTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    backend_ = std::make_unique<sns::SnsBackend>(store_.get());
    auto topic = backend_->CreateTopic({kAccount, kRegion}, "finetuning-notifications", {}, {});
    ASSERT_TRUE(topic.ok()) << topic.status().ToString();
    topic_ = topic->arn;
    auto sub = backend_->Subscribe(topic_, "http", "http://127.0.0.1:9/hook", {});
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    ASSERT_TRUE(backend_->ConfirmSubscription(topic_, sub->token).ok());
    integration_ = std::make_unique<sns::SnsTaskIntegration>(backend_.get());
  }
  TaskOutcome Publish(json parameters) { return integration_->Start(Call("sns", "publish", std::move(parameters))); }
  std::vector<sns::Delivery> Notifications() {
    auto all = backend_->PendingDeliveries(1000);
    EXPECT_TRUE(all.ok());
    std::vector<sns::Delivery> out;
    for (const sns::Delivery& d : *all)
      if (d.type == "Notification") out.push_back(d);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<sns::SnsBackend> backend_;
  std::unique_ptr<sns::SnsTaskIntegration> integration_;
  std::string topic_;
};

TEST_F(SnsTaskTest, PublishReachesTheSubscribersQueueAndAnswersAsStepFunctions) {
  // The tutorial's NotifySuccess state, after States.Format.
  TaskOutcome o = Publish({{"TopicArn", topic_},
                           {"Subject", "Fine-Tuning Complete"},
                           {"Message", "Model m1 training complete. Evaluation score: 0.9"},
                           {"MessageAttributes", {{"stage", {{"DataType", "String"}, {"StringValue", "done"}}}}}});
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  const std::string id = o.result["MessageId"];
  EXPECT_EQ(o.result["SdkHttpMetadata"]["HttpStatusCode"], 200);
  EXPECT_EQ(o.result["SdkHttpMetadata"]["HttpHeaders"]["Content-Type"], "text/xml");
  EXPECT_EQ(o.result["SdkResponseMetadata"]["RequestId"], o.result["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"]);

  std::vector<sns::Delivery> queued = Notifications();
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].message_id, id);
  EXPECT_EQ(queued[0].endpoint, "http://127.0.0.1:9/hook");
  auto message = backend_->GetMessage(id);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->subject, "Fine-Tuning Complete");
  EXPECT_EQ(message->message, "Model m1 training complete. Evaluation score: 0.9");
  ASSERT_EQ(message->attributes.count("stage"), 1u);
  EXPECT_EQ(message->attributes.at("stage").data_type, "String");
  EXPECT_EQ(message->attributes.at("stage").value, "done");
}

TEST_F(SnsTaskTest, AJsonMessageIsSentAsItsTextAndTargetArnAndLowerCaseNamesWork) {
  TaskOutcome o = Publish({{"targetArn", topic_}, {"message", {{"jobArn", "arn:x"}, {"status", "Failed"}}}});
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  auto message = backend_->GetMessage(o.result["MessageId"]);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(json::parse(message->message), json({{"jobArn", "arn:x"}, {"status", "Failed"}}));

  // MessageStructure=json takes the JSON object too, serialized before SNS checks its "default".
  o = Publish({{"TopicArn", topic_}, {"MessageStructure", "json"}, {"Message", {{"default", "d"}, {"http", "h"}}}});
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  EXPECT_EQ(backend_->GetMessage(o.result["MessageId"])->BodyFor("http"), "h");
  // A binary attribute's value is base64, as on the wire.
  o = Publish({{"TopicArn", topic_}, {"Message", "m"},
               {"MessageAttributes", {{"raw", {{"DataType", "Binary"}, {"BinaryValue", "aGk="}}}}}});
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  EXPECT_EQ(backend_->GetMessage(o.result["MessageId"])->attributes.at("raw").value, "hi");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "m"},
                             {"MessageAttributes", {{"raw", {{"DataType", "Binary"}, {"BinaryValue", "*"}}}}}}),
                    "SNS.InvalidParameterValueException");
  // Numbers and other non-strings in string members are sent as their JSON text.
  o = Publish({{"TopicArn", topic_}, {"Message", 42}, {"Subject", 7}});
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  EXPECT_EQ(backend_->GetMessage(o.result["MessageId"])->message, "42");
  EXPECT_EQ(backend_->GetMessage(o.result["MessageId"])->subject, "7");

  o = Publish({{"TopicArn", topic_}, {"MessageStructure", "json"}, {"Message", {{"http", "h"}}}});
  EXPECT_TASK_ERROR(o, "SNS.InvalidParameterException");
  EXPECT_NE(o.cause.find("No default entry"), std::string::npos) << o.cause;
}

TEST_F(SnsTaskTest, WaitForTaskTokenPublishesTheTokenAndTheStateWaits) {
  sns::SnsTaskIntegration& sns = *integration_;
  EXPECT_TRUE(sns.Supports("publish", ""));
  EXPECT_TRUE(sns.Supports("publish", "waitForTaskToken"));
  EXPECT_FALSE(sns.Supports("publish", "sync"));
  EXPECT_FALSE(sns.Supports("publishBatch", ""));
  TaskCall call = Call("sns", "publish", {{"TopicArn", topic_}, {"Message", {{"TaskToken", "tok-123"}}}},
                       "waitForTaskToken");
  call.task_token = "tok-123";
  TaskOutcome o = sns.Start(call);
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  EXPECT_EQ(json::parse(backend_->GetMessage(o.result["MessageId"])->message)["TaskToken"], "tok-123");
}

TEST_F(SnsTaskTest, ErrorsAreSnsExceptionsACatchCanName) {
  const std::string missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
  TaskOutcome o = Publish({{"TopicArn", missing}, {"Message", "hi"}});
  EXPECT_TASK_ERROR(o, "SNS.NotFoundException");
  EXPECT_NE(o.cause.find("Service: AmazonSNS; Status Code: 404; Error Code: NotFound"), std::string::npos) << o.cause;

  EXPECT_TASK_ERROR(Publish({{"TopicArn", "not-an-arn"}, {"Message", "hi"}}), "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"Message", "hi"}}), "SNS.InvalidParameterException");  // no destination
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"TargetArn", topic_}, {"Message", "hi"}}),
                    "SNS.InvalidParameterException");
  // Missing Message: SNS's ValidationError, an error its model does not declare.
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}}), "SNS.AmazonSNSException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", ""}}), "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", std::string(262145, 'x')}}),
                    "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"Subject", ""}}),
                    "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"Subject", std::string(101, 's')}}),
                    "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"MessageDeduplicationId", "d"}}),
                    "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"MessageAttributes", "a=b"}}),
                    "SNS.InvalidParameterException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"MessageAttributes", {{"a", "b"}}}}),
                    "SNS.InvalidParameterValueException");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"MessageAttributes", {{"a", {{"StringValue", "b"}}}}}}),
                    "SNS.InvalidParameterValueException");  // no DataType
  json eleven = json::object();
  for (int i = 0; i < 11; ++i) eleven["a" + std::to_string(i)] = {{"DataType", "String"}, {"StringValue", "v"}};
  o = Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"MessageAttributes", eleven}});
  EXPECT_TASK_ERROR(o, "SNS.InvalidParameterException");
  EXPECT_NE(o.cause.find("exceeds the allowed maximum [10]"), std::string::npos) << o.cause;

  // What Step Functions itself refuses.
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"Colour", "red"}}), "States.Runtime");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"}, {"message", "twice"}}), "States.Runtime");
  EXPECT_TASK_ERROR(Publish(json::array({topic_})), "States.Runtime");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"},
                             {"MessageAttributes", {{"a", {{"DataType", "String"}, {"Colour", "red"}}}}}}),
                    "States.Runtime");
  EXPECT_TASK_ERROR(Publish({{"TopicArn", topic_}, {"Message", "hi"},
                             {"MessageAttributes", {{"a", {{"DataType", "String"}, {"dataType", "Number"}}}}}}),
                    "States.Runtime");
  EXPECT_TRUE(Notifications().empty());  // nothing refused was queued
}

// ---- EventBridge ----

class EventsTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    backend_ = std::make_unique<events::EventsBackend>(store_.get(), events::PatternOptions{});
    integration_ = std::make_unique<events::EventsTaskIntegration>(backend_.get(), [this] { ++wakes_; });
  }
  TaskOutcome Put(json parameters) { return integration_->Start(Call("events", "putEvents", std::move(parameters))); }
  std::vector<store::OutboxEvent> Outbox() {
    auto events = store_->EventsAfter(0, 100);
    EXPECT_TRUE(events.ok());
    return events.ok() ? *events : std::vector<store::OutboxEvent>{};
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<events::EventsBackend> backend_;
  std::unique_ptr<events::EventsTaskIntegration> integration_;
  int wakes_ = 0;
};

TEST_F(EventsTaskTest, PutEventsLandsInTheOutboxWithTheExecutionsArns) {
  ASSERT_TRUE(backend_->CreateEventBus({kAccount, kRegion}, "ml-bus", "", {}).ok());
  TaskOutcome o = Put({{"Entries",
                        {{{"Source", "lathe.pipeline"},
                          {"DetailType", "Model Ready"},
                          {"Detail", {{"model", "m1"}, {"score", 0.9}}},
                          {"Resources", {"arn:aws:bedrock:us-east-1:123456789012:custom-model/m1"}}},
                         {{"source", "lathe.pipeline"},
                          {"detailType", "Model Ready"},
                          {"detail", R"({"model": "m2"})"},
                          {"eventBusName", "ml-bus"}}}}});
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  EXPECT_EQ(o.result["FailedEntryCount"], 0);
  ASSERT_EQ(o.result["Entries"].size(), 2u);
  EXPECT_EQ(wakes_, 1);

  std::vector<store::OutboxEvent> put = Outbox();
  ASSERT_EQ(put.size(), 2u);
  EXPECT_EQ(put[0].id, o.result["Entries"][0]["EventId"]);
  EXPECT_EQ(put[0].source, "lathe.pipeline");
  EXPECT_EQ(put[0].detail_type, "Model Ready");
  EXPECT_EQ(put[0].detail, json({{"model", "m1"}, {"score", 0.9}}));
  EXPECT_EQ(put[0].account, kAccount);
  EXPECT_EQ(put[0].region, kRegion);
  EXPECT_EQ(put[0].event_bus, "");
  EXPECT_EQ(put[0].resources,
            (std::vector<std::string>{"arn:aws:bedrock:us-east-1:123456789012:custom-model/m1", kExecution,
                                      "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"}));
  EXPECT_EQ(put[1].id, o.result["Entries"][1]["EventId"]);
  EXPECT_EQ(put[1].event_bus, "ml-bus");
  EXPECT_EQ(put[1].detail, json({{"model", "m2"}}));
  EXPECT_EQ(put[1].resources.size(), 2u);
}

TEST_F(EventsTaskTest, AFailedEntryFailsTheTaskWithTheResponseAsCause) {
  TaskOutcome o = Put({{"Entries",
                        {{{"Source", "lathe.pipeline"}, {"DetailType", "t"}, {"Detail", json::object()}},
                         {{"Source", "aws.s3"}, {"DetailType", "t"}, {"Detail", json::object()}}}}});
  EXPECT_TASK_ERROR(o, "EventBridge.FailedEntry");
  json cause = json::parse(o.cause);
  EXPECT_EQ(cause["FailedEntryCount"], 1);
  EXPECT_EQ(cause["Entries"][1]["ErrorCode"], "NotAuthorizedForSourceException");
  EXPECT_EQ(Outbox().size(), 1u);  // the good entry was put, as PutEvents does
  EXPECT_EQ(wakes_, 1);

  // A Detail that is not an object is sent as its text, which EventBridge finds malformed.
  o = Put({{"Entries", {{{"Source", "s"}, {"DetailType", "t"}, {"Detail", json::array({1, 2})}}}}});
  EXPECT_TASK_ERROR(o, "EventBridge.FailedEntry");
  EXPECT_EQ(json::parse(o.cause)["Entries"][0]["ErrorCode"], "MalformedDetail");
  o = Put({{"Entries", {{{"Source", "s"}, {"DetailType", "t"}, {"EventBusName", "no-such-bus"}, {"Detail", "{}"}}}}});
  EXPECT_TASK_ERROR(o, "EventBridge.FailedEntry");
}

TEST_F(EventsTaskTest, BadRequestsAreRefusedWholeAndPutNothing) {
  EXPECT_TASK_ERROR(Put(json::object()), "EventBridge.ValidationException");
  EXPECT_TASK_ERROR(Put({{"Entries", nullptr}}), "EventBridge.ValidationException");
  EXPECT_TASK_ERROR(Put({{"Entries", json::array()}}), "EventBridge.ValidationException");
  EXPECT_TASK_ERROR(Put({{"Entries", "e"}}), "EventBridge.SerializationException");
  EXPECT_TASK_ERROR(Put({{"Entries", {"e"}}}), "EventBridge.SerializationException");
  EXPECT_TASK_ERROR(Put({{"Entries", {{{"Source", "s"}, {"Resources", "r"}}}}}), "EventBridge.SerializationException");
  EXPECT_TASK_ERROR(Put({{"Entries", {{{"Source", "s"}, {"Time", "yesterday"}}}}}),
                    "EventBridge.SerializationException");
  json many = json::array();
  for (int i = 0; i < 1000; ++i) many.push_back({{"Source", "s"}, {"DetailType", "t"}, {"Detail", "{}"}});
  TaskOutcome o = Put({{"Entries", many}});
  EXPECT_TASK_ERROR(o, "EventBridge.ValidationException");
  EXPECT_NE(o.cause.find("less than or equal to 10"), std::string::npos) << o.cause;
  o = Put({{"Entries", {{{"Source", "s"}, {"DetailType", "t"}, {"Detail", {{"big", std::string(300000, 'x')}}}}}}});
  EXPECT_TASK_ERROR(o, "EventBridge.ValidationException");

  EXPECT_TASK_ERROR(Put({{"Entries", {{{"Source", "s"}, {"Colour", "red"}}}}}), "States.Runtime");
  EXPECT_TASK_ERROR(Put({{"Entries", {{{"Source", "s"}, {"source", "t"}}}}}), "States.Runtime");
  EXPECT_TASK_ERROR(Put({{"Entries", json::array()}, {"EndpointId", "e"}}), "States.Runtime");
  EXPECT_TASK_ERROR(Put("Entries"), "States.Runtime");
  EXPECT_TRUE(Outbox().empty());
  EXPECT_EQ(wakes_, 0);
}

TEST(EventsTaskArns, StateMachineOfAnExecution) {
  EXPECT_EQ(events::StateMachineArnOfExecution(kExecution), "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline");
  EXPECT_EQ(events::StateMachineArnOfExecution(""), "");
  EXPECT_EQ(events::StateMachineArnOfExecution("arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"), "");
  EXPECT_EQ(events::StateMachineArnOfExecution("arn:aws:states:r:a:execution::n"), "");
  EXPECT_EQ(events::StateMachineArnOfExecution("arn:aws:states:r:a:execution:m:n:extra"), "");
  events::EventsTaskIntegration none(nullptr);
  EXPECT_TRUE(none.Supports("putEvents", ""));
  EXPECT_TRUE(none.Supports("putEvents", "waitForTaskToken"));
  EXPECT_FALSE(none.Supports("putEvents", "sync"));
}

// ---- Bedrock ----

class BedrockTaskTest : public ::testing::Test {
 protected:
  // `model_dir`: what serves lathe.default-v1 (a directory that does not exist: jobs cannot train).
  void Open(const std::string& model_dir, const std::string& worker_binary = "") {
    service::ServiceConfig config;
    config.worker_binary = worker_binary;
    config.data_dir = dir_.path() + "/data";
    config.model_aliases = service::DefaultModelAliases();
    config.models[service::kDefaultModelId] = model_dir;
    config.file_roots = {dir_.path()};
    auto opened = service::BedrockService::Open(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_ = std::move(*opened);
    integration_ = std::make_unique<bedrock::BedrockTaskIntegration>(&bedrock_->jobs(), &bedrock_->runtime());
  }
  // The job request in Step Functions' spelling (as the CDK's task writes it).
  json JobParameters(const std::string& name, const std::string& training) {
    return {{"JobName", name},
            {"CustomModelName", name + "-model"},
            {"RoleArn", "arn:aws:iam::123456789012:role/BedrockRole"},
            {"BaseModelIdentifier", "amazon.titan-text-express-v1"},
            {"TrainingDataConfig", {{"S3Uri", "file://" + dir_.Write(name + ".jsonl", training)}}},
            {"OutputDataConfig", {{"S3Uri", "file://" + dir_.path() + "/out"}}},
            {"HyperParameters", {{"epochCount", "1"}, {"batchSize", "1"}}}};
  }
  // Polls until the job has ended (the executor does this every few seconds).
  TaskOutcome PollToEnd(const TaskCall& call, const json& started, int tenths_of_seconds = 300) {
    for (int i = 0; i < tenths_of_seconds; ++i) {
      std::optional<TaskOutcome> o = integration_->Poll(call, started);
      if (o) return *o;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "the job did not end";
    return TaskOutcome::Failure("test", "timeout");
  }

  TempDir dir_;
  std::unique_ptr<service::BedrockService> bedrock_;
  std::unique_ptr<bedrock::BedrockTaskIntegration> integration_;
};

constexpr char kGoodLine[] = R"({"prompt": "a", "completion": "b"})" "\n";

TEST_F(BedrockTaskTest, CreateJobStartsAJobThatPollFollowsAndCancelStops) {
  Open(dir_.path() + "/no-model");
  EXPECT_TRUE(integration_->Supports("createModelCustomizationJob", ""));
  EXPECT_TRUE(integration_->Supports("createModelCustomizationJob", "sync"));
  EXPECT_FALSE(integration_->Supports("createModelCustomizationJob", "waitForTaskToken"));
  TaskCall call = Call("bedrock", "createModelCustomizationJob", JobParameters("sfn-job", kGoodLine), "sync");
  TaskOutcome started = integration_->Start(call);
  ASSERT_TRUE(started.ok) << started.error << ": " << started.cause;
  const std::string arn = started.result["JobArn"];
  auto job = bedrock_->jobs().Get(arn);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ((*job)["jobName"], "sfn-job");
  EXPECT_EQ((*job)["outputModelName"], "sfn-job-model");
  EXPECT_EQ((*job)["hyperParameters"]["epochCount"], "1");
  EXPECT_EQ((*job)["trainingDataConfig"]["s3Uri"], "file://" + dir_.File("sfn-job.jsonl"));

  // Started again (after a crash before its answer was recorded): the same job, not a conflict.
  TaskOutcome again = integration_->Start(call);
  ASSERT_TRUE(again.ok) << again.error << ": " << again.cause;
  EXPECT_EQ(again.result["JobArn"], arn);

  integration_->Cancel(call, started.result);
  TaskOutcome ended = PollToEnd(call, started.result);
  EXPECT_TASK_ERROR(ended, "States.TaskFailed");
  json description = json::parse(ended.cause);
  EXPECT_EQ(description["JobArn"], arn);
  EXPECT_TRUE(description["Status"] == "Stopped" || description["Status"] == "Failed") << description.dump();
  EXPECT_EQ(description["HyperParameters"]["epochCount"], "1");  // a map's keys are the user's
  EXPECT_EQ(description["TrainingDataConfig"]["S3Uri"], "file://" + dir_.File("sfn-job.jsonl"));
  EXPECT_FALSE(description.contains("LatheProgress"));
}

TEST_F(BedrockTaskTest, ASyncJobThatTrainsEndsWithItsDescription) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  if (!std::filesystem::exists(LATHE_BINARY)) GTEST_SKIP() << LATHE_BINARY << " is not built: jobs train in it";
  const std::string stories = SharedDir() + "/models/stories260K";
  auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", dir_.File("stories"));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  Open(dir_.File("stories"), LATHE_BINARY);
  std::string lines;
  for (int i = 0; i < 8; ++i) lines += R"({"prompt": "Once upon a time", "completion": " there was a cat."})" "\n";
  json parameters = JobParameters("trained", lines);
  parameters["BaseModelIdentifier"] = "lathe.default-v1";
  TaskCall call = Call("bedrock", "createModelCustomizationJob", parameters, "sync");
  TaskOutcome started = integration_->Start(call);
  ASSERT_TRUE(started.ok) << started.error << ": " << started.cause;
  TaskOutcome ended = PollToEnd(call, started.result, 1200);
  ASSERT_TRUE(ended.ok) << ended.error << ": " << ended.cause;
  EXPECT_EQ(ended.result["JobArn"], started.result["JobArn"]);
  EXPECT_EQ(ended.result["Status"], "Completed");
  EXPECT_EQ(ended.result["JobName"], "trained");
  EXPECT_EQ(ended.result["OutputModelName"], "trained-model");
  EXPECT_TRUE(ended.result.contains("OutputModelArn")) << ended.result.dump();
  EXPECT_TRUE(ended.result["TrainingMetrics"].contains("TrainingLoss")) << ended.result.dump();
}

TEST_F(BedrockTaskTest, AJobThatFailsFailsTheSyncTaskWithItsDescription) {
  Open(dir_.path() + "/no-model");
  // Bedrock's own camelCase spelling is accepted too.
  json parameters = JobParameters("bad-data", "this is not JSON\n");
  json camel = json::object();
  for (const auto& [k, v] : parameters.items()) camel[std::string(1, static_cast<char>(std::tolower(k[0]))) + k.substr(1)] = v;
  camel["trainingDataConfig"] = {{"s3Uri", parameters["TrainingDataConfig"]["S3Uri"]}};
  TaskCall call = Call("bedrock", "createModelCustomizationJob", camel, "sync");
  TaskOutcome started = integration_->Start(call);
  ASSERT_TRUE(started.ok) << started.error << ": " << started.cause;
  TaskOutcome ended = PollToEnd(call, started.result);
  EXPECT_TASK_ERROR(ended, "States.TaskFailed");
  json description = json::parse(ended.cause);
  EXPECT_EQ(description["Status"], "Failed");
  EXPECT_EQ(description["JobName"], "bad-data");
  EXPECT_FALSE(description.value("FailureMessage", "").empty()) << description.dump();
}

TEST_F(BedrockTaskTest, BadJobRequestsAreBedrocksErrors) {
  Open(dir_.path() + "/no-model");
  auto start = [&](json p) { return integration_->Start(Call("bedrock", "createModelCustomizationJob", std::move(p))); };
  json p = JobParameters("bad", kGoodLine);
  p.erase("JobName");
  EXPECT_TASK_ERROR(start(p), "Bedrock.ValidationException");
  p = JobParameters("bad", kGoodLine);
  p["JobName"] = std::string(64, 'j');  // JobName is at most 63 characters
  EXPECT_TASK_ERROR(start(p), "Bedrock.ValidationException");
  p = JobParameters("bad", kGoodLine);
  p["TrainingDataConfig"] = "file:///x.jsonl";
  EXPECT_TASK_ERROR(start(p), "Bedrock.ValidationException");
  p = JobParameters("bad", kGoodLine);
  p["HyperParameters"] = {{"epochCount", 2}};  // hyperparameters are strings
  EXPECT_TASK_ERROR(start(p), "Bedrock.ValidationException");
  p = JobParameters("bad", kGoodLine);
  p["BaseModelIdentifier"] = "no.such-model-v1";
  TaskOutcome o = start(p);
  EXPECT_TASK_ERROR(o, "Bedrock.ResourceNotFoundException");
  EXPECT_NE(o.cause.find("Service: AmazonBedrock; Status Code: 404"), std::string::npos) << o.cause;

  p = JobParameters("bad", kGoodLine);
  p["Colour"] = "red";
  EXPECT_TASK_ERROR(start(p), "States.Runtime");
  p = JobParameters("bad", kGoodLine);
  p["jobName"] = "twice";
  EXPECT_TASK_ERROR(start(p), "States.Runtime");
  EXPECT_TASK_ERROR(start("job"), "States.Runtime");
  auto listed = bedrock_->jobs().List({});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE((*listed)["modelCustomizationJobSummaries"].empty()) << listed->dump();

  TaskCall call = Call("bedrock", "createModelCustomizationJob", json::object(), "sync");
  std::optional<TaskOutcome> polled =
      integration_->Poll(call, {{"JobArn", "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/nope"}});
  ASSERT_TRUE(polled);
  EXPECT_TASK_ERROR(*polled, "Bedrock.ResourceNotFoundException");
  polled = integration_->Poll(call, json::object());
  ASSERT_TRUE(polled);
  EXPECT_TASK_ERROR(*polled, "States.Runtime");
  integration_->Cancel(call, json::object());  // nothing to stop: no effect
}

TEST_F(BedrockTaskTest, InvokeModelRefusesWhatItCannotRun) {
  Open(dir_.path() + "/no-model");
  auto invoke = [&](json p) { return integration_->Start(Call("bedrock", "invokeModel", std::move(p))); };
  EXPECT_TRUE(integration_->Supports("invokeModel", ""));
  EXPECT_FALSE(integration_->Supports("invokeModel", "sync"));
  EXPECT_FALSE(integration_->Supports("getModelCustomizationJob", ""));
  const json body = {{"inputText", "hi"}};
  EXPECT_TASK_ERROR(invoke({{"Body", body}}), "Bedrock.ValidationException");  // no ModelId
  EXPECT_TASK_ERROR(invoke({{"ModelId", 5}, {"Body", body}}), "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", std::string(2049, 'm')}, {"Body", body}}), "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "no.such-model-v1"}, {"Body", body}}), "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}, {"Body", {{"inputText", std::string(300000, 'x')}}}}),
                    "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}, {"Body", "{not json"}}), "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}, {"Body", body}, {"ContentType", "text/plain"}}),
                    "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}, {"Body", body}, {"Accept", "image/png"}}),
                    "Bedrock.ValidationException");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}}), "States.Runtime");  // no Body
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}, {"Input", {{"S3Uri", "s3://b/k"}}}}), "States.Runtime");
  EXPECT_TASK_ERROR(invoke({{"ModelId", "lathe.default-v1"}, {"Body", body}, {"Colour", "red"}}), "States.Runtime");
}

TEST_F(BedrockTaskTest, InvokeModelAnswersWithTheModelsBody) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  const std::string stories = SharedDir() + "/models/stories260K";
  auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", dir_.File("stories"));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  Open(dir_.File("stories"));
  TaskOutcome o = integration_->Start(Call(
      "bedrock", "invokeModel",
      {{"ModelId", "lathe.default-v1"},
       {"Body", {{"inputText", "Once upon a time"}, {"textGenerationConfig", {{"maxTokenCount", 8}, {"temperature", 0}}}}},
       {"ContentType", "application/json"},
       {"Accept", "*/*"}}));
  ASSERT_TRUE(o.ok) << o.error << ": " << o.cause;
  EXPECT_EQ(o.result["ContentType"], "application/json");
  ASSERT_TRUE(o.result["Body"].contains("results")) << o.result.dump();
  EXPECT_FALSE(o.result["Body"]["results"][0]["outputText"].get<std::string>().empty()) << o.result.dump();
  EXPECT_GT(o.result["Body"]["inputTextTokenCount"].get<int>(), 0);

  // The Body as text, as a state may pass it.
  TaskOutcome text = integration_->Start(
      Call("bedrock", "invokeModel",
           {{"ModelId", "lathe.default-v1"},
            {"Body", R"({"inputText": "Once upon a time", "textGenerationConfig": {"maxTokenCount": 8, "temperature": 0}})"}}));
  ASSERT_TRUE(text.ok) << text.error << ": " << text.cause;
  EXPECT_EQ(text.result["Body"]["results"][0]["outputText"], o.result["Body"]["results"][0]["outputText"]);
}

}  // namespace
}  // namespace lathe
