#include "services/sns/backend.h"

#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "core/checksum.h"
#include "core/json_nesting.h"
#include "core/page_token.h"
#include "services/sns/errors.h"
#include "services/sns/filter_policy.h"
#include "services/sns/names.h"

namespace lathe::sns {
namespace {

using nlohmann::json;
using store::ResourceRow;

constexpr size_t kMaxDisplayNameLength = 100;
constexpr size_t kMaxPolicyBytes = 30 * 1024;
constexpr size_t kTokenBytes = 64;  // AWS's tokens are a few hundred hex digits; 512 random bits suffice

json MapToJson(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

std::map<std::string, std::string> MapFromJson(const json& j) {
  std::map<std::string, std::string> m;
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) m[k] = v.get<std::string>();
  return m;
}

json AttributesToJson(const std::map<std::string, MessageAttribute>& attributes) {
  json j = json::object();
  for (const auto& [name, a] : attributes) {
    // Binary values are kept as base64: the store's documents are UTF-8 text.
    const bool binary = a.data_type.rfind("Binary", 0) == 0;
    j[name] = {{"Type", a.data_type}, {"Value", binary ? Base64Encode(a.value) : a.value}};
  }
  return j;
}

std::map<std::string, MessageAttribute> AttributesFromJson(const json& j) {
  std::map<std::string, MessageAttribute> out;
  if (!j.is_object()) return out;
  for (const auto& [name, v] : j.items()) {
    MessageAttribute a{v.value("Type", ""), v.value("Value", "")};
    if (a.data_type.rfind("Binary", 0) == 0) a.value = Base64Decode(a.value).value_or("");
    out[name] = a;
  }
  return out;
}

std::string DefaultPolicy(const std::string& topic_arn, const std::string& account) {
  json statement = {{"Sid", "__default_statement_ID"},
                    {"Effect", "Allow"},
                    {"Principal", {{"AWS", "*"}}},
                    {"Action", {"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                                "SNS:ListSubscriptionsByTopic", "SNS:Publish"}},
                    {"Resource", topic_arn},
                    {"Condition", {{"StringEquals", {{"AWS:SourceOwner", account}}}}}};
  return json({{"Version", "2008-10-17"}, {"Id", "__default_policy_ID"}, {"Statement", {statement}}}).dump();
}

bool IsEmailAddress(std::string_view s) {
  if (s.size() < 3 || s.size() > 254) return false;
  size_t at = s.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= s.size() || s.find('@', at + 1) != std::string_view::npos)
    return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '\\') return false;
  return true;
}

// An http(s) URL lathe can POST to: the scheme the protocol names, a host, printable ASCII only.
bool IsHttpUrl(std::string_view s, std::string_view scheme) {
  const std::string prefix = std::string(scheme) + "://";
  if (s.size() <= prefix.size() || s.size() > kMaxEndpointLength) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  const char next = s[prefix.size()];
  return next != '/' && next != '?' && next != '#';
}

bool IsBoolText(const std::string& v) { return v == "true" || v == "false"; }

ResourceRow Row(const char* kind, const std::string& id, const std::string& arn, const std::string& status,
                int64_t created_ms, json doc) {
  ResourceRow r;
  r.kind = kind;
  r.id = id;
  r.name = id;
  r.arn = arn;
  r.status = status;
  r.created_ms = created_ms;
  r.doc = std::move(doc);
  return r;
}

json SubscriptionDoc(const Subscription& s) {
  return {{"topicArn", s.topic_arn}, {"account", s.account},  {"protocol", s.protocol},
          {"endpoint", s.endpoint},  {"token", s.token},      {"attributes", MapToJson(s.attributes)}};
}

ResourceRow SubscriptionToRow(const Subscription& s) {
  return Row(kSubscriptionKind, s.arn, s.arn, s.confirmed ? "confirmed" : "pending", s.created_ms, SubscriptionDoc(s));
}

json TopicDoc(const Topic& t) {
  return {{"name", t.name}, {"account", t.account}, {"region", t.region}, {"attributes", MapToJson(t.attributes)},
          {"subscriptionsDeleted", t.subscriptions_deleted}};
}

json DeliveryDoc(const Delivery& d) {
  return {{"type", d.type},         {"messageId", d.message_id},       {"subscriptionArn", d.subscription_arn},
          {"topicArn", d.topic_arn}, {"protocol", d.protocol},         {"endpoint", d.endpoint},
          {"attempts", d.attempts},  {"nextAttemptMs", d.next_attempt_ms}, {"doneMs", d.done_ms},
          {"lastError", d.last_error}, {"retry", d.retry.ToJson()}};
}

ResourceRow DeliveryToRow(const Delivery& d) {
  return Row(kDeliveryKind, d.id, "", d.status, d.created_ms, DeliveryDoc(d));
}

// The message's attributes as a filter policy sees them: String -> string, Number -> number,
// String.Array -> its array; Binary attributes are not matched (as in AWS).
json FilterView(const std::map<std::string, MessageAttribute>& attributes) {
  json j = json::object();
  for (const auto& [name, a] : attributes) {
    if (a.data_type.rfind("Number", 0) == 0) {
      json n = json::parse(a.value, nullptr, false);
      j[name] = n.is_number() ? n : json(a.value);
    } else if (a.data_type.rfind("String.Array", 0) == 0) {
      json arr = a.value.size() <= kMaxMessageBytes && JsonNestingWithin(a.value, 8)
                     ? json::parse(a.value, nullptr, false) : json();
      j[name] = arr.is_array() ? arr : json(a.value);
    } else if (a.data_type.rfind("String", 0) == 0) {
      j[name] = a.value;
    }
  }
  return j;
}

bool FilterMatches(const Subscription& sub, const Message& message) {
  auto it = sub.attributes.find("FilterPolicy");
  if (it == sub.attributes.end() || it->second.empty()) return true;
  auto scope_it = sub.attributes.find("FilterPolicyScope");
  const FilterScope scope = scope_it != sub.attributes.end() && scope_it->second == "MessageBody"
                                ? FilterScope::kMessageBody : FilterScope::kMessageAttributes;
  Result<FilterPolicy> policy = FilterPolicy::Parse(it->second, scope);
  if (!policy.ok()) return false;  // validated when set; unreachable unless the store was edited
  if (scope == FilterScope::kMessageAttributes) return policy->Matches(FilterView(message.attributes));
  const std::string body = message.BodyFor(sub.protocol);
  json parsed = JsonNestingWithin(body, 64) ? json::parse(body, nullptr, false) : json();
  return policy->Matches(parsed.is_discarded() ? json() : parsed);
}

// AWS: "Subject must be ASCII text that begins with a letter, number, or punctuation mark; must
// not include line breaks or control characters; and must be less than 100 characters long."
bool IsValidSubject(const std::string& s) {
  if (s.empty() || s.size() > kMaxSubjectLength) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return s[0] != ' ';
}

bool IsValidAttributeName(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.'))
      return false;
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) return false;
  auto starts = [&](const char* p) {
    std::string lower;
    for (char c : name.substr(0, 7)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.rfind(p, 0) == 0;
  };
  return !starts("aws.") && !starts("amazon.");
}

Status ValidateMessageAttributes(const std::map<std::string, MessageAttribute>& attributes) {
  if (attributes.size() > kMaxMessageAttributes)
    return InvalidParameter("MessageAttributes", "Number of message attributes [" + std::to_string(attributes.size()) +
                                                     "] exceeds the allowed maximum [10].");
  for (const auto& [name, a] : attributes) {
    if (!IsValidAttributeName(name))
      return InvalidParameter("MessageAttributes", "Invalid attribute name: " + name.substr(0, 64));
    std::string base = a.data_type.substr(0, a.data_type.find('.', a.data_type.rfind("String.Array", 0) == 0 ? 12 : 0));
    if (base != "String" && base != "Number" && base != "Binary" && base != "String.Array")
      return ParameterValueInvalid("The message attribute '" + name + "' has an invalid message attribute type, the "
                                   "set of supported type prefixes is Binary, Number, and String.");
    if (a.data_type.size() > 256) return ParameterValueInvalid("The message attribute '" + name + "' has a type longer than 256 characters.");
    if (a.value.empty())
      return ParameterValueInvalid("The message attribute '" + name + "' must contain non-empty message attribute value for message attribute type '" + base + "'.");
    if (base == "Number") {
      json n = a.value.size() <= 64 ? json::parse(a.value, nullptr, false) : json();
      if (!n.is_number())
        return ParameterValueInvalid("Could not cast message attribute '" + name + "' value to number.");
    }
    if (base == "String.Array") {
      json arr = a.value.size() <= kMaxMessageBytes && JsonNestingWithin(a.value, 2) ? json::parse(a.value, nullptr, false) : json();
      if (!arr.is_array())
        return ParameterValueInvalid("The message attribute '" + name + "' with type 'String.Array' must be a JSON array.");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string Message::BodyFor(const std::string& protocol) const {
  if (!json_structure) return message;
  json j = json::parse(message, nullptr, false);
  if (!j.is_object()) return message;
  if (j.contains(protocol) && j[protocol].is_string()) return j[protocol].get<std::string>();
  return j.value("default", message);
}

Topic TopicFromRow(const ResourceRow& row) {
  Topic t;
  t.arn = row.arn;
  t.name = row.doc.value("name", "");
  t.account = row.doc.value("account", "");
  t.region = row.doc.value("region", "");
  t.created_ms = row.created_ms;
  t.attributes = MapFromJson(row.doc.value("attributes", json::object()));
  t.subscriptions_deleted = row.doc.value("subscriptionsDeleted", int64_t{0});
  return t;
}

Subscription SubscriptionFromRow(const ResourceRow& row) {
  Subscription s;
  s.arn = row.arn;
  s.topic_arn = row.doc.value("topicArn", "");
  s.account = row.doc.value("account", "");
  s.protocol = row.doc.value("protocol", "");
  s.endpoint = row.doc.value("endpoint", "");
  s.token = row.doc.value("token", "");
  s.attributes = MapFromJson(row.doc.value("attributes", json::object()));
  s.confirmed = row.status == "confirmed";
  s.created_ms = row.created_ms;
  return s;
}

Delivery DeliveryFromRow(const ResourceRow& row) {
  Delivery d;
  d.id = row.id;
  d.status = row.status;
  d.created_ms = row.created_ms;
  const json& j = row.doc;
  d.type = j.value("type", "");
  d.message_id = j.value("messageId", "");
  d.subscription_arn = j.value("subscriptionArn", "");
  d.topic_arn = j.value("topicArn", "");
  d.protocol = j.value("protocol", "");
  d.endpoint = j.value("endpoint", "");
  d.attempts = j.value("attempts", 0);
  d.next_attempt_ms = j.value("nextAttemptMs", int64_t{0});
  d.done_ms = j.value("doneMs", int64_t{0});
  d.last_error = j.value("lastError", "");
  d.retry = RetryPolicy::FromJson(j.value("retry", json::object()));
  return d;
}

// ---- topics

Result<ResourceRow> SnsBackend::TopicRow(const std::string& topic_arn) {
  if (!ParseTopicArn(topic_arn)) return InvalidParameter("TopicArn", "");
  Result<ResourceRow> row = store_->Find(kTopicKind, topic_arn);
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound) return NotFound("Topic does not exist");
    return row.status();
  }
  return row;
}

Status SnsBackend::ValidateTopicAttribute(const std::string& name, const std::string& value) {
  if (name == "DisplayName") {
    if (value.size() > kMaxDisplayNameLength) return InvalidParameter("DisplayName", "Display name must be at most 100 characters");
    for (unsigned char c : value)
      if (c < 0x20 || c == 0x7f) return InvalidParameter("DisplayName", "Display name must not contain control characters");
  } else if (name == "Policy" || name == "DataProtectionPolicy") {
    if (value.size() > kMaxPolicyBytes) return InvalidParameter(name, "the policy is longer than 30 KB");
    json j = JsonNestingWithin(value, 32) ? json::parse(value, nullptr, false) : json();
    if (!j.is_object()) return InvalidParameter(name, "failed to parse JSON");
  } else if (name == "DeliveryPolicy") {
    if (!value.empty()) return ValidateDeliveryPolicy(value, /*topic=*/true);
  } else if (name == "SignatureVersion") {
    if (value != "1" && value != "2") return InvalidParameter("SignatureVersion", "Signature version must be 1 or 2");
  } else if (name == "TracingConfig") {
    if (value != "PassThrough" && value != "Active") return InvalidParameter("TracingConfig", "must be PassThrough or Active");
  } else if (name == "FifoTopic" || name == "ContentBasedDeduplication") {
    if (value == "true")
      return InvalidParameter(name, "lathe does not implement FIFO topics (docs/compatibility.md)");
    if (value != "false") return InvalidParameter(name, "must be true or false");
  } else if (name == "KmsMasterKeyId" || name.ends_with("FeedbackRoleArn") || name.ends_with("SuccessFeedbackSampleRate")) {
    // Kept and reported; lathe neither encrypts with KMS nor logs delivery status to CloudWatch.
    if (value.size() > 2048) return InvalidParameter(name, "too long");
  } else {
    return InvalidParameter("AttributeName", "");
  }
  return Status::Ok();
}

Result<Topic> SnsBackend::CreateTopic(const Scope& scope, const std::string& name,
                                      const std::map<std::string, std::string>& attributes,
                                      const std::map<std::string, std::string>& tags) {
  if (name.size() > kMaxTopicNameLength || !IsValidTopicName(name))
    return InvalidParameter("Topic Name", "");
  for (const auto& [k, v] : attributes) LATHE_RETURN_IF_ERROR(ValidateTopicAttribute(k, v));
  if (tags.size() > kMaxTagsPerTopic) return TagLimitExceeded("Could not complete request: tag quota of per resource exceeded");
  const std::string arn = TopicArn{scope.region, scope.account, name}.str();
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> existing = store_->Find(kTopicKind, arn);
  if (existing.ok()) {
    Topic t = TopicFromRow(*existing);
    for (const auto& [k, v] : attributes) {
      auto it = t.attributes.find(k);
      const std::string stored = it == t.attributes.end() ? "" : it->second;
      if (stored != v && !(k == "FifoTopic" && v == "false" && stored.empty()))
        return InvalidParameter("Attributes", "Topic already exists with different attributes");
    }
    return t;
  }
  store::MetadataStore::ListFilter in_account;
  in_account.doc_equals["account"] = scope.account;
  in_account.limit = kMaxTopicsPerAccount;
  Result<std::vector<ResourceRow>> all = store_->List(kTopicKind, in_account);
  if (!all.ok()) return all.status();
  if (all->size() >= kMaxTopicsPerAccount)
    return TopicLimitExceeded("Topic limit exceeded: lathe keeps at most " + std::to_string(kMaxTopicsPerAccount) +
                              " topics per account");
  Topic t;
  t.arn = arn;
  t.name = name;
  t.account = scope.account;
  t.region = scope.region;
  t.created_ms = NowMillis();
  for (const auto& [k, v] : attributes)
    if (!(k == "FifoTopic" || k == "ContentBasedDeduplication")) t.attributes[k] = v;
  LATHE_RETURN_IF_ERROR(store_->Insert(Row(kTopicKind, arn, arn, "active", t.created_ms, TopicDoc(t))));
  if (!tags.empty()) LATHE_RETURN_IF_ERROR(store_->SetTags(arn, tags));
  return t;
}

Status SnsBackend::DeleteTopic(const Scope& scope, const std::string& topic_arn) {
  if (!ParseTopicArn(topic_arn)) return InvalidParameter("TopicArn", "");
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> row = store_->Find(kTopicKind, topic_arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? Status::Ok() : row.status();
  store::MetadataStore::ListFilter of_topic;
  of_topic.doc_equals["topicArn"] = topic_arn;
  Result<std::vector<ResourceRow>> subs = store_->List(kSubscriptionKind, of_topic);
  if (!subs.ok()) return subs.status();
  for (const ResourceRow& s : *subs) LATHE_RETURN_IF_ERROR(store_->Delete(kSubscriptionKind, s.id));
  Result<std::map<std::string, std::string>> tags = store_->Tags(topic_arn);
  if (tags.ok() && !tags->empty()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : *tags) keys.push_back(k);
    LATHE_RETURN_IF_ERROR(store_->RemoveTags(topic_arn, keys));
  }
  return store_->Delete(kTopicKind, row->id);
}

Result<Page<std::string>> SnsBackend::ListTopics(const Scope& scope, const std::string& next_token) {
  size_t offset = 0;
  if (!next_token.empty()) {
    std::optional<std::string> pos = DecodePageToken("sns:topics", next_token);
    if (!pos || pos->empty() || pos->size() > 9 || pos->find_first_not_of("0123456789") != std::string::npos)
      return InvalidParameter("NextToken", "");
    offset = std::stoul(*pos);
  }
  store::MetadataStore::ListFilter f;
  f.doc_equals["account"] = scope.account;
  f.doc_equals["region"] = scope.region;
  f.offset = offset;
  f.limit = kListPageSize + 1;
  Result<std::vector<ResourceRow>> rows = store_->List(kTopicKind, f);
  if (!rows.ok()) return rows.status();
  Page<std::string> page;
  for (size_t i = 0; i < rows->size() && i < kListPageSize; ++i) page.items.push_back((*rows)[i].arn);
  if (rows->size() > kListPageSize) page.next_token = EncodePageToken("sns:topics", std::to_string(offset + kListPageSize));
  return page;
}

Result<Topic> SnsBackend::GetTopic(const std::string& topic_arn) {
  Result<ResourceRow> row = TopicRow(topic_arn);
  if (!row.ok()) return row.status();
  return TopicFromRow(*row);
}

bool SnsBackend::TopicExists(const std::string& topic_arn) { return TopicRow(topic_arn).ok(); }

Result<std::map<std::string, std::string>> SnsBackend::GetTopicAttributes(const std::string& topic_arn) {
  Result<Topic> t = GetTopic(topic_arn);
  if (!t.ok()) return t.status();
  std::map<std::string, std::string> a = t->attributes;
  a["TopicArn"] = t->arn;
  a["Owner"] = t->account;
  if (!a.count("Policy")) a["Policy"] = DefaultPolicy(t->arn, t->account);
  if (!a.count("DisplayName")) a["DisplayName"] = "";
  a["EffectiveDeliveryPolicy"] = EffectiveTopicDeliveryPolicy(a.count("DeliveryPolicy") ? a["DeliveryPolicy"] : "");
  store::MetadataStore::ListFilter of_topic;
  of_topic.doc_equals["topicArn"] = t->arn;
  Result<std::vector<ResourceRow>> subs = store_->List(kSubscriptionKind, of_topic);
  if (!subs.ok()) return subs.status();
  size_t confirmed = 0;
  for (const ResourceRow& r : *subs) confirmed += r.status == "confirmed";
  a["SubscriptionsConfirmed"] = std::to_string(confirmed);
  a["SubscriptionsPending"] = std::to_string(subs->size() - confirmed);
  a["SubscriptionsDeleted"] = std::to_string(t->subscriptions_deleted);
  return a;
}

Status SnsBackend::SetTopicAttribute(const std::string& topic_arn, const std::string& name, const std::string& value) {
  if (name == "FifoTopic") return InvalidParameter("AttributeName", "FifoTopic can only be set when the topic is created");
  LATHE_RETURN_IF_ERROR(ValidateTopicAttribute(name, value));
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> row = TopicRow(topic_arn);
  if (!row.ok()) return row.status();
  Topic t = TopicFromRow(*row);
  if (value.empty() && name != "DisplayName") t.attributes.erase(name);
  else t.attributes[name] = value;
  row->doc = TopicDoc(t);
  return store_->Update(*row);
}

// ---- subscriptions

Result<ResourceRow> SnsBackend::SubscriptionRow(const std::string& subscription_arn) {
  if (!ParseSubscriptionArn(subscription_arn)) return InvalidParameter("SubscriptionArn", "");
  Result<ResourceRow> row = store_->Find(kSubscriptionKind, subscription_arn);
  if (!row.ok() && row.status().code() == Status::Code::kNotFound) return NotFound("Subscription does not exist");
  return row;
}

Status SnsBackend::ValidateSubscriptionAttribute(const Subscription& sub, const std::string& name,
                                                 const std::string& value) {
  if (name == "RawMessageDelivery") {
    if (!IsBoolText(value)) return InvalidParameter("RawMessageDelivery", "must be true or false");
    if (value == "true" && sub.protocol != "http" && sub.protocol != "https" && !sub.protocol.empty())
      return InvalidParameter("AttributeName", "Invalid parameter: RawMessageDelivery applies to http, https, sqs and firehose subscriptions");
  } else if (name == "FilterPolicy") {
    auto scope_it = sub.attributes.find("FilterPolicyScope");
    const FilterScope scope = scope_it != sub.attributes.end() && scope_it->second == "MessageBody"
                                  ? FilterScope::kMessageBody : FilterScope::kMessageAttributes;
    Result<FilterPolicy> p = FilterPolicy::Parse(value, scope);
    if (!p.ok()) return p.status();
  } else if (name == "FilterPolicyScope") {
    if (value != "MessageAttributes" && value != "MessageBody")
      return InvalidParameter("FilterPolicyScope", "must be MessageAttributes or MessageBody");
  } else if (name == "DeliveryPolicy") {
    if (!value.empty()) return ValidateDeliveryPolicy(value, /*topic=*/false);
  } else if (name == "RedrivePolicy" || name == "SubscriptionRoleArn") {
    // Kept and reported; lathe has no SQS dead-letter queues or Firehose roles to use them with.
    if (value.size() > 2048) return InvalidParameter(name, "too long");
  } else {
    return InvalidParameter("AttributeName", "");
  }
  return Status::Ok();
}

namespace {

// A delivery of `type` to `sub`, due now.
Delivery NewDelivery(const char* type, const Subscription& sub, const RetryPolicy& retry, int64_t now) {
  Delivery d;
  d.id = NewUuid();
  d.type = type;
  d.subscription_arn = sub.arn;
  d.topic_arn = sub.topic_arn;
  d.protocol = sub.protocol;
  d.endpoint = sub.endpoint;
  d.status = "pending";
  d.created_ms = now;
  d.next_attempt_ms = now;
  d.retry = retry;
  return d;
}

}  // namespace

ResourceRow SnsBackend::ConfirmationDelivery(const Subscription& sub, const RetryPolicy& retry, int64_t now) {
  return DeliveryToRow(NewDelivery("SubscriptionConfirmation", sub, retry, now));
}

Result<RetryPolicy> SnsBackend::RetryFor(const Topic& topic, const Subscription& sub) {
  if (sub.protocol == "email" || sub.protocol == "email-json") return EmailRetryPolicy();
  auto t = topic.attributes.find("DeliveryPolicy");
  auto s = sub.attributes.find("DeliveryPolicy");
  return EffectiveRetryPolicy(t == topic.attributes.end() ? "" : t->second, s == sub.attributes.end() ? "" : s->second);
}

Result<Subscription> SnsBackend::Subscribe(const std::string& topic_arn, const std::string& protocol,
                                           const std::string& endpoint,
                                           const std::map<std::string, std::string>& attributes) {
  if (protocol == "http" || protocol == "https") {
    if (!IsHttpUrl(endpoint, protocol)) return InvalidParameter("Endpoint", "Endpoint must match the specified protocol");
  } else if (protocol == "email" || protocol == "email-json") {
    if (!IsEmailAddress(endpoint)) return InvalidParameter("Email address", "");
  } else if (protocol == "sqs" || protocol == "lambda" || protocol == "application" || protocol == "sms" ||
             protocol == "firehose") {
    return InvalidParameter("Protocol", "lathe does not deliver to " + protocol +
                                            " endpoints yet; it delivers to http, https, email and email-json "
                                            "(docs/compatibility.md)");
  } else {
    return InvalidParameter("Amazon SNS does not support this protocol string: " + protocol.substr(0, 64));
  }
  Subscription sub;
  sub.protocol = protocol;
  sub.endpoint = endpoint;
  // FilterPolicyScope first: FilterPolicy is parsed in its scope.
  if (auto scope_it = attributes.find("FilterPolicyScope"); scope_it != attributes.end()) {
    LATHE_RETURN_IF_ERROR(ValidateSubscriptionAttribute(sub, scope_it->first, scope_it->second));
    sub.attributes[scope_it->first] = scope_it->second;
  }
  for (const auto& [k, v] : attributes) {
    LATHE_RETURN_IF_ERROR(ValidateSubscriptionAttribute(sub, k, v));
    sub.attributes[k] = v;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> topic_row = TopicRow(topic_arn);
  if (!topic_row.ok()) return topic_row.status();
  Topic topic = TopicFromRow(*topic_row);
  store::MetadataStore::ListFilter of_topic;
  of_topic.doc_equals["topicArn"] = topic_arn;
  Result<std::vector<ResourceRow>> subs = store_->List(kSubscriptionKind, of_topic);
  if (!subs.ok()) return subs.status();
  const int64_t now = NowMillis();
  for (const ResourceRow& r : *subs) {
    Subscription existing = SubscriptionFromRow(r);
    if (existing.protocol != protocol || existing.endpoint != endpoint) continue;
    for (const auto& [k, v] : attributes) {
      auto it = existing.attributes.find(k);
      if (it == existing.attributes.end() || it->second != v)
        return InvalidParameter("Attributes", "Subscription already exists with different attributes");
    }
    // AWS sends a pending subscription's confirmation again.
    if (!existing.confirmed) {
      Result<RetryPolicy> retry = RetryFor(topic, existing);
      if (!retry.ok()) return retry.status();
      LATHE_RETURN_IF_ERROR(store_->InsertAll({ConfirmationDelivery(existing, *retry, now)}));
      if (wake_) wake_();
    }
    return existing;
  }
  if (subs->size() >= kMaxSubscriptionsPerTopic)
    return SubscriptionLimitExceeded("lathe keeps at most " + std::to_string(kMaxSubscriptionsPerTopic) +
                                     " subscriptions per topic");
  sub.arn = topic_arn + ":" + NewUuid();
  sub.topic_arn = topic_arn;
  sub.account = topic.account;
  sub.token = RandomHex(kTokenBytes);
  sub.created_ms = now;
  Result<RetryPolicy> retry = RetryFor(topic, sub);
  if (!retry.ok()) return retry.status();
  LATHE_RETURN_IF_ERROR(store_->InsertAll({SubscriptionToRow(sub), ConfirmationDelivery(sub, *retry, now)}));
  if (wake_) wake_();
  return sub;
}

Result<Subscription> SnsBackend::ConfirmSubscription(const std::string& topic_arn, const std::string& token) {
  if (token.empty() || token.size() > 2048) return InvalidParameter("Token", "");
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> topic_row = TopicRow(topic_arn);
  if (!topic_row.ok()) return topic_row.status();
  store::MetadataStore::ListFilter of_topic;
  of_topic.doc_equals["topicArn"] = topic_arn;
  Result<std::vector<ResourceRow>> subs = store_->List(kSubscriptionKind, of_topic);
  if (!subs.ok()) return subs.status();
  for (ResourceRow& r : *subs) {
    Subscription s = SubscriptionFromRow(r);
    if (!ConstantTimeEquals(s.token, token)) continue;
    if (!s.confirmed) {
      s.confirmed = true;
      r.status = "confirmed";
      LATHE_RETURN_IF_ERROR(store_->Update(r));
    }
    return s;
  }
  return InvalidParameter("Token", "");
}

Status SnsBackend::Unsubscribe(const std::string& subscription_arn) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> row = SubscriptionRow(subscription_arn);
  if (!row.ok()) return row.status();
  Result<ResourceRow> topic_row = store_->Find(kTopicKind, row->doc.value("topicArn", ""));
  LATHE_RETURN_IF_ERROR(store_->Delete(kSubscriptionKind, row->id));
  if (topic_row.ok()) {
    Topic t = TopicFromRow(*topic_row);
    ++t.subscriptions_deleted;
    topic_row->doc = TopicDoc(t);
    LATHE_RETURN_IF_ERROR(store_->Update(*topic_row));
  }
  return Status::Ok();
}

Result<Subscription> SnsBackend::GetSubscription(const std::string& subscription_arn) {
  Result<ResourceRow> row = SubscriptionRow(subscription_arn);
  if (!row.ok()) return row.status();
  return SubscriptionFromRow(*row);
}

Result<std::map<std::string, std::string>> SnsBackend::GetSubscriptionAttributes(const std::string& subscription_arn) {
  Result<Subscription> s = GetSubscription(subscription_arn);
  if (!s.ok()) return s.status();
  std::map<std::string, std::string> a = s->attributes;
  a["SubscriptionArn"] = s->arn;
  a["TopicArn"] = s->topic_arn;
  a["Owner"] = s->account;
  a["Protocol"] = s->protocol;
  a["Endpoint"] = s->endpoint;
  a["PendingConfirmation"] = s->confirmed ? "false" : "true";
  a["ConfirmationWasAuthenticated"] = "false";
  a["SubscriptionPrincipal"] = RootArn(s->account);
  if (!a.count("RawMessageDelivery")) a["RawMessageDelivery"] = "false";
  if (a.count("FilterPolicy") && !a.count("FilterPolicyScope")) a["FilterPolicyScope"] = "MessageAttributes";
  if (s->protocol == "http" || s->protocol == "https") {
    Result<Topic> t = GetTopic(s->topic_arn);
    const std::string topic_policy = t.ok() && t->attributes.count("DeliveryPolicy") ? t->attributes.at("DeliveryPolicy") : "";
    nlohmann::json effective = {{"healthyRetryPolicy",
                                 EffectiveRetryPolicy(topic_policy, a.count("DeliveryPolicy") ? a["DeliveryPolicy"] : "")
                                     .ToJson()}};
    a["EffectiveDeliveryPolicy"] = effective.dump();
  }
  return a;
}

Status SnsBackend::SetSubscriptionAttribute(const std::string& subscription_arn, const std::string& name,
                                            const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<ResourceRow> row = SubscriptionRow(subscription_arn);
  if (!row.ok()) return row.status();
  Subscription s = SubscriptionFromRow(*row);
  LATHE_RETURN_IF_ERROR(ValidateSubscriptionAttribute(s, name, value));
  if (name == "FilterPolicyScope" && s.attributes.count("FilterPolicy")) {
    // The policy must still hold in its new scope.
    Result<FilterPolicy> p = FilterPolicy::Parse(s.attributes["FilterPolicy"], value == "MessageBody"
                                                     ? FilterScope::kMessageBody : FilterScope::kMessageAttributes);
    if (!p.ok()) return p.status();
  }
  if (value.empty()) s.attributes.erase(name);
  else s.attributes[name] = value;
  row->doc = SubscriptionDoc(s);
  return store_->Update(*row);
}

Result<Page<Subscription>> SnsBackend::ListSubscriptions(const Scope& scope, const std::string& topic_arn,
                                                         const std::string& next_token) {
  const std::string list = topic_arn.empty() ? "sns:subscriptions" : "sns:subscriptions:" + topic_arn;
  size_t offset = 0;
  if (!next_token.empty()) {
    std::optional<std::string> pos = DecodePageToken(list, next_token);
    if (!pos || pos->empty() || pos->size() > 9 || pos->find_first_not_of("0123456789") != std::string::npos)
      return InvalidParameter("NextToken", "");
    offset = std::stoul(*pos);
  }
  store::MetadataStore::ListFilter f;
  if (topic_arn.empty()) {
    f.doc_equals["account"] = scope.account;
  } else {
    Result<ResourceRow> topic = TopicRow(topic_arn);
    if (!topic.ok()) return topic.status();
    f.doc_equals["topicArn"] = topic_arn;
  }
  f.offset = offset;
  f.limit = kListPageSize + 1;
  Result<std::vector<ResourceRow>> rows = store_->List(kSubscriptionKind, f);
  if (!rows.ok()) return rows.status();
  Page<Subscription> page;
  for (size_t i = 0; i < rows->size() && i < kListPageSize; ++i) page.items.push_back(SubscriptionFromRow((*rows)[i]));
  if (rows->size() > kListPageSize) page.next_token = EncodePageToken(list, std::to_string(offset + kListPageSize));
  return page;
}

// ---- publishing

Result<std::string> SnsBackend::Publish(const PublishInput& input) {
  if (input.message.empty()) return InvalidParameter("Empty message");
  size_t total = input.message.size();
  for (const auto& [name, a] : input.attributes) total += name.size() + a.data_type.size() + a.value.size();
  if (total > kMaxMessageBytes)
    return InvalidParameter("Message too long", "");
  if (!input.subject.empty() && !IsValidSubject(input.subject)) return InvalidParameter("Subject", "");
  LATHE_RETURN_IF_ERROR(ValidateMessageAttributes(input.attributes));
  if (input.json_structure) {
    json j = JsonNestingWithin(input.message, 64) ? json::parse(input.message, nullptr, false) : json();
    if (j.is_discarded() || !j.is_object())
      return InvalidParameter("Message Structure - JSON message body failed to parse", "");
    if (!j.contains("default") || !j["default"].is_string())
      return InvalidParameter("Message Structure - No default entry in JSON message body", "");
  }
  Result<ResourceRow> topic_row = TopicRow(input.topic_arn);
  if (!topic_row.ok()) return topic_row.status();
  const Topic topic = TopicFromRow(*topic_row);

  Message m;
  m.id = NewUuid();
  m.topic_arn = input.topic_arn;
  m.subject = input.subject;
  m.message = input.message;
  m.json_structure = input.json_structure;
  m.attributes = input.attributes;
  m.timestamp_ms = NowMillis();

  store::MetadataStore::ListFilter confirmed;
  confirmed.statuses = {"confirmed"};
  confirmed.doc_equals["topicArn"] = input.topic_arn;
  Result<std::vector<ResourceRow>> subs = store_->List(kSubscriptionKind, confirmed);
  if (!subs.ok()) return subs.status();
  std::vector<ResourceRow> rows;
  for (const ResourceRow& r : *subs) {
    Subscription s = SubscriptionFromRow(r);
    if (!FilterMatches(s, m)) continue;
    Result<RetryPolicy> retry = RetryFor(topic, s);
    if (!retry.ok()) return retry.status();
    Delivery d = NewDelivery("Notification", s, *retry, m.timestamp_ms);
    d.message_id = m.id;
    rows.push_back(DeliveryToRow(d));
  }
  // A message nobody receives is not kept (AWS drops it too).
  if (rows.empty()) return m.id;
  json doc = {{"topicArn", m.topic_arn},     {"subject", m.subject},
              {"message", m.message},        {"jsonStructure", m.json_structure},
              {"attributes", AttributesToJson(m.attributes)}, {"timestampMs", m.timestamp_ms}};
  rows.insert(rows.begin(), Row(kMessageKind, m.id, "", "published", m.timestamp_ms, std::move(doc)));
  LATHE_RETURN_IF_ERROR(store_->InsertAll(rows));
  if (wake_) wake_();
  return m.id;
}

Result<Message> SnsBackend::GetMessage(const std::string& id) {
  Result<ResourceRow> row = store_->Find(kMessageKind, id);
  if (!row.ok()) return row.status();
  Message m;
  m.id = row->id;
  m.topic_arn = row->doc.value("topicArn", "");
  m.subject = row->doc.value("subject", "");
  m.message = row->doc.value("message", "");
  m.json_structure = row->doc.value("jsonStructure", false);
  m.attributes = AttributesFromJson(row->doc.value("attributes", json::object()));
  m.timestamp_ms = row->doc.value("timestampMs", int64_t{0});
  return m;
}

// ---- tags

Status SnsBackend::TagResource(const std::string& arn, const std::map<std::string, std::string>& tags) {
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 128) return InvalidParameter("Tags", "tag keys must be 1 to 128 characters");
    if (v.size() > 256) return InvalidParameter("Tags", "tag values must be at most 256 characters");
    if (k.rfind("aws:", 0) == 0) return InvalidParameter("Tags", "tag keys must not start with aws:");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!ParseTopicArn(arn) || !store_->Find(kTopicKind, arn).ok()) return ResourceNotFound("Resource does not exist");
  Result<std::map<std::string, std::string>> existing = store_->Tags(arn);
  if (!existing.ok()) return existing.status();
  std::map<std::string, std::string> merged = *existing;
  for (const auto& [k, v] : tags) merged[k] = v;
  if (merged.size() > kMaxTagsPerTopic)
    return TagLimitExceeded("Could not complete request: tag quota of per resource exceeded");
  return store_->SetTags(arn, tags);
}

Status SnsBackend::UntagResource(const std::string& arn, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ParseTopicArn(arn) || !store_->Find(kTopicKind, arn).ok()) return ResourceNotFound("Resource does not exist");
  return store_->RemoveTags(arn, keys);
}

