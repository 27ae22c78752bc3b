// SNS's backend without a wire: topics (idempotent by name), subscriptions and their
// confirmation, Publish's validation and fan-out into the durable delivery queue, filter
// policies, delivery policies and tags.
#include <gtest/gtest.h>

#include "services/sns/backend.h"
#include "services/sns/filter_policy.h"
#include "services/sns/names.h"
#include "test_util.h"

namespace lathe::sns {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

const Scope kScope{"123456789012", "us-east-1"};

class SnsBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    backend_ = std::make_unique<SnsBackend>(store_.get());
    backend_->set_on_enqueue([this] { ++wakes_; });
  }
  std::string NewTopic(const std::string& name = "alerts") {
    auto t = backend_->CreateTopic(kScope, name, {}, {});
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? t->arn : "";
  }
  // A confirmed http subscription.
  Subscription Confirmed(const std::string& topic, const std::string& url,
                         const std::map<std::string, std::string>& attributes = {}) {
    auto s = backend_->Subscribe(topic, "http", url, attributes);
    EXPECT_TRUE(s.ok()) << s.status().message();
    auto c = backend_->ConfirmSubscription(topic, s->token);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return *c;
  }
  std::vector<Delivery> Notifications() {
    auto all = backend_->PendingDeliveries(1000);
    EXPECT_TRUE(all.ok());
    std::vector<Delivery> out;
    for (const Delivery& d : *all)
      if (d.type == "Notification") out.push_back(d);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<SnsBackend> backend_;
  int wakes_ = 0;
};

TEST(SnsNames, TopicNamesAndArns) {
  EXPECT_TRUE(IsValidTopicName("a"));
  EXPECT_TRUE(IsValidTopicName(std::string(256, 'x')));
  EXPECT_FALSE(IsValidTopicName(std::string(257, 'x')));
  EXPECT_FALSE(IsValidTopicName(""));
  for (const char* bad : {"a b", "a.b", "a/b", "ä", "a:b", "../x", "t\n"}) EXPECT_FALSE(IsValidTopicName(bad)) << bad;
  auto arn = ParseTopicArn("arn:aws:sns:eu-west-1:123456789012:my_topic-1");
  ASSERT_TRUE(arn);
  EXPECT_EQ(arn->region, "eu-west-1");
  EXPECT_EQ(arn->account, "123456789012");
  EXPECT_EQ(arn->name, "my_topic-1");
  for (const char* bad : {"arn:aws:sqs:us-east-1:123456789012:t", "arn:aws:sns:us-east-1:12345:t",
                          "arn:aws:sns:us-east-1:123456789012:", "arn:aws:sns:US:123456789012:t", "t"})
    EXPECT_FALSE(ParseTopicArn(bad)) << bad;
  EXPECT_FALSE(ParseTopicArn("arn:aws:sns:us-east-1:123456789012:" + std::string(2000, 'a')));
  const std::string sub = "arn:aws:sns:us-east-1:123456789012:t:" + NewUuid();
  ASSERT_TRUE(ParseSubscriptionArn(sub));
  EXPECT_EQ(ParseSubscriptionArn(sub)->topic.name, "t");
  EXPECT_FALSE(ParseSubscriptionArn("arn:aws:sns:us-east-1:123456789012:t"));
  EXPECT_NE(NewUuid(), NewUuid());
  EXPECT_EQ(RandomHex(32).size(), 64u);
}

TEST_F(SnsBackendTest, CreateTopicIsIdempotentByNameAndRefusesOtherAttributes) {
  auto a = backend_->CreateTopic(kScope, "alerts", {{"DisplayName", "Alerts"}}, {{"team", "ml"}});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->arn, "arn:aws:sns:us-east-1:123456789012:alerts");
  auto again = backend_->CreateTopic(kScope, "alerts", {{"DisplayName", "Alerts"}}, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->arn, a->arn);
  EXPECT_TRUE(backend_->CreateTopic(kScope, "alerts", {}, {}).ok());
  auto other = backend_->CreateTopic(kScope, "alerts", {{"DisplayName", "Other"}}, {});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().aws_code(), "InvalidParameter");
  EXPECT_NE(other.status().message().find("different attributes"), std::string::npos);
  auto tags = backend_->ListTags(a->arn);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->at("team"), "ml");
  // Another region is another topic.
  auto west = backend_->CreateTopic(Scope{"123456789012", "us-west-2"}, "alerts", {}, {});
  ASSERT_TRUE(west.ok());
  EXPECT_EQ(west->arn, "arn:aws:sns:us-west-2:123456789012:alerts");
}

