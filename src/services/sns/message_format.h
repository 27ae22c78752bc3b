// What SNS sends, byte for byte as AWS sends it: the JSON envelope of http/https and email-json
// deliveries (Type Notification / SubscriptionConfirmation, signed over AWS's documented
// canonical string), its x-amz-sns-* headers, the links it carries (SubscribeURL,
// UnsubscribeURL, SigningCertURL: all on lathe's own endpoint), and email messages (.eml).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "services/sns/backend.h"
#include "services/sns/signing.h"

namespace lathe::sns {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Links on lathe's endpoint (`base_url` like "http://127.0.0.1:8080").
std::string SubscribeUrl(const std::string& base_url, const std::string& topic_arn, const std::string& token);
std::string UnsubscribeUrl(const std::string& base_url, const std::string& subscription_arn);
std::string SigningCertUrl(const std::string& base_url, const SigningKey& key);

// The text AWS signs: for Notification "Message\n..\nMessageId\n..\n[Subject\n..\n]Timestamp\n..\n
// TopicArn\n..\nType\n..\n"; for SubscriptionConfirmation / UnsubscribeConfirmation "Message,
// MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type" likewise. From the envelope's fields.
std::string CanonicalString(const nlohmann::json& envelope);

struct EnvelopeInput {
  std::string type;  // Notification, SubscriptionConfirmation
  std::string message_id, topic_arn, subject, message;
  int64_t timestamp_ms = 0;
  std::string token;             // SubscriptionConfirmation
  std::string subscription_arn;  // Notification: for UnsubscribeURL
  std::map<std::string, MessageAttribute> attributes;
};

// The signed envelope (SignatureVersion from the topic: "1" SHA1, "2" SHA256).
Result<nlohmann::json> BuildEnvelope(const EnvelopeInput& in, const SigningKey& key, int signature_version,
                                     const std::string& base_url);

// x-amz-sns-message-type, -message-id, -topic-arn, [-subscription-arn], Content-Type, User-Agent.
HeaderList HttpHeaders(const std::string& type, const std::string& message_id, const std::string& topic_arn,
                       const std::string& subscription_arn, bool raw);

// The confirmation text AWS puts in a SubscriptionConfirmation's Message.
std::string ConfirmationMessage(const std::string& topic_arn);

struct Email {
  std::string from, to, subject, body;
  HeaderList extra_headers;  // X-Lathe-* (topic, subscription, message id, type)
  int64_t date_ms = 0;
};
// RFC 5322 with CRLF line ends, UTF-8 body (8bit), non-ASCII headers as RFC 2047 words.
std::string FormatEml(const Email& email);

}  // namespace lathe::sns
