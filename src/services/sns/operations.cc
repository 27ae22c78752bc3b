// SNS's operation table: Action -> handler. Each handler maps the wire (shapes.h) onto the
// backend and back; no semantics live here.
#include <set>

#include "aws/xml.h"
#include "services/sns/errors.h"
#include "services/sns/names.h"
#include "services/sns/service.h"
#include "services/sns/shapes.h"

namespace lathe::sns {
namespace {

using aws::AppendTextElement;
using aws::QueryParams;
using aws::RequestContext;

constexpr size_t kMaxBatchEntries = 10;
constexpr size_t kMaxBatchIdLength = 80;

Scope ScopeOf(const RequestContext& ctx) { return Scope{ctx.caller.account, ctx.region}; }

void WriteMap(pugi::xml_node parent, const char* name, const std::map<std::string, std::string>& m) {
  pugi::xml_node node = parent.append_child(name);
  for (const auto& [k, v] : m) {
    pugi::xml_node entry = node.append_child("entry");
    AppendTextElement(entry, "key", k);
    AppendTextElement(entry, "value", v);
  }
}

void WriteSubscription(pugi::xml_node list, const Subscription& s) {
  pugi::xml_node m = list.append_child("member");
  AppendTextElement(m, "SubscriptionArn", s.confirmed ? s.arn : "PendingConfirmation");
  AppendTextElement(m, "Owner", s.account);
  AppendTextElement(m, "Protocol", s.protocol);
  AppendTextElement(m, "Endpoint", s.endpoint);
  AppendTextElement(m, "TopicArn", s.topic_arn);
}

bool IsValidBatchId(const std::string& id) {
  if (id.empty() || id.size() > kMaxBatchIdLength) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

// The parameter `name`, bounded in length (ARNs and names), or the model's ValidationError.
Result<std::string> RequiredArn(const QueryParams& params, const char* name) {
  Result<std::string> v = params.Required(name);
  if (!v.ok()) return v.status();
  if (v->size() > kMaxArnLength) return InvalidParameter(name, "");
  return v;
}

class SnsService : public aws::QueryService {
 public:
  SnsService(SnsBackend* backend, const SigningKey* key)
      : QueryService("sns", "2010-03-31", std::string(aws::QueryXmlNamespace("sns"))), sns_(backend), key_(key) {
    SetAccessRules(SnsAccess);
    Register("CreateTopic", [this](auto& c, auto& p, auto r) { return CreateTopic(c, p, r); });
    Register("DeleteTopic", [this](auto& c, auto& p, auto r) { return DeleteTopic(c, p); }, false);
    Register("ListTopics", [this](auto& c, auto& p, auto r) { return ListTopics(c, p, r); });
    Register("GetTopicAttributes", [this](auto& c, auto& p, auto r) { return GetTopicAttributes(p, r); });
    Register("SetTopicAttributes", [this](auto& c, auto& p, auto r) { return SetTopicAttributes(p); }, false);
    Register("Subscribe", [this](auto& c, auto& p, auto r) { return Subscribe(p, r); });
    Register("ConfirmSubscription", [this](auto& c, auto& p, auto r) { return ConfirmSubscription(p, r); });
    Register("Unsubscribe", [this](auto& c, auto& p, auto r) { return Unsubscribe(p); }, false);
    Register("GetSubscriptionAttributes", [this](auto& c, auto& p, auto r) { return GetSubscriptionAttributes(p, r); });
    Register("SetSubscriptionAttributes", [this](auto& c, auto& p, auto r) { return SetSubscriptionAttributes(p); },
             false);
    Register("ListSubscriptions", [this](auto& c, auto& p, auto r) { return ListSubscriptions(c, p, r, false); });
    Register("ListSubscriptionsByTopic",
             [this](auto& c, auto& p, auto r) { return ListSubscriptions(c, p, r, true); });
    Register("Publish", [this](auto& c, auto& p, auto r) { return Publish(p, r); });
    Register("PublishBatch", [this](auto& c, auto& p, auto r) { return PublishBatch(p, r); });
    Register("TagResource", [this](auto& c, auto& p, auto r) { return TagResource(p); });
    Register("UntagResource", [this](auto& c, auto& p, auto r) { return UntagResource(p); });
    Register("ListTagsForResource", [this](auto& c, auto& p, auto r) { return ListTagsForResource(p, r); });
  }

  // The SubscribeURL / UnsubscribeURL (GET, query string only, no body) and the certificate.
  bool ServesUnsigned(const http::Request& request) const override {
    if (request.method != "GET") return false;
    if (request.body && request.body->declared_length() != 0) return false;
    if (request.path() == "/" + key_->certificate_file_name()) return request.query().empty();
    if (request.path() != "/") return false;
    Result<QueryParams> p = QueryParams::Parse({}, request.query());
    if (!p.ok()) return false;
    std::set<std::string> names;
    for (const auto& [k, v] : p->all()) names.insert(k);
    if (p->action() == "ConfirmSubscription")
      return names == std::set<std::string>{"Action", "TopicArn", "Token"} ||
             names == std::set<std::string>{"Action", "TopicArn", "Token", "Version"};
    if (p->action() == "Unsubscribe")
      return names == std::set<std::string>{"Action", "SubscriptionArn"} ||
             names == std::set<std::string>{"Action", "SubscriptionArn", "Version"};
    return false;
  }

  bool Claims(const http::Request& request, std::string_view body) const override {
    return ServesUnsigned(request);
  }

  void Serve(const RequestContext& context, const http::Request& request, std::string_view body,
             http::Response& response) override {
    if (request.method == "GET" && request.path() == "/" + key_->certificate_file_name()) {
      response.status = 200;
      response.body = key_->certificate_pem();
      response.set_header("Content-Type", "application/x-pem-file");
      return;
    }
    QueryService::Serve(context, request, body, response);
  }

  // SNS refuses with AuthorizationError (botocore's sns model), not AccessDenied.
  std::string_view AccessDeniedCode() const override { return "AuthorizationError"; }

 private:
  Status CreateTopic(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    Result<std::string> name = params.Required("Name");
    if (!name.ok()) return name.status();
    Result<std::map<std::string, std::string>> attributes = params.Map("Attributes");
    if (!attributes.ok()) return attributes.status();
    if (const std::string* dpp = params.Get("DataProtectionPolicy")) (*attributes)["DataProtectionPolicy"] = *dpp;
    Result<std::map<std::string, std::string>> tags = TagsFromParams(params, "Tags");
    if (!tags.ok()) return tags.status();
    Result<Topic> topic = sns_->CreateTopic(ScopeOf(ctx), *name, *attributes, *tags);
    if (!topic.ok()) return topic.status();
    AppendTextElement(result, "TopicArn", topic->arn);
    return Status::Ok();
  }

  Status DeleteTopic(const RequestContext& ctx, const QueryParams& params) {
    Result<std::string> arn = RequiredArn(params, "TopicArn");
    if (!arn.ok()) return arn.status();
    return sns_->DeleteTopic(ScopeOf(ctx), *arn);
  }

  Status ListTopics(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    const std::string* token = params.Get("NextToken");
    Result<Page<std::string>> page = sns_->ListTopics(ScopeOf(ctx), token ? *token : "");
    if (!page.ok()) return page.status();
    pugi::xml_node topics = result.append_child("Topics");
    for (const std::string& arn : page->items) AppendTextElement(topics.append_child("member"), "TopicArn", arn);
    if (!page->next_token.empty()) AppendTextElement(result, "NextToken", page->next_token);
    return Status::Ok();
  }

  Status GetTopicAttributes(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = RequiredArn(params, "TopicArn");
    if (!arn.ok()) return arn.status();
    Result<std::map<std::string, std::string>> attributes = sns_->GetTopicAttributes(*arn);
    if (!attributes.ok()) return attributes.status();
    WriteMap(result, "Attributes", *attributes);
    return Status::Ok();
  }

  Status SetTopicAttributes(const QueryParams& params) {
    Result<std::string> arn = RequiredArn(params, "TopicArn");
    if (!arn.ok()) return arn.status();
    Result<std::string> name = params.Required("AttributeName");
    if (!name.ok()) return name.status();
    const std::string* value = params.Get("AttributeValue");
    return sns_->SetTopicAttribute(*arn, *name, value ? *value : "");
  }

  Status Subscribe(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = RequiredArn(params, "TopicArn");
    if (!arn.ok()) return arn.status();
    Result<std::string> protocol = params.Required("Protocol");
    if (!protocol.ok()) return protocol.status();
    const std::string* endpoint = params.Get("Endpoint");
    if (!endpoint || endpoint->empty()) return InvalidParameter("Endpoint", "");
    if (endpoint->size() > kMaxEndpointLength) return InvalidParameter("Endpoint", "longer than 2048 characters");
    Result<std::map<std::string, std::string>> attributes = params.Map("Attributes");
    if (!attributes.ok()) return attributes.status();
    Result<std::optional<bool>> return_arn = params.Bool("ReturnSubscriptionArn");
    if (!return_arn.ok()) return return_arn.status();
    Result<Subscription> sub = sns_->Subscribe(*arn, *protocol, *endpoint, *attributes);
    if (!sub.ok()) return sub.status();
    AppendTextElement(result, "SubscriptionArn",
                      sub->confirmed || return_arn->value_or(false) ? sub->arn : "pending confirmation");
    return Status::Ok();
  }

  Status ConfirmSubscription(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = RequiredArn(params, "TopicArn");
    if (!arn.ok()) return arn.status();
    Result<std::string> token = params.Required("Token");
    if (!token.ok()) return token.status();
    Result<Subscription> sub = sns_->ConfirmSubscription(*arn, *token);
    if (!sub.ok()) return sub.status();
    AppendTextElement(result, "SubscriptionArn", sub->arn);
    return Status::Ok();
  }

  Status Unsubscribe(const QueryParams& params) {
    Result<std::string> arn = RequiredArn(params, "SubscriptionArn");
    if (!arn.ok()) return arn.status();
    return sns_->Unsubscribe(*arn);
  }

  Status GetSubscriptionAttributes(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = RequiredArn(params, "SubscriptionArn");
    if (!arn.ok()) return arn.status();
    Result<std::map<std::string, std::string>> attributes = sns_->GetSubscriptionAttributes(*arn);
    if (!attributes.ok()) return attributes.status();
    WriteMap(result, "Attributes", *attributes);
    return Status::Ok();
  }

  Status SetSubscriptionAttributes(const QueryParams& params) {
    Result<std::string> arn = RequiredArn(params, "SubscriptionArn");
    if (!arn.ok()) return arn.status();
    Result<std::string> name = params.Required("AttributeName");
    if (!name.ok()) return name.status();
    const std::string* value = params.Get("AttributeValue");
    return sns_->SetSubscriptionAttribute(*arn, *name, value ? *value : "");
  }

  Status ListSubscriptions(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result,
                           bool by_topic) {
    std::string topic;
    if (by_topic) {
      Result<std::string> arn = RequiredArn(params, "TopicArn");
      if (!arn.ok()) return arn.status();
      topic = *arn;
    }
    const std::string* token = params.Get("NextToken");
    Result<Page<Subscription>> page = sns_->ListSubscriptions(ScopeOf(ctx), topic, token ? *token : "");
    if (!page.ok()) return page.status();
    pugi::xml_node list = result.append_child("Subscriptions");
    for (const Subscription& s : page->items) WriteSubscription(list, s);
    if (!page->next_token.empty()) AppendTextElement(result, "NextToken", page->next_token);
    return Status::Ok();
  }

  Status Publish(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = PublishTargetFromParams(params);
    if (!arn.ok()) return arn.status();
    Result<PublishInput> in = PublishFieldsFromParams(params, "");
    if (!in.ok()) return in.status();
    in->topic_arn = *arn;
    Result<std::string> id = sns_->Publish(*in);
    if (!id.ok()) return id.status();
    AppendTextElement(result, "MessageId", *id);
    return Status::Ok();
  }

  Status PublishBatch(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = RequiredArn(params, "TopicArn");
    if (!arn.ok()) return arn.status();
    Result<size_t> n = params.ListLength("PublishBatchRequestEntries");
    if (!n.ok()) return n.status();
    if (*n == 0) return EmptyBatchRequest("The batch request doesn't contain any entries.");
    if (*n > kMaxBatchEntries)
      return TooManyEntriesInBatchRequest("The batch request contains more entries than permissible.");
    std::set<std::string> ids;
    size_t total = 0;
    for (size_t i = 1; i <= *n; ++i) {
      const std::string prefix = "PublishBatchRequestEntries.member." + std::to_string(i) + ".";
      const std::string* id = params.Get(prefix + "Id");
      if (!id) return aws::QueryMissingParameter(prefix + "Id");
      if (!IsValidBatchId(*id))
        return InvalidBatchEntryId("The Id of a batch entry in a batch request doesn't abide by the specification.");
      if (!ids.insert(*id).second)
        return BatchEntryIdsNotDistinct("Two or more batch entries in the request have the same Id.");
      if (const std::string* m = params.Get(prefix + "Message")) total += m->size();
    }
    if (total > kMaxMessageBytes)
      return BatchRequestTooLong("The length of all the messages put together is more than the limit.");
    if (!sns_->TopicExists(*arn)) {
      if (!ParseTopicArn(*arn)) return InvalidParameter("TopicArn", "");
      return NotFound("Topic does not exist");
    }
    pugi::xml_node successful = result.append_child("Successful");
    pugi::xml_node failed = result.append_child("Failed");
    for (size_t i = 1; i <= *n; ++i) {
      const std::string prefix = "PublishBatchRequestEntries.member." + std::to_string(i) + ".";
      const std::string id = *params.Get(prefix + "Id");
      Result<PublishInput> in = PublishFieldsFromParams(params, prefix);
      Result<std::string> message_id = in.ok() ? [&] {
        in->topic_arn = *arn;
        return sns_->Publish(*in);
      }() : Result<std::string>(in.status());
      if (message_id.ok()) {
        pugi::xml_node m = successful.append_child("member");
        AppendTextElement(m, "Id", id);
        AppendTextElement(m, "MessageId", *message_id);
      } else {
        const Status& s = message_id.status();
        pugi::xml_node m = failed.append_child("member");
        AppendTextElement(m, "Id", id);
        AppendTextElement(m, "Code", s.aws_code().empty() ? "InternalError" : s.aws_code());
        AppendTextElement(m, "Message", s.message());
        AppendTextElement(m, "SenderFault", s.http_status() >= 500 || s.aws_code().empty() ? "false" : "true");
      }
    }
    return Status::Ok();
  }

  Status TagResource(const QueryParams& params) {
    Result<std::string> arn = RequiredArn(params, "ResourceArn");
    if (!arn.ok()) return arn.status();
    if (!params.Has("Tags.member.1") && !params.Has("Tags.member.1.Key") && !params.Has("Tags"))
      return aws::QueryMissingParameter("Tags");
    Result<std::map<std::string, std::string>> tags = TagsFromParams(params, "Tags");
    if (!tags.ok()) return tags.status();
    return sns_->TagResource(*arn, *tags);
  }

  Status UntagResource(const QueryParams& params) {
    Result<std::string> arn = RequiredArn(params, "ResourceArn");
    if (!arn.ok()) return arn.status();
    if (!params.Has("TagKeys.member.1") && !params.Has("TagKeys")) return aws::QueryMissingParameter("TagKeys");
    Result<std::vector<std::string>> keys = params.List("TagKeys");
    if (!keys.ok()) return keys.status();
    return sns_->UntagResource(*arn, *keys);
  }

  Status ListTagsForResource(const QueryParams& params, pugi::xml_node result) {
    Result<std::string> arn = RequiredArn(params, "ResourceArn");
    if (!arn.ok()) return arn.status();
    Result<std::map<std::string, std::string>> tags = sns_->ListTags(*arn);
    if (!tags.ok()) return tags.status();
    pugi::xml_node list = result.append_child("Tags");
    for (const auto& [k, v] : *tags) {
      pugi::xml_node m = list.append_child("member");
      AppendTextElement(m, "Key", k);
      AppendTextElement(m, "Value", v);
    }
    return Status::Ok();
  }

  SnsBackend* sns_;
  const SigningKey* key_;
};

}  // namespace

std::unique_ptr<aws::QueryService> NewSnsService(SnsBackend* backend, const SigningKey* key) {
  return std::make_unique<SnsService>(backend, key);
}

}  // namespace lathe::sns
