#include "services/events/backend.h"

#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/json_nesting.h"
#include "core/page_token.h"
#include "services/events/errors.h"
#include "services/events/input_transform.h"
#include "services/events/names.h"
#include "services/events/rule_doc.h"

namespace lathe::events {
namespace {

using json = nlohmann::json;

constexpr const char* kStates[] = {"ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"};

Status RuleNotFound(const std::string& name, const std::string& bus) {
  return ResourceNotFound("Rule " + Quoted(name) + " does not exist on EventBus " + Quoted(bus) + ".");
}
Status BusNotFound(const std::string& name) { return ResourceNotFound("Event bus " + Quoted(name) + " does not exist."); }

// "arn:<partition>:<service>:<region>:<account>:<resource>" with a non-empty service and resource.
bool LooksLikeArn(const std::string& s) {
  if (s.compare(0, 4, "arn:") != 0) return false;
  size_t colons = 0, last = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == ':' && ++colons == 5) last = i;
  return colons >= 5 && last + 1 < s.size();
}

Status CheckTags(const std::vector<Tag>& tags) {
  if (tags.size() > kMaxTagsPerResource)
    return ValidationError("A resource may have at most " + std::to_string(kMaxTagsPerResource) + " tags.");
  for (const Tag& t : tags) {
    LATHE_RETURN_IF_ERROR(CheckLength(t.key, "tags.member.key", 1, 128));
    LATHE_RETURN_IF_ERROR(CheckLength(t.value, "tags.member.value", 0, 256));
  }
  return Status::Ok();
}

// Paging over names sorted ascending: the token holds the last name returned.
Result<std::string> StartAfter(const std::string& list, const PageRequest& page) {
  if (page.next_token.empty()) return std::string();
  if (page.next_token.size() > 2048) return CheckLength(page.next_token, "nextToken", 1, 2048);
  std::optional<std::string> pos = DecodePageToken(list, page.next_token);
  if (!pos) return ValidationError("The NextToken is not one this list returned.");
  return *pos;
}

Status CheckLimit(const PageRequest& page) {
  if (page.limit < 1 || page.limit > 100)
    return ConstraintViolation(std::to_string(page.limit), "limit", "Member must have value between 1 and 100");
  return Status::Ok();
}

// Names from `sorted` after `after` that start with `prefix`, one page of them.
template <typename T, typename NameOf>
Page<T> PageOf(std::vector<T> sorted, NameOf name_of, const std::string& prefix, const std::string& after,
               size_t limit, const std::string& list) {
  Page<T> page;
  for (T& item : sorted) {
    const std::string& name = name_of(item);
    if (!after.empty() && name <= after) continue;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (page.items.size() == limit) {
      page.next_token = EncodePageToken(list, name_of(page.items.back()));
      break;
    }
    page.items.push_back(std::move(item));
  }
  return page;
}

EventBus DefaultBus(const Scope& scope) {
  EventBus b;
  b.name = kDefaultBus;
  b.arn = BusArn(scope.region, scope.account, kDefaultBus);
  return b;
}

EventBus BusFromRow(const store::ResourceRow& row) {
  EventBus b;
  b.name = row.doc.value("name", "");
  b.arn = row.arn;
  b.description = row.doc.value("description", "");
  b.created_ms = row.created_ms;
  b.modified_ms = row.doc.value("modifiedMs", row.created_ms);
  return b;
}

}  // namespace

std::string RuleArn(const std::string& region, const std::string& account, const std::string& bus,
                    const std::string& name) {
  return MakeArn("events", region, account, bus == kDefaultBus ? "rule/" + name : "rule/" + bus + "/" + name);
}

std::string BusArn(const std::string& region, const std::string& account, const std::string& bus) {
  return MakeArn("events", region, account, "event-bus/" + bus);
}

Result<EventPattern> EventsBackend::ParsePattern(const std::string& pattern_json) const {
  if (pattern_json.size() > kMaxEventPatternBytes)
    return CheckLength(pattern_json, "eventPattern", 0, kMaxEventPatternBytes);
  std::vector<std::string> warnings;
  Result<EventPattern> pattern = EventPattern::Parse(pattern_json, options_, &warnings);
  for (const std::string& w : warnings) spdlog::warn("EventBridge pattern accepted with a divergence from AWS: {}", w);
  return pattern;
}

