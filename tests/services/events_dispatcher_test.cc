// The dispatcher and the scheduler, driven by a fake clock and a fake deliverer: matching,
// transformed input, retries with back-off, dead letters, the cursor moving only with the
// recorded deliveries, restarts, and rate()/cron() schedules firing without any sleep.
#include "services/events/dispatcher.h"

#include <gtest/gtest.h>

#include "services/events/scheduler.h"
#include "test_util.h"

namespace lathe::events {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

const Scope kScope{"123456789012", "ap-south-1"};
constexpr char kTopic[] = "arn:aws:sns:ap-south-1:123456789012:finetuning-notifications";
constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class FakeClock : public Clock {
 public:
  int64_t NowMs() override { return now; }
  int64_t now = kT0;
};

class FakeDeliverer : public TargetDeliverer {
 public:
  bool Exists(const std::string&) const override { return true; }
  Status Deliver(const Delivery& d) override {
    ++attempts;
    if (failures_left > 0) {
      --failures_left;
      return Status::IOError("topic unavailable");
    }
    delivered.push_back(d);
    return Status::Ok();
  }
  int failures_left = 0;
  int attempts = 0;
  std::vector<Delivery> delivered;
};

class EventsDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    registry_.Add("sns", &sns_);
  }
  void Open() {
    dispatcher_.reset();
    scheduler_.reset();
    backend_.reset();
    store_.reset();
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    backend_ = std::make_unique<EventsBackend>(store_.get(), PatternOptions{});
    DispatcherOptions options;
    options.first_backoff_ms = 1000;
    options.max_backoff_ms = 8000;
    dispatcher_ = std::make_unique<EventDispatcher>(store_.get(), backend_.get(), &registry_, &clock_, options);
    scheduler_ = std::make_unique<EventScheduler>(store_.get(), backend_.get(), &clock_);
  }
  void Rule(const std::string& name, const std::string& pattern, Target target) {
    PutRuleInput in;
    in.name = name;
    in.event_pattern = pattern;
    ASSERT_TRUE(backend_->PutRule(kScope, in).ok());
    ASSERT_TRUE(backend_->PutTargets(kScope, name, "", {target}).ok());
  }
  static Target TopicTarget(std::optional<RetryPolicy> retry = std::nullopt) {
    Target t;
    t.id = "1";
    t.arn = kTopic;
    t.retry_policy = retry;
    return t;
  }
  // An S3 "Object Created" event in the outbox, as the S3 service publishes it.
  void PublishS3(const std::string& key) {
    store::OutboxEvent e;
    e.source = "aws.s3";
    e.detail_type = "Object Created";
    e.account = kScope.account;
    e.region = kScope.region;
    e.resources = {"arn:aws:s3:::b"};
    e.detail = {{"bucket", {{"name", "b"}}}, {"object", {{"key", key}}}};
    e.time_ms = clock_.now;
    store::WriteBatch batch;
    batch.events.push_back(e);
    ASSERT_TRUE(store_->Write(batch).ok());
  }
  size_t Pending() { return ListPendingDeliveries(store_.get())->size(); }

  TempDir dir_;
  FakeClock clock_;
  FakeDeliverer sns_;
  DelivererRegistry registry_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<EventsBackend> backend_;
  std::unique_ptr<EventDispatcher> dispatcher_;
  std::unique_ptr<EventScheduler> scheduler_;
};

constexpr char kTutorialPattern[] = R"({"source":["aws.s3"],"detail-type":["Object Created"],
  "detail":{"bucket":{"name":["b"]},"object":{"key":[{"prefix":"training-data/","suffix":".jsonl"}]}}})";

