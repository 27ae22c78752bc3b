// SNS's semantics without a wire format: topics, subscriptions and published messages of an
// account, persisted in the metadata store so they survive a restart:
//   "sns-topic"         one row per topic (id = name = ARN), its attributes in the document
//   "sns-subscription"  one row per subscription (status "pending" or "confirmed")
//   "sns-message"       a published message that has at least one delivery
//   "sns-delivery"      one row per (message or confirmation, subscription): the delivery queue
//                       that DeliveryWorker (delivery_worker.h) drains, status "pending" until
//                       "delivered", "failed" (attempts spent) or "dropped" (subscription gone)
// Publish writes the message and all its deliveries in one transaction (InsertAll), so a crash
// after Publish answered never loses a delivery; the worker retries them after a restart.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "services/sns/delivery_policy.h"
#include "store/metadata_store.h"

namespace lathe::sns {

inline constexpr char kTopicKind[] = "sns-topic";
inline constexpr char kSubscriptionKind[] = "sns-subscription";
inline constexpr char kMessageKind[] = "sns-message";
inline constexpr char kDeliveryKind[] = "sns-delivery";

// Bounds (docs/serve.md, Limits).
inline constexpr size_t kMaxTopicsPerAccount = 10000;
inline constexpr size_t kMaxSubscriptionsPerTopic = 1000;
inline constexpr size_t kMaxTagsPerTopic = 50;
inline constexpr size_t kMaxMessageBytes = 262144;  // message + attributes, as AWS counts
inline constexpr size_t kMaxSubjectLength = 100;
inline constexpr size_t kMaxMessageAttributes = 10;
inline constexpr size_t kMaxEndpointLength = 2048;
inline constexpr size_t kListPageSize = 100;

// Who asks: topics are created in the caller's account and region.
struct Scope {
  std::string account, region;
};

struct Topic {
  std::string arn, name, account, region;
  int64_t created_ms = 0;
  std::map<std::string, std::string> attributes;  // as set (DisplayName, Policy, DeliveryPolicy, ...)
  int64_t subscriptions_deleted = 0;
};

struct Subscription {
  std::string arn, topic_arn, account, protocol, endpoint;
  bool confirmed = false;
  std::string token;  // the confirmation token (also kept after confirming: a repeat is answered)
  std::map<std::string, std::string> attributes;  // RawMessageDelivery, FilterPolicy, ...
  int64_t created_ms = 0;
};

struct MessageAttribute {
  std::string data_type;  // String, Number, Binary, String.Array (optionally ".<custom>")
  std::string value;      // the string value, or the binary value's bytes
};

struct PublishInput {
  std::string topic_arn;
  std::string message;
  std::string subject;
  bool json_structure = false;  // MessageStructure=json
  std::map<std::string, MessageAttribute> attributes;
};

struct Message {
  std::string id, topic_arn, subject, message;
  bool json_structure = false;
  std::map<std::string, MessageAttribute> attributes;
  int64_t timestamp_ms = 0;
  // What a subscription of `protocol` receives: with MessageStructure=json the protocol's own
  // entry, else "default"; the message as sent otherwise.
  std::string BodyFor(const std::string& protocol) const;
};

// One entry of the delivery queue.
struct Delivery {
  std::string id;
  std::string type;  // "Notification" or "SubscriptionConfirmation"
  std::string message_id;  // Notification
  std::string subscription_arn, topic_arn, protocol, endpoint;
  std::string status;  // pending, delivered, failed, dropped
  int attempts = 0;
  int64_t created_ms = 0, next_attempt_ms = 0, done_ms = 0;
  std::string last_error;
  RetryPolicy retry;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;  // "" on the last page
};

class SnsBackend {
 public:
  // `store` outlives the backend.
  explicit SnsBackend(store::MetadataStore* store) : store_(store) {}
  // Called after deliveries were queued (the worker wakes up instead of polling).
  void set_on_enqueue(std::function<void()> wake) { wake_ = std::move(wake); }

