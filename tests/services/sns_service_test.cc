// SNS through the query protocol: botocore's form bodies in, XML out; bad input answered with
// the model's codes; and the narrow set of unsigned GETs (the links in SNS's messages).
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "services/sns/service.h"
#include "test_util.h"

namespace lathe::sns {
namespace {

using lathe::testing::TempDir;

aws::RequestContext Context() {
  aws::RequestContext ctx;
  ctx.request_id = "11111111-2222-3333-4444-555555555555";
  ctx.region = "us-east-1";
  ctx.service = "sns";
  ctx.caller.account = "123456789012";
  return ctx;
}

struct Answer {
  int status = 0;
  std::string body;
  pugi::xml_document doc;
  std::string Text(const char* xpath) const {
    pugi::xpath_node n = doc.select_node(xpath);
    return n ? n.node().text().get() : "";
  }
  std::string Code() const { return Text("//Error/Code"); }
};

const char kTopic[] = "arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts";

class SnsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    backend_ = std::make_unique<SnsBackend>(store_.get());
    auto key = SigningKey::LoadOrCreate(dir_.path() + "/sns");
    ASSERT_TRUE(key.ok());
    key_ = std::move(*key);
    service_ = NewSnsService(backend_.get(), key_.get());
  }
  std::unique_ptr<Answer> Call(const std::string& form) {
    http::Response r;
    service_->ServeForm(Context(), "", "Version=2010-03-31&" + form, &r);
    auto a = std::make_unique<Answer>();
    a->status = r.status;
    a->body = r.body;
    EXPECT_TRUE(a->doc.load_string(r.body.c_str())) << r.body;
    return a;
  }
  http::Request Get(const std::string& target) {
    http::Request req;
    req.method = "GET";
    req.target = target;
    req.body = &empty_;
    return req;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<SnsBackend> backend_;
  std::unique_ptr<SigningKey> key_;
  std::unique_ptr<aws::QueryService> service_;
  http::StringBodyReader empty_{""};
};

TEST_F(SnsServiceTest, TheTutorialsTopicFromBotocoresBodies) {
  auto created = Call("Action=CreateTopic&Name=alerts&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Alerts"
                      "&Tags.member.1.Key=team&Tags.member.1.Value=ml");
  ASSERT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(created->Text("/CreateTopicResponse/CreateTopicResult/TopicArn"), "arn:aws:sns:us-east-1:123456789012:alerts");
  auto list = Call("Action=ListTopics");
  EXPECT_EQ(list->Text("//Topics/member/TopicArn"), "arn:aws:sns:us-east-1:123456789012:alerts");
  auto attrs = Call(std::string("Action=GetTopicAttributes&TopicArn=") + kTopic);
  EXPECT_EQ(attrs->Text("//Attributes/entry[key='DisplayName']/value"), "Alerts");
  EXPECT_EQ(attrs->Text("//Attributes/entry[key='SubscriptionsPending']/value"), "0");
  auto sub = Call(std::string("Action=Subscribe&TopicArn=") + kTopic + "&Protocol=email&Endpoint=ops%40example.com");
  EXPECT_EQ(sub->Text("//SubscriptionArn"), "pending confirmation");
  auto sub_arn = Call(std::string("Action=Subscribe&TopicArn=") + kTopic +
                      "&Protocol=https&Endpoint=https%3A%2F%2Fh.example.com%2F&ReturnSubscriptionArn=true");
  EXPECT_EQ(sub_arn->Text("//SubscriptionArn").rfind("arn:aws:sns:us-east-1:123456789012:alerts:", 0), 0u);
  auto subs = Call(std::string("Action=ListSubscriptionsByTopic&TopicArn=") + kTopic);
  EXPECT_EQ(subs->doc.select_nodes("//Subscriptions/member").size(), 2u);
  EXPECT_EQ(subs->Text("//Subscriptions/member[Protocol='email']/SubscriptionArn"), "PendingConfirmation");
  auto pub = Call(std::string("Action=Publish&TopicArn=") + kTopic +
                  "&Message=hello&Subject=hi&MessageAttributes.entry.1.Name=kind"
                  "&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=job");
  ASSERT_EQ(pub->status, 200) << pub->body;
  EXPECT_EQ(pub->Text("//MessageId").size(), 36u);
  auto tags = Call(std::string("Action=ListTagsForResource&ResourceArn=") + kTopic);
  EXPECT_EQ(tags->Text("//Tags/member[Key='team']/Value"), "ml");
  EXPECT_EQ(Call(std::string("Action=TagResource&ResourceArn=") + kTopic + "&Tags.member.1.Key=a&Tags.member.1.Value=b")->status, 200);
  EXPECT_EQ(Call(std::string("Action=UntagResource&ResourceArn=") + kTopic + "&TagKeys.member.1=a")->status, 200);
  auto del = Call(std::string("Action=DeleteTopic&TopicArn=") + kTopic);
  EXPECT_EQ(del->status, 200);
  EXPECT_TRUE(del->doc.select_node("/DeleteTopicResponse/ResponseMetadata/RequestId"));
  EXPECT_FALSE(del->doc.select_node("//DeleteTopicResult"));
  EXPECT_EQ(Call(std::string("Action=DeleteTopic&TopicArn=") + kTopic)->status, 200);
}

TEST_F(SnsServiceTest, BadInputGetsTheModelsCodes) {
  ASSERT_EQ(Call("Action=CreateTopic&Name=alerts")->status, 200);
  struct Case {
    std::string form, code;
    int status;
  };
  const std::string topic = std::string("&TopicArn=") + kTopic;
  for (const Case& c : std::vector<Case>{
           {"Action=CreateTopic", "ValidationError", 400},
           {"Action=CreateTopic&Name=bad%20name", "InvalidParameter", 400},
           {"Action=CreateTopic&Name=" + std::string(257, 'a'), "InvalidParameter", 400},
           {"Action=CreateTopic&Name=t&Attributes.entry.1.key=DisplayName", "ValidationError", 400},
           {"Action=CreateTopic&Name=t&Tags.member.1.Key=k", "ValidationError", 400},
           {"Action=Publish&Message=m", "InvalidParameter", 400},
           {"Action=Publish" + topic, "ValidationError", 400},
           {"Action=Publish" + topic + "&Message=", "InvalidParameter", 400},
           {"Action=Publish" + topic + "&Message=m&Subject=" + std::string(101, 's'), "InvalidParameter", 400},
           {"Action=Publish" + topic + "&Message=m&MessageStructure=xml", "InvalidParameter", 400},
           {"Action=Publish" + topic + "&Message=m&PhoneNumber=%2B15555550100", "InvalidParameter", 400},
           {"Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Amissing&Message=m", "NotFound", 404},
           {"Action=Publish&TargetArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aendpoint%2FAPNS%2Fapp%2Fx&Message=m",
            "InvalidParameter", 400},
           {"Action=Publish" + topic + "&Message=m&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Number&MessageAttributes.entry.1.Value.StringValue=x",
            "ParameterValueInvalid", 400},
           {"Action=Publish" + topic + "&Message=m&MessageAttributes.entry.2.Name=n", "ValidationError", 400},
           {"Action=GetTopicAttributes&TopicArn=nonsense", "InvalidParameter", 400},
           {"Action=GetTopicAttributes&TopicArn=" + std::string(1100, 'a'), "InvalidParameter", 400},
           {"Action=SetTopicAttributes" + topic + "&AttributeName=Nope&AttributeValue=1", "InvalidParameter", 400},
           {"Action=Subscribe" + topic + "&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A123456789012%3Aq",
            "InvalidParameter", 400},
           {"Action=Subscribe" + topic + "&Protocol=http", "InvalidParameter", 400},
           {"Action=Subscribe" + topic + "&Protocol=http&Endpoint=http%3A%2F%2Fh&ReturnSubscriptionArn=maybe",
            "ValidationError", 400},
           {"Action=ConfirmSubscription" + topic + "&Token=00ff", "InvalidParameter", 400},
           {"Action=ConfirmSubscription" + topic, "ValidationError", 400},
           {"Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts%3A00000000-0000-4000-8000-000000000000",
            "NotFound", 404},
           {"Action=Unsubscribe&SubscriptionArn=x", "InvalidParameter", 400},
           {"Action=ListTopics&NextToken=forged", "InvalidParameter", 400},
           {"Action=ListTagsForResource&ResourceArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Anope", "ResourceNotFound", 404},
           {"Action=TagResource" + std::string("&ResourceArn=") + kTopic, "ValidationError", 400},
           {"Action=PublishBatch" + topic, "EmptyBatchRequest", 400},
           {"Action=DeleteEverything", "InvalidAction", 400},
       }) {
    auto a = Call(c.form);
    EXPECT_EQ(a->Code(), c.code) << c.form.substr(0, 200) << "\n" << a->body;
    EXPECT_EQ(a->status, c.status) << c.form.substr(0, 200);
  }
  // 256 KB of message is accepted; one byte more is not.
  EXPECT_EQ(Call("Action=Publish" + topic + "&Message=" + std::string(262144, 'x'))->status, 200);
  EXPECT_EQ(Call("Action=Publish" + topic + "&Message=" + std::string(262145, 'x'))->Code(), "InvalidParameter");
}

TEST_F(SnsServiceTest, PublishBatchAnswersPerEntry) {
  ASSERT_EQ(Call("Action=CreateTopic&Name=alerts")->status, 200);
  const std::string base = std::string("Action=PublishBatch&TopicArn=") + kTopic;
  auto entry = [](int i, const std::string& id, const std::string& rest) {
    const std::string p = "&PublishBatchRequestEntries.member." + std::to_string(i) + ".";
    return p + "Id=" + id + p + rest;
  };
  auto mixed = Call(base + entry(1, "ok", "Message=fine") + entry(2, "bad", "Message=m") +
                    "&PublishBatchRequestEntries.member.2.Subject=" + std::string(101, 's') + entry(3, "empty", "Message="));
  ASSERT_EQ(mixed->status, 200) << mixed->body;
  EXPECT_EQ(mixed->Text("//Successful/member/Id"), "ok");
  EXPECT_EQ(mixed->Text("//Successful/member/MessageId").size(), 36u);
  EXPECT_EQ(mixed->doc.select_nodes("//Failed/member").size(), 2u);
  EXPECT_EQ(mixed->Text("//Failed/member[Id='bad']/Code"), "InvalidParameter");
  EXPECT_EQ(mixed->Text("//Failed/member[Id='bad']/SenderFault"), "true");
  EXPECT_EQ(Call(base + entry(1, "a", "Message=x") + entry(2, "a", "Message=y"))->Code(), "BatchEntryIdsNotDistinct");
  EXPECT_EQ(Call(base + entry(1, "a.b", "Message=x"))->Code(), "InvalidBatchEntryId");
  EXPECT_EQ(Call(base + entry(1, std::string(81, 'i'), "Message=x"))->Code(), "InvalidBatchEntryId");
  std::string eleven;
  for (int i = 1; i <= 11; ++i) eleven += entry(i, "e" + std::to_string(i), "Message=x");
  EXPECT_EQ(Call(base + eleven)->Code(), "TooManyEntriesInBatchRequest");
  EXPECT_EQ(Call(base + entry(1, "a", "Message=" + std::string(200000, 'x')) + entry(2, "b", "Message=" + std::string(70000, 'y')))
                ->Code(),
            "BatchRequestTooLong");
  EXPECT_EQ(Call("Action=PublishBatch&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Anope" + entry(1, "a", "Message=x"))
                ->Code(),
            "NotFound");
}

TEST_F(SnsServiceTest, OnlyTheLinksInMessagesAreServedUnsigned) {
  EXPECT_TRUE(service_->ServesUnsigned(Get("/?Action=ConfirmSubscription&TopicArn=x&Token=y")));
  EXPECT_TRUE(service_->ServesUnsigned(Get("/?Action=Unsubscribe&SubscriptionArn=x")));
  EXPECT_TRUE(service_->ServesUnsigned(Get("/" + key_->certificate_file_name())));
  for (const std::string& target :
       {std::string("/?Action=Publish&TopicArn=x&Message=m"), std::string("/?Action=DeleteTopic&TopicArn=x"),
        std::string("/?Action=ConfirmSubscription&TopicArn=x&Token=y&AuthenticateOnUnsubscribe=true"),
        std::string("/?Action=Unsubscribe&SubscriptionArn=x&Action=Publish"), std::string("/x?Action=Unsubscribe&SubscriptionArn=x"),
        std::string("/SimpleNotificationService-0000.pem"), std::string("/?Action=ConfirmSubscription&TopicArn=x&Token=%zz"),
        std::string("/")})
    EXPECT_FALSE(service_->ServesUnsigned(Get(target))) << target;
  http::Request post = Get("/?Action=Unsubscribe&SubscriptionArn=x");
  post.method = "POST";
  EXPECT_FALSE(service_->ServesUnsigned(post));
  http::StringBodyReader body("Action=DeleteTopic&TopicArn=x");
  http::Request with_body = Get("/?Action=Unsubscribe&SubscriptionArn=x");
  with_body.body = &body;
  EXPECT_FALSE(service_->ServesUnsigned(with_body));
  // The certificate, as SigningCertURL names it.
  http::Response r;
  service_->Serve(Context(), Get("/" + key_->certificate_file_name()), "", r);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, key_->certificate_pem());
}

}  // namespace
}  // namespace lathe::sns