Result<std::string> EventsBackend::ResolveBus(const Scope& scope, const std::string& name_or_arn) {
  if (name_or_arn.empty()) return std::string(kDefaultBus);
  LATHE_RETURN_IF_ERROR(CheckLength(name_or_arn, "eventBusName", 1, 1600));
  std::string name = name_or_arn;
  if (name_or_arn.compare(0, 4, "arn:") == 0) {
    const std::string prefix = BusArn(scope.region, scope.account, "");
    if (name_or_arn.compare(0, prefix.size(), prefix) != 0 || name_or_arn.size() == prefix.size())
      return BusNotFound(name_or_arn);
    name = name_or_arn.substr(prefix.size());
  }
  LATHE_RETURN_IF_ERROR(CheckBusName(name, "eventBusName"));
  if (name == kDefaultBus) return name;
  Result<store::ResourceRow> row = store_->Find(kBusKind, BusArn(scope.region, scope.account, name));
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? BusNotFound(name) : row.status();
  return name;
}

// ---- buses ----

Result<EventBus> EventsBackend::CreateEventBus(const Scope& scope, const std::string& name,
                                               const std::string& description, const std::vector<Tag>& tags) {
  LATHE_RETURN_IF_ERROR(CheckBusName(name, "name"));
  LATHE_RETURN_IF_ERROR(CheckLength(description, "description", 0, 512));
  LATHE_RETURN_IF_ERROR(CheckTags(tags));
  if (name == kDefaultBus) return ResourceAlreadyExists("Event bus default already exists.");
  std::lock_guard<std::mutex> lock(mu_);
  store::MetadataStore::ListFilter filter;
  filter.doc_equals = {{"account", scope.account}, {"region", scope.region}};
  Result<std::vector<store::ResourceRow>> existing = store_->List(kBusKind, filter);
  if (!existing.ok()) return existing.status();
  if (existing->size() + 1 >= kMaxBusesPerAccount)
    return LimitExceeded("The requested resource exceeds the maximum number allowed.");
  store::ResourceRow row;
  row.kind = kBusKind;
  row.id = row.name = row.arn = BusArn(scope.region, scope.account, name);
  row.status = "ACTIVE";
  row.created_ms = NowMillis();
  row.doc = {{"account", scope.account}, {"region", scope.region}, {"name", name}, {"description", description},
             {"modifiedMs", row.created_ms}};
  Status s = store_->Insert(row);
  if (s.code() == Status::Code::kAlreadyExists) return ResourceAlreadyExists("Event bus " + name + " already exists.");
  LATHE_RETURN_IF_ERROR(s);
  std::map<std::string, std::string> tag_map;
  for (const Tag& t : tags) tag_map[t.key] = t.value;
  if (!tag_map.empty()) LATHE_RETURN_IF_ERROR(store_->SetTags(row.arn, tag_map));
  return BusFromRow(row);
}

Status EventsBackend::DeleteEventBus(const Scope& scope, const std::string& name) {
  LATHE_RETURN_IF_ERROR(CheckBusName(name, "name"));
  if (name == kDefaultBus) return ValidationError("Cannot delete event bus default.");
  std::lock_guard<std::mutex> lock(mu_);
  const std::string arn = BusArn(scope.region, scope.account, name);
  Result<store::ResourceRow> row = store_->Find(kBusKind, arn);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? Status::Ok() : row.status();
  // Its rules go with it: nothing could reach them any more.
  Result<std::vector<Rule>> rules = RulesOfBus(scope, name);
  if (!rules.ok()) return rules.status();
  store::WriteBatch batch;
  for (const Rule& r : *rules) batch.deletes.emplace_back(kRuleKind, r.arn);
  batch.deletes.emplace_back(kBusKind, arn);
  LATHE_RETURN_IF_ERROR(store_->Write(batch));
  std::vector<std::string> arns = {arn};
  for (const Rule& r : *rules) arns.push_back(r.arn);
  for (const std::string& a : arns) {
    Result<std::map<std::string, std::string>> tags = store_->Tags(a);
    if (tags.ok() && !tags->empty()) {
      std::vector<std::string> keys;
      for (const auto& kv : *tags) keys.push_back(kv.first);
      (void)store_->RemoveTags(a, keys);
    }
  }
  RulesChanged();
  return Status::Ok();
}

