// EventBridge's backend: buses, rules, targets, tags, PutEvents and TestEventPattern, with AWS's
// errors, against a real metadata store in a temporary folder.
#include "services/events/backend.h"

#include <gtest/gtest.h>

#include "services/events/rule_doc.h"
#include "test_util.h"

namespace lathe::events {
namespace {

using lathe::testing::TempDir;

const Scope kScope{"123456789012", "ap-south-1"};
constexpr char kTutorialPattern[] = R"({"source":["aws.s3"],"detail-type":["Object Created"],
  "detail":{"bucket":{"name":["b"]},"object":{"key":[{"prefix":"training-data/","suffix":".jsonl"}]}}})";

class EventsBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(PatternOptions{}); }
  void Open(PatternOptions options) {
    backend_.reset();
    store_.reset();
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    backend_ = std::make_unique<EventsBackend>(store_.get(), options);
  }
  Result<std::string> Put(const std::string& name, const std::string& pattern = R"({"source":["my.app"]})",
                          const std::string& bus = "") {
    PutRuleInput in;
    in.name = name;
    in.bus = bus;
    in.event_pattern = pattern;
    return backend_->PutRule(kScope, in);
  }
  static Target SnsTarget(const std::string& id) {
    Target t;
    t.id = id;
    t.arn = "arn:aws:sns:ap-south-1:123456789012:topic-" + id;
    return t;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<EventsBackend> backend_;
};

TEST_F(EventsBackendTest, PutRuleAnswersAwsShapedArnsOnDefaultAndCustomBuses) {
  Result<std::string> arn = Put("bedrock-finetuning-trigger", kTutorialPattern);
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  EXPECT_EQ(*arn, "arn:aws:events:ap-south-1:123456789012:rule/bedrock-finetuning-trigger");
  ASSERT_TRUE(backend_->CreateEventBus(kScope, "pipeline", "ours", {}).ok());
  Result<std::string> custom = Put("r1", R"({"source":["x"]})", "pipeline");
  ASSERT_TRUE(custom.ok()) << custom.status().ToString();
  EXPECT_EQ(*custom, "arn:aws:events:ap-south-1:123456789012:rule/pipeline/r1");
  Result<Rule> rule = backend_->DescribeRule(kScope, "r1", "arn:aws:events:ap-south-1:123456789012:event-bus/pipeline");
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  EXPECT_EQ(rule->bus, "pipeline");
  EXPECT_EQ(rule->state, "ENABLED");
}

TEST_F(EventsBackendTest, PutRuleReplacesTheRuleAndKeepsItsTargets) {
  ASSERT_TRUE(Put("r").ok());
  ASSERT_TRUE(backend_->PutTargets(kScope, "r", "", {SnsTarget("1")}).ok());
  PutRuleInput in;
  in.name = "r";
  in.schedule_expression = "rate(5 minutes)";
  in.state = "DISABLED";
  ASSERT_TRUE(backend_->PutRule(kScope, in).ok());
  Result<Rule> rule = backend_->DescribeRule(kScope, "r", "");
  ASSERT_TRUE(rule.ok());
  EXPECT_EQ(rule->event_pattern, "");  // omitted members are not kept, as AWS documents
  EXPECT_EQ(rule->schedule_expression, "rate(5 minutes)");
  EXPECT_EQ(rule->state, "DISABLED");
  ASSERT_EQ(rule->targets.size(), 1u);
}