TEST_F(SnsBackendTest, BadTopicNamesAndAttributesAreInvalidParameter) {
  for (const std::string& name : {std::string(""), std::string(257, 'a'), std::string("a b"), std::string("x.fifo"),
                                  std::string("<script>"), std::string("a\0b", 3)}) {
    auto r = backend_->CreateTopic(kScope, name, {}, {});
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().aws_code(), "InvalidParameter");
    EXPECT_EQ(r.status().http_status(), 400);
  }
  for (const auto& [k, v] : std::map<std::string, std::string>{{"Nope", "x"},
                                                               {"DisplayName", std::string(101, 'd')},
                                                               {"Policy", "not json"},
                                                               {"SignatureVersion", "3"},
                                                               {"FifoTopic", "true"},
                                                               {"DeliveryPolicy", "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":1000}}}"}}) {
    auto r = backend_->CreateTopic(kScope, "t", {{k, v}}, {});
    ASSERT_FALSE(r.ok()) << k;
    EXPECT_EQ(r.status().aws_code(), "InvalidParameter") << k;
  }
}

TEST_F(SnsBackendTest, TopicAttributesAsAwsReportsThem) {
  const std::string arn = NewTopic();
  ASSERT_TRUE(backend_->SetTopicAttribute(arn, "DisplayName", "Model alerts").ok());
  ASSERT_TRUE(backend_->SetTopicAttribute(arn, "SignatureVersion", "2").ok());
  auto s = backend_->Subscribe(arn, "email", "ops@example.com", {});
  ASSERT_TRUE(s.ok());
  auto a = backend_->GetTopicAttributes(arn);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->at("TopicArn"), arn);
  EXPECT_EQ(a->at("Owner"), "123456789012");
  EXPECT_EQ(a->at("DisplayName"), "Model alerts");
  EXPECT_EQ(a->at("SignatureVersion"), "2");
  EXPECT_EQ(a->at("SubscriptionsPending"), "1");
  EXPECT_EQ(a->at("SubscriptionsConfirmed"), "0");
  EXPECT_EQ(a->at("SubscriptionsDeleted"), "0");
  json policy = json::parse(a->at("Policy"));
  EXPECT_EQ(policy["Statement"][0]["Resource"], arn);
  json effective = json::parse(a->at("EffectiveDeliveryPolicy"));
  EXPECT_EQ(effective["http"]["defaultHealthyRetryPolicy"]["numRetries"], 3);
  EXPECT_EQ(backend_->SetTopicAttribute(arn, "Bogus", "1").aws_code(), "InvalidParameter");
  EXPECT_EQ(backend_->SetTopicAttribute(arn + "x", "DisplayName", "x").aws_code(), "NotFound");
  EXPECT_EQ(backend_->GetTopicAttributes("arn:aws:sns:us-east-1:123456789012:missing").status().http_status(), 404);
  EXPECT_EQ(backend_->GetTopicAttributes("not-an-arn").status().aws_code(), "InvalidParameter");
}

TEST_F(SnsBackendTest, DeleteTopicIsIdempotentAndTakesItsSubscriptions) {
  const std::string arn = NewTopic();
  Subscription s = Confirmed(arn, "http://127.0.0.1:9/hook");
  ASSERT_TRUE(backend_->DeleteTopic(kScope, arn).ok());
  EXPECT_EQ(backend_->GetSubscription(s.arn).status().aws_code(), "NotFound");
  EXPECT_TRUE(backend_->DeleteTopic(kScope, arn).ok());
  EXPECT_EQ(backend_->DeleteTopic(kScope, "garbage").aws_code(), "InvalidParameter");
  auto list = backend_->ListTopics(kScope, "");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->items.empty());
}