Result<EventBus> EventsBackend::DescribeEventBus(const Scope& scope, const std::string& name_or_arn) {
  Result<std::string> name = ResolveBus(scope, name_or_arn);
  if (!name.ok()) return name.status();
  if (*name == kDefaultBus) return DefaultBus(scope);
  Result<store::ResourceRow> row = store_->Find(kBusKind, BusArn(scope.region, scope.account, *name));
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? BusNotFound(*name) : row.status();
  return BusFromRow(*row);
}

Result<Page<EventBus>> EventsBackend::ListEventBuses(const Scope& scope, const std::string& name_prefix,
                                                     const PageRequest& page) {
  LATHE_RETURN_IF_ERROR(CheckLength(name_prefix, "namePrefix", 0, 256));
  LATHE_RETURN_IF_ERROR(CheckLimit(page));
  Result<std::string> after = StartAfter("events:buses", page);
  if (!after.ok()) return after.status();
  store::MetadataStore::ListFilter filter;
  filter.doc_equals = {{"account", scope.account}, {"region", scope.region}};
  Result<std::vector<store::ResourceRow>> rows = store_->List(kBusKind, filter);
  if (!rows.ok()) return rows.status();
  std::vector<EventBus> buses = {DefaultBus(scope)};
  for (const auto& row : *rows) buses.push_back(BusFromRow(row));
  std::sort(buses.begin(), buses.end(), [](const EventBus& a, const EventBus& b) { return a.name < b.name; });
  return PageOf(std::move(buses), [](const EventBus& b) -> const std::string& { return b.name; }, name_prefix,
                *after, page.limit, "events:buses");
}

// ---- rules ----

Result<Rule> EventsBackend::ReadRule(const Scope& scope, const std::string& name, const std::string& bus) {
  Result<store::ResourceRow> row = store_->Find(kRuleKind, RuleArn(scope.region, scope.account, bus, name));
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? RuleNotFound(name, bus) : row.status();
  Rule rule = RuleFromDoc(row->doc);
  rule.created_ms = row->created_ms;
  return rule;
}

Status EventsBackend::SaveRule(const Rule& rule, bool create) {
  store::ResourceRow row;
  row.kind = kRuleKind;
  row.id = row.name = row.arn = rule.arn;
  row.status = rule.state;
  row.created_ms = rule.created_ms;
  row.doc = RuleToDoc(rule);
  Status s = create ? store_->Insert(row) : store_->Update(row);
  if (s.code() == Status::Code::kAlreadyExists || s.code() == Status::Code::kNotFound)
    return ConcurrentModification("Rule " + rule.name + " was changed by another request; try again.");
  if (s.ok()) RulesChanged();
  return s;
}

Result<std::vector<Rule>> EventsBackend::RulesOfBus(const Scope& scope, const std::string& bus) {
  store::MetadataStore::ListFilter filter;
  filter.doc_equals = {{"account", scope.account}, {"region", scope.region}, {"bus", bus}};
  Result<std::vector<store::ResourceRow>> rows = store_->List(kRuleKind, filter);
  if (!rows.ok()) return rows.status();
  std::vector<Rule> rules;
  for (const auto& row : *rows) {
    rules.push_back(RuleFromDoc(row.doc));
    rules.back().created_ms = row.created_ms;
  }
  std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.name < b.name; });
  return rules;
}

