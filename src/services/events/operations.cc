// EventBridge's operation table: X-Amz-Target "AWSEvents.<Op>" -> handler. Each handler maps the
// wire (shapes.h) onto the backend and back; no semantics live here.
#include "core/arn.h"
#include "services/events/errors.h"
#include "services/events/service.h"
#include "services/events/shapes.h"

namespace lathe::events {
namespace {

using aws::RequestContext;
using nlohmann::json;

Scope ScopeOf(const RequestContext& ctx) { return Scope{ctx.caller.account, ctx.region}; }

#define EVENTS_ASSIGN(var, expr)        \
  auto var##_result = (expr);           \
  if (!var##_result.ok()) return var##_result.status(); \
  auto& var = *var##_result

class EventsService : public aws::JsonTargetService {
 public:
  EventsService(EventsBackend* backend, std::function<void()> events_put)
      : JsonTargetService(aws::Protocol::kAwsJson11, "AWSEvents"), b_(backend), events_put_(std::move(events_put)) {
    SetAccessRules(EventsAccess);
    Add("PutRule", [this](auto& c, auto& in) { return PutRule(c, in); });
    Add("DescribeRule", [this](auto& c, auto& in) { return DescribeRule(c, in); });
    Add("ListRules", [this](auto& c, auto& in) { return ListRules(c, in); });
    Add("EnableRule", [this](auto& c, auto& in) { return SetState(c, in, true); });
    Add("DisableRule", [this](auto& c, auto& in) { return SetState(c, in, false); });
    Add("DeleteRule", [this](auto& c, auto& in) { return DeleteRule(c, in); });
    Add("PutTargets", [this](auto& c, auto& in) { return PutTargets(c, in); });
    Add("RemoveTargets", [this](auto& c, auto& in) { return RemoveTargets(c, in); });
    Add("ListTargetsByRule", [this](auto& c, auto& in) { return ListTargetsByRule(c, in); });
    Add("ListRuleNamesByTarget", [this](auto& c, auto& in) { return ListRuleNamesByTarget(c, in); });
    Add("PutEvents", [this](auto& c, auto& in) { return PutEvents(c, in); });
    Add("TestEventPattern", [this](auto& c, auto& in) { return TestEventPattern(in); });
    Add("CreateEventBus", [this](auto& c, auto& in) { return CreateEventBus(c, in); });
    Add("DeleteEventBus", [this](auto& c, auto& in) { return DeleteEventBus(c, in); });
    Add("DescribeEventBus", [this](auto& c, auto& in) { return DescribeEventBus(c, in); });
    Add("ListEventBuses", [this](auto& c, auto& in) { return ListEventBuses(c, in); });
    Add("TagResource", [this](auto& c, auto& in) { return TagResource(c, in); });
    Add("UntagResource", [this](auto& c, auto& in) { return UntagResource(c, in); });
    Add("ListTagsForResource", [this](auto& c, auto& in) { return ListTagsForResource(c, in); });
  }
  std::string_view signing_name() const override { return "events"; }

 private:
  Result<json> PutRule(const RequestContext& ctx, const json& in) {
    Members m(in);
    PutRuleInput r;
    EVENTS_ASSIGN(name, m.Required("Name"));
    r.name = name;
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    r.bus = bus;
    EVENTS_ASSIGN(pattern, m.OptString("EventPattern"));
    r.event_pattern = pattern;
    EVENTS_ASSIGN(schedule, m.OptString("ScheduleExpression"));
    r.schedule_expression = schedule;
    EVENTS_ASSIGN(state, m.OptString("State"));
    r.state = state;
    EVENTS_ASSIGN(description, m.String("Description"));
    r.description = description;
    EVENTS_ASSIGN(role, m.String("RoleArn"));
    r.role_arn = role;
    EVENTS_ASSIGN(tags, m.Tags("Tags"));
    r.tags = tags;
    EVENTS_ASSIGN(arn, b_->PutRule(ScopeOf(ctx), r));
    return json{{"RuleArn", arn}};
  }

  Result<json> DescribeRule(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(name, m.Required("Name"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    EVENTS_ASSIGN(rule, b_->DescribeRule(ScopeOf(ctx), name, bus));
    json out = RuleToWire(rule);
    out["CreatedBy"] = rule.account;
    return out;
  }

  Result<json> ListRules(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(prefix, m.String("NamePrefix"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    EVENTS_ASSIGN(page, m.Paging());
    EVENTS_ASSIGN(rules, b_->ListRules(ScopeOf(ctx), bus, prefix, page));
    json out = {{"Rules", json::array()}};
    for (const Rule& r : rules.items) out["Rules"].push_back(RuleToWire(r));
    if (!rules.next_token.empty()) out["NextToken"] = rules.next_token;
    return out;
  }

  Result<json> SetState(const RequestContext& ctx, const json& in, bool enabled) {
    Members m(in);
    EVENTS_ASSIGN(name, m.Required("Name"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    Status s = enabled ? b_->EnableRule(ScopeOf(ctx), name, bus) : b_->DisableRule(ScopeOf(ctx), name, bus);
    if (!s.ok()) return s;
    return json::object();
  }

  Result<json> DeleteRule(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(name, m.Required("Name"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    if (Status s = b_->DeleteRule(ScopeOf(ctx), name, bus); !s.ok()) return s;
    return json::object();
  }

  Result<json> PutTargets(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(rule, m.Required("Rule"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    auto it = in.find("Targets");
    if (it == in.end() || it->is_null()) return Status(MustNotBeNullTargets());
    if (!it->is_array()) return Status::Aws("SerializationException", 400, "Member Targets must be a list of Target objects.");
    if (it->size() > 100)
      return ConstraintViolation("[Target...]", "targets", "Member must have length less than or equal to 100");
    std::vector<Target> targets;
    for (size_t i = 0; i < it->size(); ++i) {
      EVENTS_ASSIGN(t, TargetFromWire((*it)[i], i));
      targets.push_back(std::move(t));
    }
    EVENTS_ASSIGN(results, b_->PutTargets(ScopeOf(ctx), rule, bus, targets));
    return EntryResultsToWire(results, "FailedEntries", "TargetId", /*all_entries=*/false);
  }

  static Status MustNotBeNullTargets() {
    return ValidationError("1 validation error detected: Value null at 'targets' failed to satisfy constraint: "
                           "Member must not be null");
  }

  Result<json> RemoveTargets(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(rule, m.Required("Rule"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    EVENTS_ASSIGN(ids, m.Strings("Ids"));
    EVENTS_ASSIGN(results, b_->RemoveTargets(ScopeOf(ctx), rule, bus, ids));
    return EntryResultsToWire(results, "FailedEntries", "TargetId", /*all_entries=*/false);
  }

  Result<json> ListTargetsByRule(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(rule, m.Required("Rule"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    EVENTS_ASSIGN(page, m.Paging());
    EVENTS_ASSIGN(targets, b_->ListTargetsByRule(ScopeOf(ctx), rule, bus, page));
    json out = {{"Targets", json::array()}};
    for (const Target& t : targets.items) out["Targets"].push_back(TargetToWire(t));
    if (!targets.next_token.empty()) out["NextToken"] = targets.next_token;
    return out;
  }

  Result<json> ListRuleNamesByTarget(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(arn, m.Required("TargetArn"));
    EVENTS_ASSIGN(bus, m.String("EventBusName"));
    EVENTS_ASSIGN(page, m.Paging());
    EVENTS_ASSIGN(names, b_->ListRuleNamesByTarget(ScopeOf(ctx), arn, bus, page));
    json out = {{"RuleNames", names.items}};
    if (!names.next_token.empty()) out["NextToken"] = names.next_token;
    return out;
  }

  Result<json> PutEvents(const RequestContext& ctx, const json& in) {
    auto it = in.find("Entries");
    if (it == in.end() || it->is_null())
      return ValidationError("1 validation error detected: Value null at 'entries' failed to satisfy constraint: "
                             "Member must not be null");
    if (!it->is_array())
      return Status::Aws("SerializationException", 400, "Member Entries must be a list of PutEventsRequestEntry objects.");
    if (it->size() > kMaxPutEventsEntries)
      return ConstraintViolation("[PutEventsRequestEntry...]", "entries",
                                 "Member must have length less than or equal to 10");
    std::vector<PutEventsEntry> entries;
    for (size_t i = 0; i < it->size(); ++i) {
      EVENTS_ASSIGN(e, EntryFromWire((*it)[i], i));
      entries.push_back(std::move(e));
    }
    EVENTS_ASSIGN(results, b_->PutEvents(ScopeOf(ctx), entries, NowMillis()));
    if (events_put_) events_put_();
    return EntryResultsToWire(results, "Entries", "EventId", /*all_entries=*/true);
  }

  Result<json> TestEventPattern(const json& in) {
    Members m(in);
    EVENTS_ASSIGN(pattern, m.Required("EventPattern"));
    EVENTS_ASSIGN(event, m.Required("Event"));
    EVENTS_ASSIGN(result, b_->TestEventPattern(pattern, event));
    return json{{"Result", result}};
  }

  Result<json> CreateEventBus(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(name, m.Required("Name"));
    EVENTS_ASSIGN(source, m.String("EventSourceName"));
    if (!source.empty())
      return ValidationError("Partner event sources (EventSourceName) are not served by lathe.");
    EVENTS_ASSIGN(description, m.String("Description"));
    EVENTS_ASSIGN(tags, m.Tags("Tags"));
    EVENTS_ASSIGN(bus, b_->CreateEventBus(ScopeOf(ctx), name, description, tags));
    json out = {{"EventBusArn", bus.arn}};
    if (!bus.description.empty()) out["Description"] = bus.description;
    return out;
  }

  Result<json> DeleteEventBus(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(name, m.Required("Name"));
    if (Status s = b_->DeleteEventBus(ScopeOf(ctx), name); !s.ok()) return s;
    return json::object();
  }

  Result<json> DescribeEventBus(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(name, m.String("Name"));
    EVENTS_ASSIGN(bus, b_->DescribeEventBus(ScopeOf(ctx), name));
    return BusToWire(bus, /*times=*/true);
  }

  Result<json> ListEventBuses(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(prefix, m.String("NamePrefix"));
    EVENTS_ASSIGN(page, m.Paging());
    EVENTS_ASSIGN(buses, b_->ListEventBuses(ScopeOf(ctx), prefix, page));
    json out = {{"EventBuses", json::array()}};
    for (const EventBus& bus : buses.items) out["EventBuses"].push_back(BusToWire(bus, /*times=*/true));
    if (!buses.next_token.empty()) out["NextToken"] = buses.next_token;
    return out;
  }

  Result<json> TagResource(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(arn, m.Required("ResourceARN"));
    if (!in.contains("Tags"))
      return ValidationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
                             "Member must not be null");
    EVENTS_ASSIGN(tags, m.Tags("Tags"));
    if (Status s = b_->TagResource(ScopeOf(ctx), arn, tags); !s.ok()) return s;
    return json::object();
  }

  Result<json> UntagResource(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(arn, m.Required("ResourceARN"));
    EVENTS_ASSIGN(keys, m.Strings("TagKeys"));
    if (keys.size() > kMaxTagsPerResource)
      return ValidationError("At most " + std::to_string(kMaxTagsPerResource) + " tag keys may be removed at once.");
    if (Status s = b_->UntagResource(ScopeOf(ctx), arn, keys); !s.ok()) return s;
    return json::object();
  }

  Result<json> ListTagsForResource(const RequestContext& ctx, const json& in) {
    Members m(in);
    EVENTS_ASSIGN(arn, m.Required("ResourceARN"));
    EVENTS_ASSIGN(tags, b_->ListTagsForResource(ScopeOf(ctx), arn));
    json out = {{"Tags", json::array()}};
    for (const Tag& t : tags) out["Tags"].push_back({{"Key", t.key}, {"Value", t.value}});
    return out;
  }

  EventsBackend* b_;
  std::function<void()> events_put_;
};

}  // namespace

std::unique_ptr<aws::JsonTargetService> NewEventsService(EventsBackend* backend, std::function<void()> events_put) {
  return std::make_unique<EventsService>(backend, std::move(events_put));
}

}  // namespace lathe::events
