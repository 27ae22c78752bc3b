#include "services/sns/shapes.h"

#include "core/checksum.h"
#include "services/sns/errors.h"
#include "services/sns/names.h"

namespace lathe::sns {

Result<std::map<std::string, std::string>> TagsFromParams(const aws::QueryParams& params, const std::string& name) {
  Result<size_t> n = params.ListLength(name);
  if (!n.ok()) return n.status();
  std::map<std::string, std::string> tags;
  for (size_t i = 1; i <= *n; ++i) {
    const std::string member = name + ".member." + std::to_string(i);
    const std::string* key = params.Get(member + ".Key");
    const std::string* value = params.Get(member + ".Value");
    if (!key) return aws::QueryMissingParameter(member + ".Key");
    if (!value) return aws::QueryMissingParameter(member + ".Value");
    if (key->empty() || key->size() > 128)
      return aws::QueryValidationError("1 validation error detected: Value at '" + member +
                                       ".key' failed to satisfy constraint: Member must have length between 1 and 128");
    if (value->size() > 256)
      return aws::QueryValidationError("1 validation error detected: Value at '" + member +
                                       ".value' failed to satisfy constraint: Member must have length less than or equal to 256");
    if (!tags.emplace(*key, *value).second) return InvalidParameter("Tags", "Duplicate tag keys");
  }
  return tags;
}

Result<std::map<std::string, MessageAttribute>> MessageAttributesFromParams(const aws::QueryParams& params,
                                                                            const std::string& prefix) {
  const std::string name = prefix + "MessageAttributes";
  Result<size_t> n = params.ListLength(name, "entry");
  if (!n.ok()) return n.status();
  if (*n > kMaxMessageAttributes)
    return InvalidParameter("MessageAttributes", "Number of message attributes [" + std::to_string(*n) +
                                                     "] exceeds the allowed maximum [10].");
  std::map<std::string, MessageAttribute> out;
  for (size_t i = 1; i <= *n; ++i) {
    const std::string entry = name + ".entry." + std::to_string(i);
    const std::string* attr_name = params.Get(entry + ".Name");
    const std::string* type = params.Get(entry + ".Value.DataType");
    if (!attr_name) return InvalidParameter("MessageAttributes", "Message attribute name can not be null or empty");
    if (!type) return ParameterValueInvalid("The message attribute '" + attr_name->substr(0, 256) + "' must contain non-empty message attribute type.");
    const std::string* s = params.Get(entry + ".Value.StringValue");
    const std::string* b = params.Get(entry + ".Value.BinaryValue");
    MessageAttribute a;
    a.data_type = *type;
    if (type->rfind("Binary", 0) == 0) {
      if (b) {
        std::optional<std::string> bytes = Base64Decode(*b);
        if (!bytes) return ParameterValueInvalid("The message attribute '" + attr_name->substr(0, 256) + "' has an invalid binary value (not base64).");
        a.value = *bytes;
      }
    } else if (s) {
      a.value = *s;
    }
    if (!out.emplace(*attr_name, a).second)
      return InvalidParameter("MessageAttributes", "Duplicate message attribute name " + attr_name->substr(0, 256));
  }
  return out;
}

Result<PublishInput> PublishFieldsFromParams(const aws::QueryParams& params, const std::string& prefix) {
  PublishInput in;
  Result<std::string> message = params.Required(prefix + "Message");
  if (!message.ok()) return message.status();
  in.message = *message;
  if (const std::string* subject = params.Get(prefix + "Subject")) {
    if (subject->empty()) return InvalidParameter("Subject", "");
    in.subject = *subject;
  }
  if (const std::string* structure = params.Get(prefix + "MessageStructure")) {
    if (*structure != "json") return InvalidParameter("MessageStructure", "");
    in.json_structure = true;
  }
  if (params.Has(prefix + "MessageGroupId") || params.Has(prefix + "MessageDeduplicationId")) {
    // Standard topics ignore MessageGroupId except for SQS; deduplication ids are FIFO-only.
    if (params.Has(prefix + "MessageDeduplicationId"))
      return InvalidParameter("MessageDeduplicationId", "The request includes MessageDeduplicationId parameter that is not valid for this topic type");
  }
  Result<std::map<std::string, MessageAttribute>> attributes = MessageAttributesFromParams(params, prefix);
  if (!attributes.ok()) return attributes.status();
  in.attributes = std::move(*attributes);
  return in;
}

Result<std::string> PublishTargetFromParams(const aws::QueryParams& params) {
  const std::string* topic = params.Get("TopicArn");
  const std::string* target = params.Get("TargetArn");
  if (params.Has("PhoneNumber"))
    return InvalidParameter("PhoneNumber", "lathe does not send SMS (docs/compatibility.md)");
  if (topic && target) return InvalidParameter("TopicArn or TargetArn", "Only one of TopicArn or TargetArn may be given");
  if (!topic && !target) return InvalidParameter("TopicArn or TargetArn", "No endpoint found for the target arn specified");
  const std::string& arn = topic ? *topic : *target;
  if (!ParseTopicArn(arn))
    return InvalidParameter(topic ? "TopicArn" : "TargetArn",
                            target ? "lathe publishes to topics only; it has no platform endpoints" : "");
  return arn;
}

}  // namespace lathe::sns
