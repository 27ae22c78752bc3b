// What IAM must allow for each SNS operation: sns:<Operation> on the topic it names (TopicArn,
// ResourceArn, or the ARN CreateTopic makes), "*" for the account-wide lists and for operations on
// a subscription (whose topic is not in the request); tags are aws:RequestTag/<key>.
#include "aws/query_protocol.h"
#include "core/arn.h"
#include "services/sns/service.h"

namespace lathe::sns {

aws::AccessRequest SnsAccess(const aws::OperationView& op) {
  std::string resource = op.Param("TopicArn");
  if (resource.empty()) resource = op.Param("ResourceArn");
  if (op.operation == "CreateTopic" && !op.Param("Name").empty())
    resource = MakeArn("sns", op.context->region, op.context->caller.account, op.Param("Name"));
  aws::AccessContext context;
  if (op.params) {
    std::vector<std::pair<std::string, std::string>> tags;
    for (size_t i = 1; i <= 50; ++i) {
      const std::string at = "Tags.member." + std::to_string(i);
      const std::string key = op.Param(at + ".Key");
      if (key.empty()) break;
      tags.emplace_back(key, op.Param(at + ".Value"));
    }
    aws::AddRequestTags(tags, &context);
  }
  return aws::Require("sns:" + std::string(op.operation), {resource.empty() ? "*" : resource}, std::move(context));
}

}  // namespace lathe::sns
