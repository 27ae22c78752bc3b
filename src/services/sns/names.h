// SNS's names and ARNs: topic names (1-256 of [A-Za-z0-9_-]), topic ARNs
// (arn:aws:sns:<region>:<account>:<name>), subscription ARNs (<topic ARN>:<uuid>), and the random
// ids and tokens SNS hands out (message ids, confirmation tokens), drawn from OpenSSL's RNG:
// a confirmation token is a capability, so it must not be guessable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lathe::sns {

inline constexpr size_t kMaxTopicNameLength = 256;
inline constexpr size_t kMaxArnLength = 1011;  // AmazonResourceName's max in the model

struct TopicArn {
  std::string region, account, name;
  std::string str() const;
};

struct SubscriptionArn {
  TopicArn topic;
  std::string id;  // the uuid after the topic ARN
};

// 1-256 ASCII letters, digits, '-' and '_' (length checked first).
bool IsValidTopicName(std::string_view name);
// nullopt unless `arn` is arn:aws:sns:<region>:<account 12 digits>:<valid topic name>.
std::optional<TopicArn> ParseTopicArn(std::string_view arn);
// nullopt unless `arn` is a topic ARN followed by ":" and a 36-character uuid.
std::optional<SubscriptionArn> ParseSubscriptionArn(std::string_view arn);

// A random (version 4) UUID, lower-case: message ids, subscription ids.
std::string NewUuid();
// `bytes` random bytes as lower-case hex (confirmation tokens).
std::string RandomHex(size_t bytes);
// Compares in time independent of where the strings differ (tokens).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace lathe::sns