Result<std::string> EventsBackend::PutRule(const Scope& scope, const PutRuleInput& in) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(in.name, "name"));
  if (in.event_pattern) LATHE_RETURN_IF_ERROR(CheckLength(*in.event_pattern, "eventPattern", 0, kMaxEventPatternBytes));
  if (in.schedule_expression)
    LATHE_RETURN_IF_ERROR(CheckLength(*in.schedule_expression, "scheduleExpression", 0, kMaxScheduleExpressionBytes));
  LATHE_RETURN_IF_ERROR(CheckLength(in.description, "description", 0, 512));
  LATHE_RETURN_IF_ERROR(CheckLength(in.role_arn, "roleArn", 0, 1600));
  LATHE_RETURN_IF_ERROR(CheckTags(in.tags));
  if (in.state && std::find(std::begin(kStates), std::end(kStates), *in.state) == std::end(kStates))
    return ConstraintViolation(Quoted(*in.state), "state",
                               "Member must satisfy enum value set: [ENABLED, DISABLED, "
                               "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]");
  const bool has_pattern = in.event_pattern && !in.event_pattern->empty();
  const bool has_schedule = in.schedule_expression && !in.schedule_expression->empty();
  if (!has_pattern && !has_schedule)
    return ValidationError("Parameter(s) EventPattern or ScheduleExpression must be specified.");
  Result<std::string> bus = ResolveBus(scope, in.bus);
  if (!bus.ok()) return bus.status();
  if (has_pattern) {
    Result<EventPattern> pattern = ParsePattern(*in.event_pattern);
    if (!pattern.ok()) return pattern.status();
  }
  if (has_schedule) {
    if (*bus != kDefaultBus) return ValidationError("ScheduleExpression is supported only on the default event bus.");
    Result<Schedule> schedule = Schedule::Parse(*in.schedule_expression);
    if (!schedule.ok()) return schedule.status();
  }

  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMillis();
  Result<Rule> existing = ReadRule(scope, in.name, *bus);
  const bool create = !existing.ok();
  if (create && existing.status().code() != Status::Code::kNotFound) return existing.status();
  Rule rule;
  if (create) {
    Result<std::vector<Rule>> siblings = RulesOfBus(scope, *bus);
    if (!siblings.ok()) return siblings.status();
    if (siblings->size() >= kMaxRulesPerBus)
      return LimitExceeded("The requested resource exceeds the maximum number allowed.");
    rule.account = scope.account;
    rule.region = scope.region;
    rule.bus = *bus;
    rule.name = in.name;
    rule.arn = RuleArn(scope.region, scope.account, *bus, in.name);
    rule.created_ms = now;
    rule.schedule_anchor_ms = now;
  } else {
    rule = *existing;
  }
  const std::string old_schedule = rule.schedule_expression;
  const bool was_enabled = rule.enabled();
  rule.event_pattern = has_pattern ? *in.event_pattern : "";
  rule.schedule_expression = has_schedule ? *in.schedule_expression : "";
  rule.state = in.state ? *in.state : "ENABLED";
  rule.description = in.description;
  rule.role_arn = in.role_arn;
  if (!create && (rule.schedule_expression != old_schedule || (rule.enabled() && !was_enabled)))
    rule.schedule_anchor_ms = now;
  LATHE_RETURN_IF_ERROR(SaveRule(rule, create));
  if (create && !in.tags.empty()) {
    std::map<std::string, std::string> tags;
    for (const Tag& t : in.tags) tags[t.key] = t.value;
    LATHE_RETURN_IF_ERROR(store_->SetTags(rule.arn, tags));
  }
  return rule.arn;
}

Result<Rule> EventsBackend::DescribeRule(const Scope& scope, const std::string& name, const std::string& bus) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(name, "name"));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  return ReadRule(scope, name, *b);
}

Result<Page<Rule>> EventsBackend::ListRules(const Scope& scope, const std::string& bus, const std::string& name_prefix,
                                            const PageRequest& page) {
  if (!name_prefix.empty()) LATHE_RETURN_IF_ERROR(CheckRuleName(name_prefix, "namePrefix"));
  LATHE_RETURN_IF_ERROR(CheckLimit(page));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  Result<std::string> after = StartAfter("events:rules", page);
  if (!after.ok()) return after.status();
  Result<std::vector<Rule>> rules = RulesOfBus(scope, *b);
  if (!rules.ok()) return rules.status();
  return PageOf(std::move(*rules), [](const Rule& r) -> const std::string& { return r.name; }, name_prefix, *after,
                page.limit, "events:rules");
}