  // Idempotent by name: the existing topic when its attributes agree with `attributes`,
  // InvalidParameter when they differ.
  Result<Topic> CreateTopic(const Scope& scope, const std::string& name,
                            const std::map<std::string, std::string>& attributes,
                            const std::map<std::string, std::string>& tags);
  // OK when the topic does not exist (as AWS answers); its subscriptions go with it.
  Status DeleteTopic(const Scope& scope, const std::string& topic_arn);
  Result<Page<std::string>> ListTopics(const Scope& scope, const std::string& next_token);
  Result<Topic> GetTopic(const std::string& topic_arn);
  bool TopicExists(const std::string& topic_arn);
  // Everything GetTopicAttributes reports, defaults and counts included.
  Result<std::map<std::string, std::string>> GetTopicAttributes(const std::string& topic_arn);
  Status SetTopicAttribute(const std::string& topic_arn, const std::string& name, const std::string& value);

  // A new subscription, or the existing one for the same protocol and endpoint. http(s) and
  // email ones start pending, with a SubscriptionConfirmation queued for the endpoint.
  Result<Subscription> Subscribe(const std::string& topic_arn, const std::string& protocol,
                                 const std::string& endpoint, const std::map<std::string, std::string>& attributes);
  // InvalidParameter ("Invalid token") unless `token` is a pending or confirmed subscription's
  // token on this topic.
  Result<Subscription> ConfirmSubscription(const std::string& topic_arn, const std::string& token);
  Status Unsubscribe(const std::string& subscription_arn);
  Result<Subscription> GetSubscription(const std::string& subscription_arn);
  Result<std::map<std::string, std::string>> GetSubscriptionAttributes(const std::string& subscription_arn);
  Status SetSubscriptionAttribute(const std::string& subscription_arn, const std::string& name,
                                  const std::string& value);
  // The account's subscriptions (topic_arn empty) or one topic's (NotFound when it is gone).
  Result<Page<Subscription>> ListSubscriptions(const Scope& scope, const std::string& topic_arn,
                                               const std::string& next_token);

  // Validates, stores the message with one delivery per confirmed subscription whose filter
  // policy matches, and returns the message id.
  Result<std::string> Publish(const PublishInput& input);

  Status TagResource(const std::string& arn, const std::map<std::string, std::string>& tags);
  Status UntagResource(const std::string& arn, const std::vector<std::string>& keys);
  Result<std::map<std::string, std::string>> ListTags(const std::string& arn);

  // The delivery queue (DeliveryWorker).
  Result<std::vector<Delivery>> PendingDeliveries(size_t limit);
  Status SaveDelivery(const Delivery& delivery);
  Result<Message> GetMessage(const std::string& id);
  // Recent deliveries, newest first (`lathe notifications --deliveries`).
  Result<std::vector<Delivery>> RecentDeliveries(size_t limit);

 private:
  Result<store::ResourceRow> TopicRow(const std::string& topic_arn);
  Result<store::ResourceRow> SubscriptionRow(const std::string& subscription_arn);
  Status ValidateTopicAttribute(const std::string& name, const std::string& value);
  Status ValidateSubscriptionAttribute(const Subscription& sub, const std::string& name, const std::string& value);
  store::ResourceRow ConfirmationDelivery(const Subscription& sub, const RetryPolicy& retry, int64_t now);
  Result<RetryPolicy> RetryFor(const Topic& topic, const Subscription& sub);

  store::MetadataStore* store_;
  std::function<void()> wake_;
  std::mutex mu_;  // read-modify-write of topic and subscription documents
};

// Row <-> type conversions (the CLI reads deliveries with them).
Topic TopicFromRow(const store::ResourceRow& row);
Subscription SubscriptionFromRow(const store::ResourceRow& row);
Delivery DeliveryFromRow(const store::ResourceRow& row);

}  // namespace lathe::sns