Result<std::map<std::string, std::string>> SnsBackend::ListTags(const std::string& arn) {
  if (!ParseTopicArn(arn) || !store_->Find(kTopicKind, arn).ok()) return ResourceNotFound("Resource does not exist");
  return store_->Tags(arn);
}

// ---- the delivery queue

Result<std::vector<Delivery>> SnsBackend::PendingDeliveries(size_t limit) {
  store::MetadataStore::ListFilter f;
  f.statuses = {"pending"};
  f.limit = limit;
  Result<std::vector<ResourceRow>> rows = store_->List(kDeliveryKind, f);
  if (!rows.ok()) return rows.status();
  std::vector<Delivery> out;
  for (const ResourceRow& r : *rows) out.push_back(DeliveryFromRow(r));
  return out;
}

Status SnsBackend::SaveDelivery(const Delivery& delivery) { return store_->Update(DeliveryToRow(delivery)); }

Result<std::vector<Delivery>> SnsBackend::RecentDeliveries(size_t limit) {
  store::MetadataStore::ListFilter f;
  f.descending = true;
  f.limit = limit;
  Result<std::vector<ResourceRow>> rows = store_->List(kDeliveryKind, f);
  if (!rows.ok()) return rows.status();
  std::vector<Delivery> out;
  for (const ResourceRow& r : *rows) out.push_back(DeliveryFromRow(r));
  return out;
}

}  // namespace lathe::sns