TEST_F(EventsBackendTest, PutRuleRefusesWhatAwsRefuses) {
  auto code = [](const Result<std::string>& r) { return r.ok() ? std::string("OK") : r.status().aws_code(); };
  EXPECT_EQ(code(Put("bad name!")), "ValidationException");
  EXPECT_EQ(code(Put(std::string(65, 'a'))), "ValidationException");
  EXPECT_EQ(code(Put("r", "")), "ValidationException");  // neither pattern nor schedule
  EXPECT_EQ(code(Put("r", "{not json")), "InvalidEventPatternException");
  EXPECT_EQ(code(Put("r", R"({"source":[]})")), "InvalidEventPatternException");
  EXPECT_EQ(code(Put("r", std::string(5000, ' '))), "ValidationException");
  EXPECT_EQ(code(Put("r", R"({"source":["x"]})", "no-such-bus")), "ResourceNotFoundException");
  PutRuleInput cron;
  cron.name = "c";
  cron.schedule_expression = "cron(0 12 * * * *)";  // both day fields given: AWS wants a '?'
  EXPECT_EQ(code(backend_->PutRule(kScope, cron)), "ValidationException");
  cron.schedule_expression = "rate(1 minute)";
  cron.state = "ON";
  EXPECT_EQ(code(backend_->PutRule(kScope, cron)), "ValidationException");
  ASSERT_TRUE(backend_->CreateEventBus(kScope, "custom", "", {}).ok());
  cron.state.reset();
  cron.bus = "custom";
  Result<std::string> r = backend_->PutRule(kScope, cron);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("only on the default event bus"), std::string::npos);
}

TEST_F(EventsBackendTest, TheTutorialsPrefixAndSuffixPatternIsAcceptedUnlessStrict) {
  ASSERT_TRUE(Put("lenient", kTutorialPattern).ok());
  Open(PatternOptions{.strict_aws = true});
  Result<std::string> strict = Put("strict", kTutorialPattern);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().aws_code(), "InvalidEventPatternException");
}

TEST_F(EventsBackendTest, DescribeRuleOfAMissingRuleNamesRuleAndBus) {
  Result<Rule> r = backend_->DescribeRule(kScope, "nope", "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().aws_code(), "ResourceNotFoundException");
  EXPECT_EQ(r.status().message(), "Rule nope does not exist on EventBus default.");
  // Another region is another set of rules.
  ASSERT_TRUE(Put("r").ok());
  EXPECT_FALSE(backend_->DescribeRule(Scope{kScope.account, "us-east-1"}, "r", "").ok());
}

TEST_F(EventsBackendTest, ListRulesFiltersByPrefixAndPagesWithTokens) {
  for (const char* n : {"b-2", "a-1", "b-1", "b-3", "c"}) ASSERT_TRUE(Put(n).ok());
  PageRequest page;
  page.limit = 2;
  Result<Page<Rule>> first = backend_->ListRules(kScope, "", "b-", page);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].name, "b-1");
  EXPECT_EQ(first->items[1].name, "b-2");
  ASSERT_FALSE(first->next_token.empty());
  page.next_token = first->next_token;
  Result<Page<Rule>> second = backend_->ListRules(kScope, "", "b-", page);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].name, "b-3");
  EXPECT_TRUE(second->next_token.empty());
  page.next_token = "forged";
  EXPECT_EQ(backend_->ListRules(kScope, "", "", page).status().aws_code(), "ValidationException");
  page.next_token.clear();
  page.limit = 0;
  EXPECT_EQ(backend_->ListRules(kScope, "", "", page).status().aws_code(), "ValidationException");
}

TEST_F(EventsBackendTest, EnableAndDisableChangeTheStateAndTheRulesThatMatch) {
  ASSERT_TRUE(Put("r").ok());
  Result<std::shared_ptr<const RuleSet>> set = backend_->EnabledRules();
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)->rules.size(), 1u);
  ASSERT_TRUE(backend_->DisableRule(kScope, "r", "").ok());
  EXPECT_EQ(backend_->DescribeRule(kScope, "r", "")->state, "DISABLED");
  EXPECT_TRUE((*backend_->EnabledRules())->rules.empty());
  ASSERT_TRUE(backend_->EnableRule(kScope, "r", "").ok());
  EXPECT_EQ((*backend_->EnabledRules())->rules.size(), 1u);
  EXPECT_EQ(backend_->EnableRule(kScope, "missing", "").aws_code(), "ResourceNotFoundException");
}

