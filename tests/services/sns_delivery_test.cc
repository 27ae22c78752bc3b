// SNS's delivery worker with a recording transport: signed envelopes that verify with the
// certificate lathe serves, AWS's headers, raw delivery, retries with back-off until the policy
// is spent, the email outbox, and deliveries dropped when their subscription is gone.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/arn.h"
#include "core/checksum.h"
#include "core/env.h"
#include "services/sns/delivery_worker.h"
#include "services/sns/message_format.h"
#include "test_util.h"

namespace lathe::sns {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::TempDir;
using nlohmann::json;

struct Sent {
  std::string url;
  HeaderList headers;
  std::string body;
  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
};

class RecordingTransport : public DeliveryTransport {
 public:
  Status PostHttp(const std::string& url, const HeaderList& headers, const std::string& body) override {
    posts.push_back({url, headers, body});
    return fail_http ? Status::IOError("the endpoint answered HTTP 503") : Status::Ok();
  }
  Status SendMail(const SmtpRelay& relay, const std::string& to, const std::string& eml) override {
    mails.push_back({to, {}, eml});
    return Status::Ok();
  }
  std::vector<Sent> posts, mails;
  bool fail_http = false;
};

// Verifies an envelope's Signature with the certificate's public key, as AWS's SDKs do.
bool Verifies(const json& envelope, const std::string& cert_pem) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) return false;
  EVP_PKEY* key = X509_get_pubkey(cert);
  std::optional<std::string> sig = Base64Decode(envelope["Signature"].get<std::string>());
  const std::string text = CanonicalString(envelope);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = envelope["SignatureVersion"] == "2" ? EVP_sha256() : EVP_sha1();
  bool ok = sig && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerifyUpdate(ctx, text.data(), text.size()) == 1 &&
            EVP_DigestVerifyFinal(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  return ok;
}

class SnsDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    backend_ = std::make_unique<SnsBackend>(store_.get());
    auto key = SigningKey::LoadOrCreate(dir_.path() + "/sns");
    ASSERT_TRUE(key.ok()) << key.status().message();
    key_ = std::move(*key);
    DeliveryOptions options;
    options.outbox_dir = OutboxDir(dir_.path());
    worker_ = std::make_unique<DeliveryWorker>(backend_.get(), key_.get(), &transport_, options);
    worker_->set_base_url("http://127.0.0.1:8080");
    auto topic = backend_->CreateTopic(Scope{"123456789012", "us-east-1"}, "alerts", {{"DisplayName", "Alerts"}}, {});
    ASSERT_TRUE(topic.ok());
    topic_ = topic->arn;
  }
  // Subscribes `url`, delivers the confirmation and confirms with its token.
  Subscription SubscribeHttp(const std::string& url, const std::map<std::string, std::string>& attributes = {}) {
    auto s = backend_->Subscribe(topic_, "http", url, attributes);
    EXPECT_TRUE(s.ok()) << s.status().message();
    worker_->RunOnce(NowMillis());
    EXPECT_FALSE(transport_.posts.empty());
    json confirmation = json::parse(transport_.posts.back().body);
    EXPECT_EQ(confirmation["Type"], "SubscriptionConfirmation");
    EXPECT_TRUE(Verifies(confirmation, key_->certificate_pem()));
    auto c = backend_->ConfirmSubscription(topic_, confirmation["Token"].get<std::string>());
    EXPECT_TRUE(c.ok());
    transport_.posts.clear();
    return *c;
  }
  std::string Publish(const std::string& message, const std::string& subject = "") {
    PublishInput in;
    in.topic_arn = topic_;
    in.message = message;
    in.subject = subject;
    auto id = backend_->Publish(in);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return *id;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<SnsBackend> backend_;
  std::unique_ptr<SigningKey> key_;
  RecordingTransport transport_;
  std::unique_ptr<DeliveryWorker> worker_;
  std::string topic_;
};