TEST_F(SnsBackendTest, ListTopicsPagesByOneHundred) {
  for (int i = 0; i < 205; ++i) NewTopic("t" + std::to_string(i));
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = backend_->ListTopics(kScope, token);
    ASSERT_TRUE(page.ok()) << page.status().message();
    EXPECT_LE(page->items.size(), 100u);
    for (const auto& arn : page->items) seen.insert(arn);
    token = page->next_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 205u);
  EXPECT_EQ(backend_->ListTopics(kScope, "forged").status().aws_code(), "InvalidParameter");
}

TEST_F(SnsBackendTest, SubscriptionsStartPendingWithAConfirmationQueued) {
  const std::string arn = NewTopic();
  auto s = backend_->Subscribe(arn, "https", "https://hooks.example.com/sns", {{"RawMessageDelivery", "true"}});
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_FALSE(s->confirmed);
  EXPECT_EQ(s->token.size(), 128u);
  EXPECT_EQ(wakes_, 1);
  auto pending = backend_->PendingDeliveries(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].type, "SubscriptionConfirmation");
  EXPECT_EQ((*pending)[0].subscription_arn, s->arn);
  // The same endpoint again: the same subscription, its confirmation sent again.
  auto again = backend_->Subscribe(arn, "https", "https://hooks.example.com/sns", {{"RawMessageDelivery", "true"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->arn, s->arn);
  EXPECT_EQ(backend_->PendingDeliveries(10)->size(), 2u);
  auto differs = backend_->Subscribe(arn, "https", "https://hooks.example.com/sns", {{"RawMessageDelivery", "false"}});
  EXPECT_EQ(differs.status().aws_code(), "InvalidParameter");
  // Forged, truncated and other topics' tokens are refused.
  for (const std::string& forged : {RandomHex(64), s->token.substr(0, 127), s->token + "0", std::string("")})
    EXPECT_EQ(backend_->ConfirmSubscription(arn, forged).status().aws_code(), "InvalidParameter");
  const std::string other = NewTopic("other");
  EXPECT_EQ(backend_->ConfirmSubscription(other, s->token).status().aws_code(), "InvalidParameter");
  auto confirmed = backend_->ConfirmSubscription(arn, s->token);
  ASSERT_TRUE(confirmed.ok());
  EXPECT_TRUE(backend_->GetSubscription(s->arn)->confirmed);
  // Confirming twice is answered with the subscription again.
  EXPECT_TRUE(backend_->ConfirmSubscription(arn, s->token).ok());
  auto attrs = backend_->GetSubscriptionAttributes(s->arn);
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->at("PendingConfirmation"), "false");
  EXPECT_EQ(attrs->at("RawMessageDelivery"), "true");
  EXPECT_EQ(attrs->at("Protocol"), "https");
}

TEST_F(SnsBackendTest, SubscribeRefusesWhatLatheCannotDeliverTo) {
  const std::string arn = NewTopic();
  struct Case {
    const char *protocol, *endpoint;
  };
  for (const Case& c : std::vector<Case>{{"http", "https://x.example.com"},
                                         {"https", "http://x.example.com"},
                                         {"http", "http://"},
                                         {"http", "http://a b"},
                                         {"email", "not-an-address"},
                                         {"email", "a@b@c"},
                                         {"email", "a@b.com\r\nBcc: x@y.z"},
                                         {"sqs", "arn:aws:sqs:us-east-1:123456789012:q"},
                                         {"lambda", "arn:aws:lambda:us-east-1:123456789012:function:f"},
                                         {"sms", "+15555550100"},
                                         {"carrier-pigeon", "x"}}) {
    auto r = backend_->Subscribe(arn, c.protocol, c.endpoint, {});
    ASSERT_FALSE(r.ok()) << c.protocol << " " << c.endpoint;
    EXPECT_EQ(r.status().aws_code(), "InvalidParameter") << c.protocol << " " << c.endpoint;
  }
  auto lambda = backend_->Subscribe(arn, "lambda", "arn:aws:lambda:us-east-1:123456789012:function:f", {});
  EXPECT_NE(lambda.status().message().find("docs/compatibility.md"), std::string::npos);
  EXPECT_EQ(backend_->Subscribe(arn + "x", "http", "http://h", {}).status().aws_code(), "NotFound");
  EXPECT_EQ(backend_->Subscribe(arn, "http", "http://h", {{"Bogus", "1"}}).status().aws_code(), "InvalidParameter");
  EXPECT_EQ(backend_->Subscribe(arn, "http", "http://h", {{"FilterPolicy", "{\"a\": [{\"regex\": \".*\"}]}"}})
                .status().aws_code(),
            "InvalidParameter");
}