TEST_F(EventsDispatcherTest, AMatchingS3EventIsDeliveredAsAnAwsEnvelopeOnce) {
  Rule("trigger", kTutorialPattern, TopicTarget());
  PublishS3("training-data/new.jsonl");
  PublishS3("training-data/notes.txt");  // no match
  PublishS3("other/new.jsonl");          // no match
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  ASSERT_EQ(sns_.delivered.size(), 1u);
  const Delivery& d = sns_.delivered[0];
  EXPECT_EQ(d.target_arn, kTopic);
  EXPECT_EQ(d.rule_arn, "arn:aws:events:ap-south-1:123456789012:rule/trigger");
  const json event = json::parse(d.input);
  EXPECT_EQ(event["version"], "0");
  EXPECT_EQ(event["source"], "aws.s3");
  EXPECT_EQ(event["detail-type"], "Object Created");
  EXPECT_EQ(event["detail"]["object"]["key"], "training-data/new.jsonl");
  EXPECT_EQ(event["account"], kScope.account);
  EXPECT_EQ(event["region"], kScope.region);
  EXPECT_EQ(event["time"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(event["id"], d.event_id);
  EXPECT_EQ(Pending(), 0u);
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  EXPECT_EQ(sns_.delivered.size(), 1u);  // consumed: never again
}

TEST_F(EventsDispatcherTest, DisabledRulesAndOtherRegionsDoNotMatch) {
  Rule("trigger", kTutorialPattern, TopicTarget());
  ASSERT_TRUE(backend_->DisableRule(kScope, "trigger", "").ok());
  PublishS3("training-data/a.jsonl");
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  EXPECT_TRUE(sns_.delivered.empty());
  ASSERT_TRUE(backend_->EnableRule(kScope, "trigger", "").ok());
  store::OutboxEvent e;
  e.source = "aws.s3";
  e.detail_type = "Object Created";
  e.account = kScope.account;
  e.region = "us-east-1";
  e.detail = {{"bucket", {{"name", "b"}}}, {"object", {{"key", "training-data/a.jsonl"}}}};
  store::WriteBatch batch;
  batch.events.push_back(e);
  ASSERT_TRUE(store_->Write(batch).ok());
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  EXPECT_TRUE(sns_.delivered.empty());
}

TEST_F(EventsDispatcherTest, PutEventsOnACustomBusReachOnlyThatBusesRules) {
  ASSERT_TRUE(backend_->CreateEventBus(kScope, "pipeline", "", {}).ok());
  PutRuleInput in;
  in.name = "custom";
  in.bus = "pipeline";
  in.event_pattern = R"({"source":["my.app"]})";
  ASSERT_TRUE(backend_->PutRule(kScope, in).ok());
  Target t = TopicTarget();
  t.input_transformer = InputTransformer{{{"n", "$.detail.n"}}, R"({"n": <n>, "rule": "<aws.events.rule-name>"})"};
  ASSERT_TRUE(backend_->PutTargets(kScope, "custom", "pipeline", {t}).ok());
  Rule("default-rule", R"({"source":["my.app"]})", TopicTarget());
  PutEventsEntry entry;
  entry.source = "my.app";
  entry.detail_type = "Thing";
  entry.detail = R"({"n": 7})";
  entry.bus = "pipeline";
  Result<std::vector<EntryResult>> put = backend_->PutEvents(kScope, {entry}, clock_.now);
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  ASSERT_EQ(sns_.delivered.size(), 1u);
  EXPECT_EQ(json::parse(sns_.delivered[0].input), json({{"n", 7}, {"rule", "custom"}}));
  EXPECT_EQ(sns_.delivered[0].event_id, (*put)[0].id);
}

TEST_F(EventsDispatcherTest, FailuresAreRetriedWithExponentialBackoffThenDelivered) {
  Rule("trigger", kTutorialPattern, TopicTarget());
  sns_.failures_left = 3;
  PublishS3("training-data/a.jsonl");
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  EXPECT_EQ(sns_.attempts, 1);
  // Not due before its back-off: 1 s, then 2 s, then 4 s.
  for (int64_t wait : {1000, 2000, 4000}) {
    clock_.now += wait - 1;
    ASSERT_TRUE(dispatcher_->RunOnce().ok());
    const int before = sns_.attempts;
    clock_.now += 1;
    ASSERT_TRUE(dispatcher_->RunOnce().ok());
    EXPECT_EQ(sns_.attempts, before + 1) << "after waiting " << wait << " ms";
  }
  ASSERT_EQ(sns_.delivered.size(), 1u);
  EXPECT_EQ(sns_.attempts, 4);
  EXPECT_EQ(Pending(), 0u);
  EXPECT_TRUE(ListFailedDeliveries(store_.get())->empty());
}

TEST_F(EventsDispatcherTest, BackoffIsCappedAndAttemptsEndInADeadLetterRecord) {
  Rule("trigger", kTutorialPattern, TopicTarget(RetryPolicy{5, 86400}));
  sns_.failures_left = 1000;
  PublishS3("training-data/a.jsonl");
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  for (int i = 0; i < 10; ++i) {
    clock_.now += 8000;  // the cap: every retry is due after at most 8 s
    ASSERT_TRUE(dispatcher_->RunOnce().ok());
  }
  EXPECT_EQ(sns_.attempts, 6);  // the first attempt and 5 retries
  EXPECT_EQ(Pending(), 0u);
  Result<std::vector<DeliveryRecord>> failed = ListFailedDeliveries(store_.get());
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].attempts, 6);
  EXPECT_EQ((*failed)[0].target_arn, kTopic);
  EXPECT_EQ((*failed)[0].rule_arn, "arn:aws:events:ap-south-1:123456789012:rule/trigger");
  EXPECT_EQ((*failed)[0].last_error, "topic unavailable");
  EXPECT_EQ(json::parse((*failed)[0].input)["detail"]["object"]["key"], "training-data/a.jsonl");
}