TEST_F(SnsDeliveryTest, ConfirmationAndNotificationAreSignedAwsEnvelopes) {
  auto s = backend_->Subscribe(topic_, "http", "http://127.0.0.1:9999/hook", {});
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(worker_->RunOnce(NowMillis()), 1u);
  ASSERT_EQ(transport_.posts.size(), 1u);
  const Sent& confirm = transport_.posts[0];
  EXPECT_EQ(confirm.url, "http://127.0.0.1:9999/hook");
  EXPECT_EQ(confirm.Header("x-amz-sns-message-type"), "SubscriptionConfirmation");
  EXPECT_EQ(confirm.Header("x-amz-sns-topic-arn"), topic_);
  json c = json::parse(confirm.body);
  EXPECT_EQ(c["Token"], s->token);
  EXPECT_EQ(c["SignatureVersion"], "1");
  EXPECT_EQ(c["SigningCertURL"], "http://127.0.0.1:8080/" + key_->certificate_file_name());
  EXPECT_EQ(c["SubscribeURL"].get<std::string>().rfind("http://127.0.0.1:8080/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3A", 0), 0u);
  EXPECT_TRUE(Verifies(c, key_->certificate_pem()));
  ASSERT_TRUE(backend_->ConfirmSubscription(topic_, s->token).ok());
  transport_.posts.clear();

  ASSERT_TRUE(backend_->SetTopicAttribute(topic_, "SignatureVersion", "2").ok());
  PublishInput in;
  in.topic_arn = topic_;
  in.message = "training finished: loss 0.42";
  in.subject = "Job complete";
  in.attributes["status"] = {"String", "Completed"};
  in.attributes["blob"] = {"Binary", std::string("\x00\x01", 2)};
  auto id = backend_->Publish(in);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(worker_->RunOnce(NowMillis()), 1u);
  ASSERT_EQ(transport_.posts.size(), 1u);
  const Sent& note = transport_.posts[0];
  EXPECT_EQ(note.Header("x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(note.Header("x-amz-sns-message-id"), *id);
  EXPECT_EQ(note.Header("x-amz-sns-subscription-arn"), s->arn);
  EXPECT_EQ(note.Header("Content-Type"), "text/plain; charset=UTF-8");
  json n = json::parse(note.body);
  EXPECT_EQ(n["Type"], "Notification");
  EXPECT_EQ(n["MessageId"], *id);
  EXPECT_EQ(n["Subject"], "Job complete");
  EXPECT_EQ(n["Message"], "training finished: loss 0.42");
  EXPECT_EQ(n["SignatureVersion"], "2");
  EXPECT_EQ(n["MessageAttributes"]["status"]["Value"], "Completed");
  EXPECT_EQ(n["MessageAttributes"]["blob"]["Value"], "AAE=");
  EXPECT_NE(n["UnsubscribeURL"].get<std::string>().find("Action=Unsubscribe&SubscriptionArn="), std::string::npos);
  EXPECT_TRUE(Verifies(n, key_->certificate_pem()));
  // A changed byte fails verification: the signature covers the message.
  json tampered = n;
  tampered["Message"] = "training finished: loss 0.41";
  EXPECT_FALSE(Verifies(tampered, key_->certificate_pem()));
  auto recent = backend_->RecentDeliveries(10);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ((*recent)[0].status, "delivered");
  EXPECT_EQ((*recent)[0].attempts, 1);
}

TEST_F(SnsDeliveryTest, RawDeliveryAndMessageStructure) {
  SubscribeHttp("http://127.0.0.1:9999/raw", {{"RawMessageDelivery", "true"}});
  PublishInput in;
  in.topic_arn = topic_;
  in.json_structure = true;
  in.message = R"({"default": "for everyone", "http": "for http"})";
  ASSERT_TRUE(backend_->Publish(in).ok());
  worker_->RunOnce(NowMillis());
  ASSERT_EQ(transport_.posts.size(), 1u);
  EXPECT_EQ(transport_.posts[0].body, "for http");
  EXPECT_EQ(transport_.posts[0].Header("x-amz-sns-rawdelivery"), "true");
}

TEST_F(SnsDeliveryTest, FailuresAreRetriedWithBackOffUntilThePolicyIsSpent) {
  ASSERT_TRUE(backend_->SetTopicAttribute(topic_, "DeliveryPolicy",
                                          R"({"http": {"defaultHealthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 5, "maxDelayTarget": 10, "backoffFunction": "linear"}}})")
                  .ok());
  SubscribeHttp("http://127.0.0.1:9999/down");
  transport_.fail_http = true;
  Publish("hello");
  const int64_t t0 = NowMillis();
  EXPECT_EQ(worker_->RunOnce(t0), 1u);
  EXPECT_EQ(worker_->RunOnce(t0 + 4000), 0u);  // not due before minDelayTarget
  EXPECT_EQ(worker_->RunOnce(t0 + 5000), 1u);  // retry 1 after 5 s
  EXPECT_EQ(worker_->RunOnce(t0 + 5000 + 9000), 0u);
  EXPECT_EQ(worker_->RunOnce(t0 + 5000 + 10000), 1u);  // retry 2 after 10 s: the last
  EXPECT_EQ(worker_->RunOnce(t0 + 100000), 0u);
  EXPECT_EQ(transport_.posts.size(), 3u);
  auto recent = backend_->RecentDeliveries(1);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ((*recent)[0].status, "failed");
  EXPECT_EQ((*recent)[0].attempts, 3);
  EXPECT_NE((*recent)[0].last_error.find("503"), std::string::npos);
  // A failure followed by success is delivered.
  Publish("second");
  const int64_t t1 = NowMillis();
  worker_->RunOnce(t1);
  transport_.fail_http = false;
  worker_->RunOnce(t1 + 5000);
  EXPECT_EQ((*backend_->RecentDeliveries(1))[0].status, "delivered");
}