TEST_F(SnsBackendTest, PublishQueuesOneDeliveryPerConfirmedSubscription) {
  const std::string arn = NewTopic();
  Subscription a = Confirmed(arn, "http://127.0.0.1:9/a");
  Confirmed(arn, "http://127.0.0.1:9/b");
  ASSERT_TRUE(backend_->Subscribe(arn, "http", "http://127.0.0.1:9/pending", {}).ok());
  PublishInput in;
  in.topic_arn = arn;
  in.message = "model finished";
  in.subject = "Job done";
  in.attributes["kind"] = {"String", "job"};
  auto id = backend_->Publish(in);
  ASSERT_TRUE(id.ok()) << id.status().message();
  std::vector<Delivery> n = Notifications();
  ASSERT_EQ(n.size(), 2u);
  for (const Delivery& d : n) {
    EXPECT_EQ(d.message_id, *id);
    EXPECT_EQ(d.status, "pending");
    EXPECT_EQ(d.retry.num_retries, 3);
  }
  auto m = backend_->GetMessage(*id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->message, "model finished");
  EXPECT_EQ(m->subject, "Job done");
  EXPECT_EQ(m->attributes.at("kind").value, "job");
  // Unsubscribed: SubscriptionsDeleted counts it.
  ASSERT_TRUE(backend_->Unsubscribe(a.arn).ok());
  EXPECT_EQ(backend_->GetTopicAttributes(arn)->at("SubscriptionsDeleted"), "1");
  EXPECT_EQ(backend_->Unsubscribe(a.arn).aws_code(), "NotFound");
}

TEST_F(SnsBackendTest, PublishRefusesBadMessages) {
  const std::string arn = NewTopic();
  auto publish = [&](PublishInput in) {
    if (in.topic_arn.empty()) in.topic_arn = arn;
    return backend_->Publish(in);
  };
  PublishInput empty;
  EXPECT_EQ(publish(empty).status().aws_code(), "InvalidParameter");
  PublishInput big;
  big.message = std::string(kMaxMessageBytes + 1, 'x');
  EXPECT_EQ(publish(big).status().aws_code(), "InvalidParameter");
  PublishInput just_fits;
  just_fits.message = std::string(kMaxMessageBytes, 'x');
  EXPECT_TRUE(publish(just_fits).ok());
  PublishInput attrs_too_big;
  attrs_too_big.message = std::string(kMaxMessageBytes - 10, 'x');
  attrs_too_big.attributes["a"] = {"String", std::string(20, 'v')};
  EXPECT_EQ(publish(attrs_too_big).status().aws_code(), "InvalidParameter");
  for (const std::string& subject : {std::string(101, 's'), std::string("line\nbreak"), std::string("caf\xc3\xa9")}) {
    PublishInput in;
    in.message = "m";
    in.subject = subject;
    EXPECT_EQ(publish(in).status().aws_code(), "InvalidParameter") << subject;
  }
  PublishInput structured;
  structured.json_structure = true;
  structured.message = "{\"email\": \"only email\"}";
  EXPECT_NE(publish(structured).status().message().find("No default entry"), std::string::npos);
  structured.message = "not json";
  EXPECT_EQ(publish(structured).status().aws_code(), "InvalidParameter");
  structured.message = "{\"default\": \"d\", \"http\": \"h\"}";
  EXPECT_TRUE(publish(structured).ok());
  PublishInput bad_number;
  bad_number.message = "m";
  bad_number.attributes["n"] = {"Number", "twelve"};
  EXPECT_EQ(publish(bad_number).status().aws_code(), "ParameterValueInvalid");
  PublishInput bad_type;
  bad_type.message = "m";
  bad_type.attributes["n"] = {"Blob", "x"};
  EXPECT_EQ(publish(bad_type).status().aws_code(), "ParameterValueInvalid");
  PublishInput reserved;
  reserved.message = "m";
  reserved.attributes["AWS.x"] = {"String", "x"};
  EXPECT_EQ(publish(reserved).status().aws_code(), "InvalidParameter");
  PublishInput too_many;
  too_many.message = "m";
  for (int i = 0; i < 11; ++i) too_many.attributes["a" + std::to_string(i)] = {"String", "x"};
  EXPECT_EQ(publish(too_many).status().aws_code(), "InvalidParameter");
  PublishInput missing;
  missing.message = "m";
  missing.topic_arn = arn + "-gone";
  EXPECT_EQ(publish(missing).status().aws_code(), "NotFound");
}

