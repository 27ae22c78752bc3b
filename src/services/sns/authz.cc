// What IAM must allow for each SNS operation: sns:<Operation> on the topic it names (TopicArn,
// ResourceArn, the ARN CreateTopic makes, or a subscription's topic), "*" for the account-wide
// lists; tags are aws:RequestTag/<key>.
#include "aws/query_protocol.h"
#include "core/arn.h"
#include "services/sns/names.h"
#include "services/sns/service.h"

namespace lathe::sns {

aws::AccessRequest SnsAccess(const aws::OperationView& op) {
  std::string resource = op.Param("TopicArn");
  if (resource.empty()) resource = op.Param("ResourceArn");
  // A subscription acts on its topic's ARN (its own ARN is the topic's plus a uuid): "*" would
  // let Unsubscribe or SetSubscriptionAttributes escape a Deny on the topic.
  if (resource.empty())
    if (std::optional<SubscriptionArn> s = ParseSubscriptionArn(op.Param("SubscriptionArn"))) resource = s->topic.str();
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