TEST_F(SnsDeliveryTest, QueuedDeliveriesSurviveARestartAndDropWhenUnsubscribed) {
  Subscription s = SubscribeHttp("http://127.0.0.1:9999/later");
  Publish("before the crash");
  // A new backend and worker over the same database, as after kill -9.
  worker_.reset();
  backend_.reset();
  store_.reset();
  auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  backend_ = std::make_unique<SnsBackend>(store_.get());
  worker_ = std::make_unique<DeliveryWorker>(backend_.get(), key_.get(), &transport_, DeliveryOptions{OutboxDir(dir_.path())});
  worker_->set_base_url("http://127.0.0.1:8080");
  EXPECT_EQ(worker_->RunOnce(NowMillis()), 1u);
  ASSERT_EQ(transport_.posts.size(), 1u);
  EXPECT_EQ(json::parse(transport_.posts[0].body)["Message"], "before the crash");
  Publish("after unsubscribing");
  ASSERT_TRUE(backend_->Unsubscribe(s.arn).ok());
  EXPECT_EQ(worker_->RunOnce(NowMillis()), 0u);
  EXPECT_EQ((*backend_->RecentDeliveries(1))[0].status, "dropped");
}

TEST_F(SnsDeliveryTest, EmailGoesToTheOutboxAndConfirmsThroughItsLink) {
  auto s = backend_->Subscribe(topic_, "email", "ops@example.com", {});
  ASSERT_TRUE(s.ok());
  worker_->RunOnce(NowMillis());
  std::vector<std::string> names;
  ASSERT_TRUE(Env::Default()->GetChildren(OutboxDir(dir_.path()), &names).ok());
  ASSERT_EQ(names.size(), 1u);
  const std::string confirmation = ReadFile(OutboxDir(dir_.path()) + "/" + names[0]);
  EXPECT_NE(confirmation.find("To: ops@example.com\r\n"), std::string::npos);
  EXPECT_NE(confirmation.find("Subject: AWS Notification - Subscription Confirmation\r\n"), std::string::npos);
  EXPECT_NE(confirmation.find("From: Alerts <no-reply@sns.lathe.localhost>"), std::string::npos);
  EXPECT_NE(confirmation.find("&Token=" + s->token), std::string::npos);
  EXPECT_TRUE(transport_.mails.empty());  // no relay configured
  // Not confirmed: a publish reaches nobody.
  Publish("nobody hears this");
  EXPECT_EQ(worker_->RunOnce(NowMillis()), 0u);
  ASSERT_TRUE(backend_->ConfirmSubscription(topic_, s->token).ok());
  Publish("evaluation score 0.41 is below 0.5", "Score alert");
  EXPECT_EQ(worker_->RunOnce(NowMillis()), 1u);
  names.clear();
  ASSERT_TRUE(Env::Default()->GetChildren(OutboxDir(dir_.path()), &names).ok());
  ASSERT_EQ(names.size(), 2u);
  std::sort(names.begin(), names.end());
  std::string found;
  for (const auto& n : names) {
    std::string text = ReadFile(OutboxDir(dir_.path()) + "/" + n);
    if (text.find("Subject: Score alert") != std::string::npos) found = text;
  }
  ASSERT_FALSE(found.empty());
  EXPECT_NE(found.find("evaluation score 0.41 is below 0.5\r\n"), std::string::npos);
  EXPECT_NE(found.find("Action=Unsubscribe"), std::string::npos);
}