TEST_F(EventsBackendTest, DeleteRuleIsRefusedWhileTargetsRemain) {
  ASSERT_TRUE(Put("r").ok());
  ASSERT_TRUE(backend_->PutTargets(kScope, "r", "", {SnsTarget("1")}).ok());
  Status s = backend_->DeleteRule(kScope, "r", "");
  EXPECT_EQ(s.aws_code(), "ValidationException");
  EXPECT_EQ(s.message(), "Rule can't be deleted since it has targets.");
  ASSERT_TRUE(backend_->RemoveTargets(kScope, "r", "", {"1"}).ok());
  EXPECT_TRUE(backend_->DeleteRule(kScope, "r", "").ok());
  EXPECT_EQ(backend_->DescribeRule(kScope, "r", "").status().aws_code(), "ResourceNotFoundException");
  EXPECT_TRUE(backend_->DeleteRule(kScope, "r", "").ok());  // gone already: no error, as AWS
}

TEST_F(EventsBackendTest, PutTargetsReplacesByIdAndStopsAtFiveTargets) {
  ASSERT_TRUE(Put("r").ok());
  std::vector<Target> five;
  for (int i = 1; i <= 5; ++i) five.push_back(SnsTarget(std::to_string(i)));
  Result<std::vector<EntryResult>> put = backend_->PutTargets(kScope, "r", "", five);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_TRUE(put->empty());
  Target replaced = SnsTarget("3");
  replaced.input = R"({"hello":"world"})";
  ASSERT_TRUE(backend_->PutTargets(kScope, "r", "", {replaced}).ok());
  Result<Page<Target>> listed = backend_->ListTargetsByRule(kScope, "r", "", PageRequest{});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 5u);
  EXPECT_EQ(listed->items[2].input.value_or(""), R"({"hello":"world"})");
  Result<std::vector<EntryResult>> sixth = backend_->PutTargets(kScope, "r", "", {SnsTarget("6")});
  ASSERT_FALSE(sixth.ok());
  EXPECT_EQ(sixth.status().aws_code(), "LimitExceededException");
  EXPECT_EQ(backend_->ListTargetsByRule(kScope, "r", "", PageRequest{})->items.size(), 5u);
  EXPECT_EQ(backend_->PutTargets(kScope, "missing", "", {SnsTarget("1")}).status().aws_code(),
            "ResourceNotFoundException");
}

TEST_F(EventsBackendTest, PutTargetsRefusesMalformedTargets) {
  ASSERT_TRUE(Put("r").ok());
  auto code = [&](Target t) {
    Result<std::vector<EntryResult>> r = backend_->PutTargets(kScope, "r", "", {t});
    return r.ok() ? std::string("OK") : r.status().aws_code();
  };
  Target t = SnsTarget("1");
  t.arn = "not-an-arn";
  EXPECT_EQ(code(t), "ValidationException");
  t = SnsTarget("bad id!");
  EXPECT_EQ(code(t), "ValidationException");
  t = SnsTarget("1");
  t.input = "{broken";
  EXPECT_EQ(code(t), "ValidationException");
  t = SnsTarget("1");
  t.input = "{}";
  t.input_path = "$.detail";
  EXPECT_EQ(code(t), "ValidationException");  // mutually exclusive
  t = SnsTarget("1");
  t.input_path = "detail";  // no leading $
  EXPECT_EQ(code(t), "ValidationException");
  t = SnsTarget("1");
  t.retry_policy = RetryPolicy{186, 3600};
  EXPECT_EQ(code(t), "ValidationException");
  t.retry_policy = RetryPolicy{3, 59};
  EXPECT_EQ(code(t), "ValidationException");
  t = SnsTarget("1");
  t.input_transformer = InputTransformer{{{"k", "$.detail.k"}}, R"({"k": <k>, "broken": })"};
  EXPECT_EQ(code(t), "ValidationException");
  t.input_transformer = InputTransformer{{{"k.x", "$.detail.k"}}, R"("<k>")"};
  EXPECT_EQ(code(t), "ValidationException");
  t.input_transformer = InputTransformer{{{"k", "$.detail.k"}}, R"({"k": <k>, "s": "key <k>"})"};
  EXPECT_EQ(code(t), "OK");
}

