// Bucket notifications: the NotificationConfiguration document (Put/GetBucketNotificationConfiguration).
// With <EventBridgeConfiguration/> every object created or deleted in the bucket becomes an event on
// lathe's event bus (the store's outbox), shaped by object_events.h. Topic, queue and function configurations are
// checked and kept; which of them an event matches is answered here, for when SNS and functions
// deliver (docs/compatibility.md says what happens until then).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/rest_xml.h"
#include "core/status.h"

namespace lathe::s3 {

inline constexpr size_t kMaxNotificationConfigurations = 100;  // topic + queue + function, together
inline constexpr size_t kMaxNotificationIdBytes = 255;

// One <TopicConfiguration>, <QueueConfiguration> or <CloudFunctionConfiguration>.
struct NotificationTarget {
  enum class Kind { kTopic, kQueue, kFunction };
  Kind kind = Kind::kTopic;
  std::string id;   // given, or made up as AWS does when absent
  std::string arn;  // arn:aws:sns:..., arn:aws:sqs:..., arn:aws:lambda:...
  std::vector<std::string> events;  // "s3:ObjectCreated:*", ...
  std::string prefix, suffix;       // key filter rules ("" = none)
};

struct NotificationConfiguration {
  bool eventbridge = false;
  std::vector<NotificationTarget> targets;
};

// The request body. An empty <NotificationConfiguration/> turns notifications off. MalformedXML
// for a document outside the schema; InvalidArgument for an unknown event name, a bad ARN, a filter
// rule other than one prefix and one suffix, or two configurations whose events and filters overlap
// (S3's "Configurations overlap").
Result<NotificationConfiguration> ParseNotificationConfiguration(std::string_view body);
aws::RestXmlOutput NotificationConfigurationXml(const NotificationConfiguration& config);

// Kept in the bucket's document.
nlohmann::json NotificationConfigurationToJson(const NotificationConfiguration& config);
NotificationConfiguration NotificationConfigurationFromJson(const nlohmann::json& doc);

// The topic/queue/function configurations an event with that name and key matches.
std::vector<const NotificationTarget*> MatchingTargets(const NotificationConfiguration& config,
                                                       std::string_view event_name, std::string_view key);

}  // namespace lathe::s3