Status EventsBackend::SetState(const Scope& scope, const std::string& name, const std::string& bus, bool enabled) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(name, "name"));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  std::lock_guard<std::mutex> lock(mu_);
  Result<Rule> rule = ReadRule(scope, name, *b);
  if (!rule.ok()) return rule.status();
  if (rule->enabled() == enabled) return Status::Ok();
  rule->state = enabled ? "ENABLED" : "DISABLED";
  if (enabled) rule->schedule_anchor_ms = NowMillis();
  return SaveRule(*rule, /*create=*/false);
}

Status EventsBackend::EnableRule(const Scope& scope, const std::string& name, const std::string& bus) {
  return SetState(scope, name, bus, true);
}
Status EventsBackend::DisableRule(const Scope& scope, const std::string& name, const std::string& bus) {
  return SetState(scope, name, bus, false);
}

Status EventsBackend::DeleteRule(const Scope& scope, const std::string& name, const std::string& bus) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(name, "name"));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  std::lock_guard<std::mutex> lock(mu_);
  Result<Rule> rule = ReadRule(scope, name, *b);
  if (!rule.ok()) return rule.status().code() == Status::Code::kNotFound ? Status::Ok() : rule.status();
  if (!rule->targets.empty()) return ValidationError("Rule can't be deleted since it has targets.");
  LATHE_RETURN_IF_ERROR(store_->Delete(kRuleKind, rule->arn));
  Result<std::map<std::string, std::string>> tags = store_->Tags(rule->arn);
  if (tags.ok() && !tags->empty()) {
    std::vector<std::string> keys;
    for (const auto& kv : *tags) keys.push_back(kv.first);
    LATHE_RETURN_IF_ERROR(store_->RemoveTags(rule->arn, keys));
  }
  RulesChanged();
  return Status::Ok();
}

// ---- targets ----

Result<std::vector<EntryResult>> EventsBackend::PutTargets(const Scope& scope, const std::string& rule_name,
                                                           const std::string& bus, const std::vector<Target>& targets) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(rule_name, "rule"));
  if (targets.empty() || targets.size() > 100)
    return ConstraintViolation("[Target...]", "targets",
                               targets.empty() ? "Member must have length greater than or equal to 1"
                                               : "Member must have length less than or equal to 100");
  for (size_t i = 0; i < targets.size(); ++i) {
    const Target& t = targets[i];
    const std::string member = "targets." + std::to_string(i + 1) + ".member.";
    LATHE_RETURN_IF_ERROR(CheckTargetId(t.id, member + "id"));
    LATHE_RETURN_IF_ERROR(CheckLength(t.arn, member + "arn", 1, 1600));
    if (!LooksLikeArn(t.arn))
      return ValidationError("Parameter " + Quoted(t.arn) + " is not valid. Reason: Provided Arn is not in correct format.");
    LATHE_RETURN_IF_ERROR(CheckLength(t.role_arn, member + "roleArn", 0, 1600));
    if (t.retry_policy) {
      if (t.retry_policy->max_retry_attempts < 0 || t.retry_policy->max_retry_attempts > 185)
        return ConstraintViolation(std::to_string(t.retry_policy->max_retry_attempts),
                                   member + "retryPolicy.maximumRetryAttempts",
                                   "Member must have value between 0 and 185");
      if (t.retry_policy->max_event_age_seconds < 60 || t.retry_policy->max_event_age_seconds > 86400)
        return ConstraintViolation(std::to_string(t.retry_policy->max_event_age_seconds),
                                   member + "retryPolicy.maximumEventAgeInSeconds",
                                   "Member must have value between 60 and 86400");
    }
    if (!t.dead_letter_arn.empty()) {
      LATHE_RETURN_IF_ERROR(CheckLength(t.dead_letter_arn, member + "deadLetterConfig.arn", 1, 1600));
      if (!LooksLikeArn(t.dead_letter_arn))
        return ValidationError("The dead-letter queue ARN " + Quoted(t.dead_letter_arn) + " of target " +
                               Quoted(t.id) + " is not valid.");
    }
    LATHE_RETURN_IF_ERROR(CheckTargetInput(t));
  }
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  std::lock_guard<std::mutex> lock(mu_);
  Result<Rule> rule = ReadRule(scope, rule_name, *b);
  if (!rule.ok()) return rule.status();
  for (const Target& t : targets) {
    auto it = std::find_if(rule->targets.begin(), rule->targets.end(), [&](const Target& x) { return x.id == t.id; });
    if (it != rule->targets.end()) *it = t;
    else rule->targets.push_back(t);
  }
  if (rule->targets.size() > kMaxTargetsPerRule)
    return LimitExceeded("The requested resource exceeds the maximum number allowed.");
  LATHE_RETURN_IF_ERROR(SaveRule(*rule, /*create=*/false));
  return std::vector<EntryResult>{};
}