TEST_F(EventsBackendTest, ListRuleNamesByTargetFindsEveryRuleAimingAtAnArn) {
  for (const char* n : {"z", "a", "m"}) {
    ASSERT_TRUE(Put(n).ok());
    ASSERT_TRUE(backend_->PutTargets(kScope, n, "", {SnsTarget(std::string(n) == "m" ? "other" : "1")}).ok());
  }
  Result<Page<std::string>> names =
      backend_->ListRuleNamesByTarget(kScope, SnsTarget("1").arn, "", PageRequest{});
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(names->items, (std::vector<std::string>{"a", "z"}));
}

TEST_F(EventsBackendTest, BusesHaveAnImplicitDefaultAndAwsErrors) {
  Result<Page<EventBus>> buses = backend_->ListEventBuses(kScope, "", PageRequest{});
  ASSERT_TRUE(buses.ok());
  ASSERT_EQ(buses->items.size(), 1u);
  EXPECT_EQ(buses->items[0].arn, "arn:aws:events:ap-south-1:123456789012:event-bus/default");
  EXPECT_EQ(backend_->CreateEventBus(kScope, "default", "", {}).status().aws_code(), "ResourceAlreadyExistsException");
  ASSERT_TRUE(backend_->CreateEventBus(kScope, "pipeline", "d", {{"team", "ml"}}).ok());
  EXPECT_EQ(backend_->CreateEventBus(kScope, "pipeline", "", {}).status().aws_code(), "ResourceAlreadyExistsException");
  EXPECT_EQ(backend_->CreateEventBus(kScope, "a/b", "", {}).status().aws_code(), "ValidationException");
  EXPECT_EQ(backend_->DescribeEventBus(kScope, "pipeline")->description, "d");
  EXPECT_EQ(backend_->DescribeEventBus(kScope, "nope").status().aws_code(), "ResourceNotFoundException");
  EXPECT_EQ(backend_->DeleteEventBus(kScope, "default").aws_code(), "ValidationException");
  ASSERT_TRUE(Put("r", R"({"source":["x"]})", "pipeline").ok());
  ASSERT_TRUE(backend_->DeleteEventBus(kScope, "pipeline").ok());
  EXPECT_EQ(backend_->DescribeEventBus(kScope, "pipeline").status().aws_code(), "ResourceNotFoundException");
  EXPECT_TRUE(store_->List(kRuleKind)->empty());  // its rules went with it
  EXPECT_TRUE(backend_->DeleteEventBus(kScope, "pipeline").ok());
}

TEST_F(EventsBackendTest, TagsOnRulesAndBuses) {
  Result<std::string> arn = Put("r");
  ASSERT_TRUE(arn.ok());
  ASSERT_TRUE(backend_->TagResource(kScope, *arn, {{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(backend_->UntagResource(kScope, *arn, {"a"}).ok());
  Result<std::vector<Tag>> tags = backend_->ListTagsForResource(kScope, *arn);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].key, "b");
  EXPECT_EQ(backend_->TagResource(kScope, *arn + "x", {{"a", "1"}}).aws_code(), "ResourceNotFoundException");
  std::vector<Tag> many;
  for (int i = 0; i < 50; ++i) many.push_back({"k" + std::to_string(i), "v"});
  EXPECT_EQ(backend_->TagResource(kScope, *arn, many).aws_code(), "LimitExceededException");
}

TEST_F(EventsBackendTest, PutEventsAnswersPerEntryAndPublishesToTheOutbox) {
  std::vector<PutEventsEntry> entries(5);
  for (auto& e : entries) {
    e.source = "my.app";
    e.detail_type = "Thing Happened";
    e.detail = R"({"n": 1})";
  }
  entries[1].source.reset();
  entries[2].detail = "[1, 2]";
  entries[3].source = "aws.s3";
  entries[4].bus = "missing";
  Result<std::vector<EntryResult>> results = backend_->PutEvents(kScope, entries, 1'700'000'000'000);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 5u);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_EQ((*results)[0].id.size(), 36u);
  EXPECT_EQ((*results)[1].error_code, "InvalidArgument");
  EXPECT_EQ((*results)[2].error_code, "MalformedDetail");
  EXPECT_EQ((*results)[3].error_code, "NotAuthorizedForSourceException");
  EXPECT_EQ((*results)[4].error_code, "ResourceNotFoundException");
  Result<std::vector<store::OutboxEvent>> outbox = store_->EventsAfter(0, 100);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].id, (*results)[0].id);
  EXPECT_EQ((*outbox)[0].detail["n"], 1);
  EXPECT_EQ((*outbox)[0].time_ms, 1'700'000'000'000);
  EXPECT_EQ((*outbox)[0].region, "ap-south-1");
}