TEST_F(EventsDispatcherTest, MaximumEventAgeEndsRetriesEarly) {
  Rule("trigger", kTutorialPattern, TopicTarget(RetryPolicy{185, 60}));
  sns_.failures_left = 1000;
  PublishS3("training-data/a.jsonl");
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(dispatcher_->RunOnce().ok());
    clock_.now += 1000;
  }
  EXPECT_EQ(Pending(), 0u);
  ASSERT_EQ(ListFailedDeliveries(store_.get())->size(), 1u);
  EXPECT_LT(sns_.attempts, 12);  // 1+2+4+8+8+8+8+8 s reach 60 s after about 9 attempts
}

TEST_F(EventsDispatcherTest, NoDelivererForAServiceIsARetryableFailure) {
  Target t = TopicTarget(RetryPolicy{1, 3600});
  t.arn = "arn:aws:states:ap-south-1:123456789012:stateMachine:pipeline";
  Rule("trigger", kTutorialPattern, t);
  PublishS3("training-data/a.jsonl");
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  Result<std::vector<DeliveryRecord>> pending = ListPendingDeliveries(store_.get());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_NE((*pending)[0].last_error.find("no deliverer for service 'states'"), std::string::npos);
  clock_.now += 1000;
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  ASSERT_EQ(ListFailedDeliveries(store_.get())->size(), 1u);
}

TEST_F(EventsDispatcherTest, TheCursorMovesOnlyTogetherWithTheRecordedDeliveries) {
  Rule("trigger", kTutorialPattern, TopicTarget());
  PublishS3("training-data/a.jsonl");
  PublishS3("training-data/b.jsonl");
  EXPECT_EQ(*store_->Cursor(kDispatcherCursor), 0);
  Result<size_t> matched = dispatcher_->MatchNew();
  ASSERT_TRUE(matched.ok());
  EXPECT_EQ(*matched, 2u);
  // After matching and before any delivery: both deliveries are recorded and the cursor is past
  // both events, in the same transaction.
  EXPECT_EQ(Pending(), 2u);
  EXPECT_EQ(*store_->Cursor(kDispatcherCursor), 2);
  EXPECT_TRUE(sns_.delivered.empty());
}

TEST_F(EventsDispatcherTest, ARestartBetweenMatchingAndDeliveryDeliversAfterwards) {
  Rule("trigger", kTutorialPattern, TopicTarget());
  PublishS3("training-data/a.jsonl");
  ASSERT_TRUE(dispatcher_->MatchNew().ok());
  ASSERT_TRUE(sns_.delivered.empty());
  Open();  // the process "dies" here: a new store, backend and dispatcher
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  ASSERT_EQ(sns_.delivered.size(), 1u);
  EXPECT_EQ(json::parse(sns_.delivered[0].input)["detail"]["object"]["key"], "training-data/a.jsonl");
  EXPECT_EQ(Pending(), 0u);
}

