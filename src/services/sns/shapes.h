// SNS's wire shapes (botocore's sns/2010-03-31 model, query protocol): parameters -> typed
// inputs. Maps arrive as `Name.entry.N.key/value` (attributes) or `.Name/.Value` (message
// attributes), tags as `Tags.member.N.Key/Value`.
#pragma once

#include <map>
#include <string>

#include "aws/query_protocol.h"
#include "services/sns/backend.h"

namespace lathe::sns {

// `Tags.member.N.Key/Value` (absent: empty).
Result<std::map<std::string, std::string>> TagsFromParams(const aws::QueryParams& params, const std::string& name);
// `<prefix>MessageAttributes.entry.N.Name` + `.Value.DataType/StringValue/BinaryValue` (base64).
Result<std::map<std::string, MessageAttribute>> MessageAttributesFromParams(const aws::QueryParams& params,
                                                                            const std::string& prefix);
// Message, Subject, MessageStructure and MessageAttributes under `prefix` ("" for Publish,
// "PublishBatchRequestEntries.member.N." for a batch entry); the topic is the caller's.
Result<PublishInput> PublishFieldsFromParams(const aws::QueryParams& params, const std::string& prefix);
// Publish's destination: TopicArn or TargetArn (a topic's; lathe has no platform endpoints), never
// PhoneNumber.
Result<std::string> PublishTargetFromParams(const aws::QueryParams& params);

}  // namespace lathe::sns