TEST_F(EventsBackendTest, PutEventsCountsEntrySizeAsAwsDoesAndRefusesElevenEntries) {
  PutEventsEntry e;
  e.source = "s";        // 1 byte
  e.detail_type = "t";   // 1
  e.time_ms = 0;         // 14
  e.resources = {"rr"};  // 2
  const size_t fixed = 1 + 1 + 14 + 2;
  const std::string wrapper = R"({"x":""})";
  e.detail = R"({"x":")" + std::string(kMaxPutEventsBytes - fixed - wrapper.size(), 'a') + R"("})";
  Result<std::vector<EntryResult>> at_limit = backend_->PutEvents(kScope, {e}, 0);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  EXPECT_TRUE((*at_limit)[0].ok());
  e.resources = {"rrr"};  // one byte over
  Result<std::vector<EntryResult>> over = backend_->PutEvents(kScope, {e}, 0);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().aws_code(), "ValidationException");
  EXPECT_EQ(over.status().message(), "Total size of the entries in the request is over the limit.");
  PutEventsEntry small;
  small.source = "s";
  small.detail_type = "t";
  small.detail = "{}";
  EXPECT_EQ(backend_->PutEvents(kScope, std::vector<PutEventsEntry>(11, small), 0).status().aws_code(),
            "ValidationException");
  EXPECT_TRUE(backend_->PutEvents(kScope, std::vector<PutEventsEntry>(10, small), 0).ok());
}

TEST_F(EventsBackendTest, TestEventPatternMatchesAWholeEnvelope) {
  const std::string event = R"({"id":"1","account":"123456789012","source":"aws.s3","time":"2026-01-01T00:00:00Z",
    "region":"ap-south-1","resources":[],"detail-type":"Object Created",
    "detail":{"bucket":{"name":"b"},"object":{"key":"training-data/new.jsonl"}}})";
  Result<bool> yes = backend_->TestEventPattern(kTutorialPattern, event);
  ASSERT_TRUE(yes.ok()) << yes.status().ToString();
  EXPECT_TRUE(*yes);
  std::string other = event;
  other.replace(other.find("new.jsonl"), 9, "new.csv..");
  EXPECT_FALSE(*backend_->TestEventPattern(kTutorialPattern, other));
  EXPECT_EQ(backend_->TestEventPattern(kTutorialPattern, R"({"source":"x"})").status().aws_code(), "ValidationException");
  EXPECT_EQ(backend_->TestEventPattern("[1]", event).status().aws_code(), "InvalidEventPatternException");
}

TEST_F(EventsBackendTest, RulesSurviveAReopen) {
  ASSERT_TRUE(Put("r").ok());
  ASSERT_TRUE(backend_->PutTargets(kScope, "r", "", {SnsTarget("1")}).ok());
  Open(PatternOptions{});
  Result<Rule> rule = backend_->DescribeRule(kScope, "r", "");
  ASSERT_TRUE(rule.ok());
  ASSERT_EQ(rule->targets.size(), 1u);
  EXPECT_EQ(rule->targets[0].arn, SnsTarget("1").arn);
}

}  // namespace
}  // namespace lathe::events