TEST_F(SnsDeliveryTest, EmailUsesTheRelayWhenConfigured) {
  DeliveryOptions options;
  options.outbox_dir = OutboxDir(dir_.path());
  options.smtp = {"smtp://127.0.0.1:2525", "lathe@example.com", "", ""};
  worker_ = std::make_unique<DeliveryWorker>(backend_.get(), key_.get(), &transport_, options);
  worker_->set_base_url("http://127.0.0.1:8080");
  ASSERT_TRUE(backend_->Subscribe(topic_, "email-json", "ops@example.com", {}).ok());
  worker_->RunOnce(NowMillis());
  ASSERT_EQ(transport_.mails.size(), 1u);
  EXPECT_EQ(transport_.mails[0].url, "ops@example.com");
  EXPECT_NE(transport_.mails[0].body.find("From: Alerts <lathe@example.com>"), std::string::npos);
}

TEST(SnsMessageFormat, CanonicalStringsFollowAwsOrder) {
  json n = {{"Type", "Notification"}, {"MessageId", "m"}, {"TopicArn", "t"}, {"Message", "hi"},
            {"Timestamp", "2026-01-01T00:00:00.000Z"}, {"Subject", "s"}, {"Signature", "ignored"}};
  EXPECT_EQ(CanonicalString(n), "Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\nt\nType\nNotification\n");
  n.erase("Subject");
  EXPECT_EQ(CanonicalString(n), "Message\nhi\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\nt\nType\nNotification\n");
  json c = {{"Type", "SubscriptionConfirmation"}, {"MessageId", "m"}, {"Token", "k"}, {"TopicArn", "t"},
            {"Message", "x"}, {"SubscribeURL", "u"}, {"Timestamp", "ts"}};
  EXPECT_EQ(CanonicalString(c), "Message\nx\nMessageId\nm\nSubscribeURL\nu\nTimestamp\nts\nToken\nk\nTopicArn\nt\nType\nSubscriptionConfirmation\n");
  Email e{"Caf\xc3\xa9 <a@b.c>", "x@y.z\r\nBcc: evil@z", "s", "line1\nline2", {}, 0};
  const std::string eml = FormatEml(e);
  EXPECT_NE(eml.find("From: =?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(eml.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(eml.find("line1\r\nline2\r\n"), std::string::npos);
}

TEST(SnsSigningKey, MadeOnceAndKept) {
  TempDir dir;
  auto a = SigningKey::LoadOrCreate(dir.path() + "/sns");
  ASSERT_TRUE(a.ok());
  auto b = SigningKey::LoadOrCreate(dir.path() + "/sns");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*a)->certificate_pem(), (*b)->certificate_pem());
  EXPECT_EQ((*a)->certificate_file_name().rfind("SimpleNotificationService-", 0), 0u);
  auto sig = (*b)->Sign("text", 1);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Verifies({{"Type", "Notification"}, {"Message", "x"}, {"Signature", *(*b)->Sign(CanonicalString({{"Type", "Notification"}, {"Message", "x"}}), 1)},
                        {"SignatureVersion", "1"}},
                       (*a)->certificate_pem()));
}

}  // namespace
}  // namespace lathe::sns