TEST_F(SnsBackendTest, FilterPoliciesDecideWhoReceives) {
  const std::string arn = NewTopic();
  Confirmed(arn, "http://127.0.0.1:9/failed-jobs",
            {{"FilterPolicy", R"({"status": ["Failed"], "score": [{"numeric": ["<", 0.5]}]})"}});
  Confirmed(arn, "http://127.0.0.1:9/all");
  Confirmed(arn, "http://127.0.0.1:9/body",
            {{"FilterPolicyScope", "MessageBody"}, {"FilterPolicy", R"({"detail": {"status": [{"prefix": "Comp"}]}})"}});
  auto count_for = [&](PublishInput in) {
    in.topic_arn = arn;
    auto id = backend_->Publish(in);
    EXPECT_TRUE(id.ok()) << id.status().message();
    size_t n = 0;
    for (const Delivery& d : Notifications()) n += d.message_id == *id;
    return n;
  };
  PublishInput failed;
  failed.message = "x";
  failed.attributes["status"] = {"String", "Failed"};
  failed.attributes["score"] = {"Number", "0.3"};
  EXPECT_EQ(count_for(failed), 2u);  // failed-jobs and all
  PublishInput good_score = failed;
  good_score.attributes["score"] = {"Number", "0.9"};
  EXPECT_EQ(count_for(good_score), 1u);
  PublishInput completed;
  completed.message = R"({"detail": {"status": "Completed"}})";
  EXPECT_EQ(count_for(completed), 2u);  // all and body
}

TEST(SnsFilterPolicy, AwsOperators) {
  auto matches = [](const char* policy, const json& message) {
    auto p = FilterPolicy::Parse(policy, FilterScope::kMessageAttributes);
    EXPECT_TRUE(p.ok()) << policy << ": " << p.status().message();
    return p.ok() && p->Matches(message);
  };
  EXPECT_TRUE(matches(R"({"a": ["x", "y"]})", {{"a", "y"}}));
  EXPECT_FALSE(matches(R"({"a": ["x"]})", {{"a", "z"}}));
  EXPECT_FALSE(matches(R"({"a": ["x"]})", json::object()));
  EXPECT_TRUE(matches(R"({"a": [{"prefix": "train"}]})", {{"a", "training-data/x"}}));
  EXPECT_TRUE(matches(R"({"a": [{"suffix": ".jsonl"}]})", {{"a", "x.jsonl"}}));
  EXPECT_TRUE(matches(R"({"a": [{"equals-ignore-case": "FAILED"}]})", {{"a", "failed"}}));
  EXPECT_TRUE(matches(R"({"a": [{"anything-but": ["x", "y"]}]})", {{"a", "z"}}));
  EXPECT_FALSE(matches(R"({"a": [{"anything-but": "x"}]})", {{"a", "x"}}));
  EXPECT_FALSE(matches(R"({"a": [{"anything-but": "x"}]})", json::object()));
  EXPECT_TRUE(matches(R"({"a": [{"anything-but": {"prefix": "tmp"}}]})", {{"a", "data"}}));
  EXPECT_TRUE(matches(R"({"n": [{"numeric": [">", 0, "<=", 5]}]})", {{"n", 5}}));
  EXPECT_FALSE(matches(R"({"n": [{"numeric": [">", 0, "<=", 5]}]})", {{"n", 6}}));
  EXPECT_TRUE(matches(R"({"n": [12]})", {{"n", 12.0}}));
  EXPECT_TRUE(matches(R"({"a": [{"exists": false}]})", json::object()));
  EXPECT_FALSE(matches(R"({"a": [{"exists": true}]})", json::object()));
  EXPECT_TRUE(matches(R"({"tags": ["red"]})", {{"tags", {"blue", "red"}}}));
  EXPECT_TRUE(matches("{}", {{"a", 1}}));
  for (const char* bad : {"[]", "{\"a\": []}", "{\"a\": \"x\"}", "{\"a\": [{\"regex\": \".\"}]}",
                          "{\"a\": [{\"prefix\": 1}]}", "{\"a\": [{\"numeric\": [\"!\", 1]}]}",
                          "{\"a\": {\"b\": [\"x\"]}}", "{\"a\": [{\"prefix\": \"x\", \"suffix\": \"y\"}]}", "{"}) {
    auto p = FilterPolicy::Parse(bad, FilterScope::kMessageAttributes);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().aws_code(), "InvalidParameter") << bad;
  }
  EXPECT_FALSE(FilterPolicy::Parse(std::string(100000, '[') , FilterScope::kMessageBody).ok());
  std::string complex = "{";
  for (int i = 0; i < 4; ++i)
    complex += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\": [\"a\",\"b\",\"c\",\"d\"]";
  complex += "}";  // 4^4 = 256 combinations
  EXPECT_FALSE(FilterPolicy::Parse(complex, FilterScope::kMessageAttributes).ok());
}

