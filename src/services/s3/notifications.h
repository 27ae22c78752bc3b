// Bucket notifications: the NotificationConfiguration document (Put/GetBucketNotificationConfiguration)
// and the events an object change makes. With <EventBridgeConfiguration/> every object created or
// deleted in the bucket becomes an event on lathe's event bus (the store's outbox) in the shape AWS
// documents for S3 events delivered to EventBridge: source "aws.s3", detail-type "Object Created" /
// "Object Deleted", the bucket's ARN in resources. Topic, queue and function configurations are
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
#include "store/metadata_store.h"

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

// What happened to an object.
struct ObjectChange {
  enum class Kind { kCreated, kDeleted };
  Kind kind = Kind::kCreated;
  std::string reason;         // PutObject, CopyObject, CompleteMultipartUpload, DeleteObject, DeleteObjects
  std::string event_name;     // s3:ObjectCreated:Put, s3:ObjectRemoved:DeleteMarkerCreated, ...
  std::string bucket, key;
  uint64_t size = 0;          // created only
  std::string etag;           // created only, unquoted
  std::string version_id;     // "null" or "" when the bucket is not versioned: left out
  bool delete_marker = false; // deleted: "Delete Marker Created" rather than "Permanently Deleted"
  std::string account, region, request_id, source_ip;
  int64_t time_ms = 0;
  uint64_t sequence = 0;      // orders changes of one key (written as S3's hex "sequencer")
};

// The EventBridge event for `change`, to publish with the change itself.
store::OutboxEvent ObjectChangeEvent(const ObjectChange& change);

// The topic/queue/function configurations an event with that name and key matches.
std::vector<const NotificationTarget*> MatchingTargets(const NotificationConfiguration& config,
                                                       std::string_view event_name, std::string_view key);

}  // namespace lathe::s3