Result<std::vector<EntryResult>> EventsBackend::RemoveTargets(const Scope& scope, const std::string& rule_name,
                                                              const std::string& bus,
                                                              const std::vector<std::string>& ids) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(rule_name, "rule"));
  if (ids.empty() || ids.size() > 100)
    return ConstraintViolation("[...]", "ids",
                               ids.empty() ? "Member must have length greater than or equal to 1"
                                           : "Member must have length less than or equal to 100");
  for (size_t i = 0; i < ids.size(); ++i)
    LATHE_RETURN_IF_ERROR(CheckTargetId(ids[i], "ids." + std::to_string(i + 1) + ".member"));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  std::lock_guard<std::mutex> lock(mu_);
  Result<Rule> rule = ReadRule(scope, rule_name, *b);
  if (!rule.ok()) return rule.status();
  const std::set<std::string> remove(ids.begin(), ids.end());
  const size_t before = rule->targets.size();
  rule->targets.erase(std::remove_if(rule->targets.begin(), rule->targets.end(),
                                     [&](const Target& t) { return remove.count(t.id) > 0; }),
                      rule->targets.end());
  // Ids the rule does not have are no failure: removing is idempotent.
  if (rule->targets.size() != before) LATHE_RETURN_IF_ERROR(SaveRule(*rule, /*create=*/false));
  return std::vector<EntryResult>{};
}

Result<Page<Target>> EventsBackend::ListTargetsByRule(const Scope& scope, const std::string& rule_name,
                                                      const std::string& bus, const PageRequest& page) {
  LATHE_RETURN_IF_ERROR(CheckRuleName(rule_name, "rule"));
  LATHE_RETURN_IF_ERROR(CheckLimit(page));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  Result<std::string> after = StartAfter("events:targets", page);
  if (!after.ok()) return after.status();
  Result<Rule> rule = ReadRule(scope, rule_name, *b);
  if (!rule.ok()) return rule.status();
  std::vector<Target> targets = rule->targets;
  std::sort(targets.begin(), targets.end(), [](const Target& x, const Target& y) { return x.id < y.id; });
  return PageOf(std::move(targets), [](const Target& t) -> const std::string& { return t.id; }, "", *after, page.limit,
                "events:targets");
}

Result<Page<std::string>> EventsBackend::ListRuleNamesByTarget(const Scope& scope, const std::string& target_arn,
                                                               const std::string& bus, const PageRequest& page) {
  LATHE_RETURN_IF_ERROR(CheckLength(target_arn, "targetArn", 1, 1600));
  LATHE_RETURN_IF_ERROR(CheckLimit(page));
  Result<std::string> b = ResolveBus(scope, bus);
  if (!b.ok()) return b.status();
  Result<std::string> after = StartAfter("events:rule-names", page);
  if (!after.ok()) return after.status();
  Result<std::vector<Rule>> rules = RulesOfBus(scope, *b);
  if (!rules.ok()) return rules.status();
  std::vector<std::string> names;
  for (const Rule& r : *rules)
    if (std::any_of(r.targets.begin(), r.targets.end(), [&](const Target& t) { return t.arn == target_arn; }))
      names.push_back(r.name);
  return PageOf(std::move(names), [](const std::string& n) -> const std::string& { return n; }, "", *after, page.limit,
                "events:rule-names");
}

// ---- events ----