TEST(SnsDeliveryPolicy, RetriesSpreadBetweenTheTargets) {
  RetryPolicy r;
  EXPECT_EQ(r.DelayBeforeRetry(1), 20);
  EXPECT_EQ(r.DelayBeforeRetry(3), 20);
  r.min_delay_s = 1;
  r.max_delay_s = 16;
  r.num_retries = 5;
  r.backoff = "exponential";
  EXPECT_EQ(r.DelayBeforeRetry(1), 1);
  EXPECT_EQ(r.DelayBeforeRetry(5), 16);
  EXPECT_LT(r.DelayBeforeRetry(3), r.DelayBeforeRetry(4));
  EXPECT_TRUE(ValidateDeliveryPolicy(R"({"http": {"defaultHealthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 2}}})", true).ok());
  EXPECT_FALSE(ValidateDeliveryPolicy(R"({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 0}}})", true).ok());
  EXPECT_FALSE(ValidateDeliveryPolicy(R"({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}})", true).ok());
  EXPECT_FALSE(ValidateDeliveryPolicy(R"({"healthyRetryPolicy": {"backoffFunction": "random"}})", false).ok());
  RetryPolicy e = EffectiveRetryPolicy(R"({"http": {"defaultHealthyRetryPolicy": {"numRetries": 7, "minDelayTarget": 2, "maxDelayTarget": 9}}})",
                                       R"({"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 1, "maxDelayTarget": 1}})");
  EXPECT_EQ(e.num_retries, 1);
  e = EffectiveRetryPolicy(R"({"http": {"disableSubscriptionOverrides": true, "defaultHealthyRetryPolicy": {"numRetries": 7, "minDelayTarget": 2, "maxDelayTarget": 9}}})",
                           R"({"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 1, "maxDelayTarget": 1}})");
  EXPECT_EQ(e.num_retries, 7);
}

TEST_F(SnsBackendTest, TagsOnTopicsOnly) {
  const std::string arn = NewTopic();
  ASSERT_TRUE(backend_->TagResource(arn, {{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(backend_->UntagResource(arn, {"a"}).ok());
  EXPECT_EQ(*backend_->ListTags(arn), (std::map<std::string, std::string>{{"b", "2"}}));
  EXPECT_EQ(backend_->TagResource(arn + "x", {{"a", "1"}}).aws_code(), "ResourceNotFound");
  EXPECT_EQ(backend_->ListTags("nonsense").status().http_status(), 404);
  std::map<std::string, std::string> many;
  for (int i = 0; i < 50; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_EQ(backend_->TagResource(arn, many).aws_code(), "TagLimitExceeded");
  EXPECT_EQ(backend_->TagResource(arn, {{std::string(129, 'k'), "v"}}).aws_code(), "InvalidParameter");
}

}  // namespace
}  // namespace lathe::sns