TEST_F(EventsDispatcherTest, ARestartBeforeMatchingMatchesAfterwards) {
  Rule("trigger", kTutorialPattern, TopicTarget());
  PublishS3("training-data/a.jsonl");
  Open();
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  EXPECT_EQ(sns_.delivered.size(), 1u);
}

TEST_F(EventsDispatcherTest, ARateScheduleFiresEveryPeriodFromTheFakeClock) {
  PutRuleInput in;
  in.name = "every-minute";
  in.schedule_expression = "rate(1 minute)";
  ASSERT_TRUE(backend_->PutRule(kScope, in).ok());  // anchored at the real time of creation
  Target t = TopicTarget();
  ASSERT_TRUE(backend_->PutTargets(kScope, "every-minute", "", {t}).ok());
  const int64_t anchor = backend_->DescribeRule(kScope, "every-minute", "")->schedule_anchor_ms;
  clock_.now = anchor + 1;
  ASSERT_EQ(*scheduler_->Tick(), 0u);
  EXPECT_EQ(scheduler_->NextFireMs(), anchor + 60'000);
  clock_.now = anchor + 59'999;
  EXPECT_EQ(*scheduler_->Tick(), 0u);
  clock_.now = anchor + 60'000;
  EXPECT_EQ(*scheduler_->Tick(), 1u);
  EXPECT_EQ(*scheduler_->Tick(), 0u);  // once per time
  clock_.now = anchor + 120'500;
  EXPECT_EQ(*scheduler_->Tick(), 1u);
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  ASSERT_EQ(sns_.delivered.size(), 2u);
  const json event = json::parse(sns_.delivered[0].input);
  EXPECT_EQ(event["source"], "aws.events");
  EXPECT_EQ(event["detail-type"], "Scheduled Event");
  EXPECT_EQ(event["resources"], json::array({"arn:aws:events:ap-south-1:123456789012:rule/every-minute"}));
  EXPECT_EQ(event["detail"], json::object());
  // A long stop is not back-filled: one event for the time that came, the next one after now.
  clock_.now = anchor + 3'600'000 + 10;
  EXPECT_EQ(*scheduler_->Tick(), 1u);
  EXPECT_EQ(scheduler_->NextFireMs(), anchor + 3'660'000);
}

TEST_F(EventsDispatcherTest, AScheduledEventReachesOnlyItsOwnRule) {
  PutRuleInput in;
  in.name = "nightly";
  in.schedule_expression = "cron(0 2 * * ? *)";
  ASSERT_TRUE(backend_->PutRule(kScope, in).ok());
  ASSERT_TRUE(backend_->PutTargets(kScope, "nightly", "", {TopicTarget()}).ok());
  Target other = TopicTarget();
  other.arn = std::string(kTopic) + "-other";
  Rule("all-aws-events", R"({"source":["aws.events"]})", other);
  clock_.now = kT0;  // midnight
  ASSERT_EQ(*scheduler_->Tick(), 0u);
  EXPECT_EQ(scheduler_->NextFireMs(), kT0 + 2 * 3'600'000);
  clock_.now = kT0 + 2 * 3'600'000;
  ASSERT_EQ(*scheduler_->Tick(), 1u);
  ASSERT_TRUE(dispatcher_->RunOnce().ok());
  ASSERT_EQ(sns_.delivered.size(), 1u);
  EXPECT_EQ(sns_.delivered[0].target_arn, kTopic);
  EXPECT_EQ(json::parse(sns_.delivered[0].input)["time"], "2026-01-01T02:00:00Z");
}

TEST_F(EventsDispatcherTest, DisabledSchedulesDoNotFire) {
  PutRuleInput in;
  in.name = "every-minute";
  in.schedule_expression = "rate(1 minute)";
  in.state = "DISABLED";
  ASSERT_TRUE(backend_->PutRule(kScope, in).ok());
  clock_.now = NowMillis() + 3'600'000;
  EXPECT_EQ(*scheduler_->Tick(), 0u);
  EXPECT_EQ(scheduler_->NextFireMs(), -1);
}

}  // namespace
}  // namespace lathe::events