Result<std::vector<EntryResult>> EventsBackend::PutEvents(const Scope& scope, const std::vector<PutEventsEntry>& entries,
                                                          int64_t now_ms) {
  if (entries.empty() || entries.size() > kMaxPutEventsEntries)
    return ConstraintViolation("[PutEventsRequestEntry...]", "entries",
                               entries.empty() ? "Member must have length greater than or equal to 1"
                                               : "Member must have length less than or equal to 10");
  // AWS's entry size (eb-putevent-size): Time counts 14 bytes, the rest their UTF-8 bytes.
  size_t total = 0;
  for (const PutEventsEntry& e : entries) {
    if (e.time_ms) total += 14;
    if (e.source) total += e.source->size();
    if (e.detail_type) total += e.detail_type->size();
    if (e.detail) total += e.detail->size();
    for (const std::string& r : e.resources) total += r.size();
  }
  if (total > kMaxPutEventsBytes) return ValidationError("Total size of the entries in the request is over the limit.");

  std::vector<EntryResult> results(entries.size());
  store::WriteBatch batch;
  for (size_t i = 0; i < entries.size(); ++i) {
    const PutEventsEntry& e = entries[i];
    EntryResult& r = results[i];
    auto fail = [&r](const char* code, std::string message) {
      r.error_code = code;
      r.error_message = std::move(message);
    };
    if (!e.source || e.source->empty()) {
      fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.");
      continue;
    }
    if (!e.detail_type || e.detail_type->empty()) {
      fail("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
      continue;
    }
    if (!e.detail || e.detail->empty()) {
      fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.");
      continue;
    }
    if (e.source->compare(0, 4, "aws.") == 0) {
      fail("NotAuthorizedForSourceException", "Not authorized for the source.");
      continue;
    }
    if (std::any_of(e.resources.begin(), e.resources.end(), [](const std::string& s) { return s.size() > 2048; })) {
      fail("InvalidArgument", "Parameter Resources is not valid. Reason: a resource is longer than 2048 characters.");
      continue;
    }
    json detail;
    if (JsonNestingWithin(*e.detail, kMaxRequestJsonDepth)) detail = json::parse(*e.detail, nullptr, false);
    if (!detail.is_object()) {
      fail("MalformedDetail", "Detail is malformed.");
      continue;
    }
    Result<std::string> bus = ResolveBus(scope, e.bus);
    if (!bus.ok()) {
      fail(bus.status().aws_code().empty() ? "InternalException" : bus.status().aws_code().c_str(),
           bus.status().message());
      continue;
    }
    store::OutboxEvent event;
    event.id = NewEventId();
    event.source = *e.source;
    event.detail_type = *e.detail_type;
    event.account = scope.account;
    event.region = scope.region;
    event.resources = e.resources;
    event.detail = std::move(detail);
    event.time_ms = e.time_ms ? *e.time_ms : now_ms;
    event.event_bus = *bus == kDefaultBus ? "" : *bus;
    r.id = event.id;
    batch.events.push_back(std::move(event));
  }
  if (!batch.events.empty()) {
    Status s = store_->Write(batch);
    if (!s.ok()) {
      // Nothing was put: every entry that would have been fails alike.
      for (EntryResult& r : results)
        if (r.ok()) {
          r = EntryResult{};
          r.error_code = "InternalFailure";
          r.error_message = s.message();
        }
    }
  }
  return results;
}

Result<bool> EventsBackend::TestEventPattern(const std::string& pattern_json, const std::string& event_json) {
  LATHE_RETURN_IF_ERROR(CheckLength(pattern_json, "eventPattern", 0, kMaxEventPatternBytes));
  Result<EventPattern> pattern = ParsePattern(pattern_json);
  if (!pattern.ok()) return pattern.status();
  json event;
  if (JsonNestingWithin(event_json, kMaxRequestJsonDepth)) event = json::parse(event_json, nullptr, false);
  if (!event.is_object()) return ValidationError("Parameter Event is not valid.");
  for (const char* field : {"id", "account", "source", "time", "region", "detail-type"})
    if (!event.contains(field) || !event[field].is_string())
      return ValidationError(std::string("Parameter Event is not valid: it has no string \"") + field + "\".");
  if (!event.contains("resources") || !event["resources"].is_array())
    return ValidationError("Parameter Event is not valid: it has no \"resources\" array.");
  return pattern->Matches(event);
}

// ---- tags ----

Status EventsBackend::CheckTaggable(const Scope& scope, const std::string& arn) {
  LATHE_RETURN_IF_ERROR(CheckLength(arn, "resourceARN", 1, 1600));
  if (arn == BusArn(scope.region, scope.account, kDefaultBus)) return Status::Ok();
  for (const char* kind : {kRuleKind, kBusKind}) {
    Result<store::ResourceRow> row = store_->Find(kind, arn);
    if (row.ok()) return Status::Ok();
    if (row.status().code() != Status::Code::kNotFound) return row.status();
  }
  return ResourceNotFound("Resource " + Quoted(arn) + " does not exist.");
}

Status EventsBackend::TagResource(const Scope& scope, const std::string& arn, const std::vector<Tag>& tags) {
  LATHE_RETURN_IF_ERROR(CheckTags(tags));
  std::lock_guard<std::mutex> lock(mu_);
  LATHE_RETURN_IF_ERROR(CheckTaggable(scope, arn));
  Result<std::map<std::string, std::string>> existing = store_->Tags(arn);
  if (!existing.ok()) return existing.status();
  std::map<std::string, std::string> merged = *existing;
  std::map<std::string, std::string> add;
  for (const Tag& t : tags) merged[t.key] = add[t.key] = t.value;
  if (merged.size() > kMaxTagsPerResource)
    return LimitExceeded("A resource may have at most " + std::to_string(kMaxTagsPerResource) + " tags.");
  return store_->SetTags(arn, add);
}

Status EventsBackend::UntagResource(const Scope& scope, const std::string& arn, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) LATHE_RETURN_IF_ERROR(CheckLength(k, "tagKeys.member", 1, 128));
  std::lock_guard<std::mutex> lock(mu_);
  LATHE_RETURN_IF_ERROR(CheckTaggable(scope, arn));
  return store_->RemoveTags(arn, keys);
}

Result<std::vector<Tag>> EventsBackend::ListTagsForResource(const Scope& scope, const std::string& arn) {
  LATHE_RETURN_IF_ERROR(CheckTaggable(scope, arn));
  Result<std::map<std::string, std::string>> tags = store_->Tags(arn);
  if (!tags.ok()) return tags.status();
  std::vector<Tag> out;
  for (const auto& [k, v] : *tags) out.push_back({k, v});
  return out;
}

// ---- for the dispatcher and scheduler ----

void EventsBackend::RulesChanged() {
  std::lock_guard<std::mutex> lock(rules_mu_);
  rule_set_.reset();
}

Result<std::shared_ptr<const RuleSet>> EventsBackend::EnabledRules() {
  std::lock_guard<std::mutex> lock(rules_mu_);
  if (rule_set_) return rule_set_;
  store::MetadataStore::ListFilter filter;
  filter.statuses = {"ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"};
  Result<std::vector<store::ResourceRow>> rows = store_->List(kRuleKind, filter);
  if (!rows.ok()) return rows.status();
  auto set = std::make_shared<RuleSet>();
  for (const auto& row : *rows) {
    CompiledRule c;
    c.rule = RuleFromDoc(row.doc);
    c.rule.created_ms = row.created_ms;
    if (!c.rule.event_pattern.empty()) {
      Result<EventPattern> p = EventPattern::Parse(c.rule.event_pattern, options_);
      if (!p.ok()) {
        // Stored under other options (strictAwsCompatibility turned on since): it matches nothing.
        spdlog::warn("EventBridge rule {} is skipped: its pattern is refused now: {}", c.rule.arn, p.status().message());
        continue;
      }
      c.pattern = std::make_shared<const EventPattern>(std::move(*p));
    }
    if (!c.rule.schedule_expression.empty()) {
      Result<Schedule> s = Schedule::Parse(c.rule.schedule_expression);
      if (s.ok()) c.schedule = std::make_shared<const Schedule>(std::move(*s));
    }
    const size_t index = set->rules.size();
    set->by_bus[RuleSet::BusKey(c.rule.account, c.rule.region, c.rule.bus)].push_back(index);
    set->by_arn[c.rule.arn] = index;
    set->rules.push_back(std::move(c));
  }
  rule_set_ = set;
  return rule_set_;
}

}  // namespace lathe::events
