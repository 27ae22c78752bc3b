// EventBridge's semantics without a wire format: event buses, rules and their targets, tags,
// PutEvents and TestEventPattern, per account and region, persisted in the metadata store so they
// survive a restart. Rows: kind "events-bus" (custom buses; each account's "default" bus always
// exists and is never stored) and kind "events-rule" (one row per rule, its targets in its
// document, at most kMaxTargetsPerRule as AWS allows). PutEvents writes to the store's outbox,
// where the dispatcher (dispatcher.h) finds it beside S3's and Bedrock's events.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "services/events/event_pattern.h"
#include "services/events/schedule.h"
#include "store/metadata_store.h"

namespace lathe::events {

inline constexpr const char* kDefaultBus = "default";
inline constexpr size_t kMaxTargetsPerRule = 5;       // AWS's quota
inline constexpr size_t kMaxRulesPerBus = 2000;       // AWS: 300 by default, raisable; lathe: fixed
inline constexpr size_t kMaxBusesPerAccount = 100;    // AWS's quota
inline constexpr size_t kMaxPutEventsEntries = 10;    // PutEventsRequestEntryList's max
inline constexpr size_t kMaxPutEventsBytes = 256 * 1024;  // total entry size, computed as AWS does
inline constexpr size_t kMaxTagsPerResource = 50;
inline constexpr int kDefaultMaxRetryAttempts = 185;    // RetryPolicy defaults, as AWS's
inline constexpr int kDefaultMaxEventAgeSeconds = 86400;

// Whose resources: the caller's account and the region the request was signed for.
struct Scope {
  std::string account;
  std::string region;
};

struct RetryPolicy {
  int max_retry_attempts = kDefaultMaxRetryAttempts;  // 0..185: retries after the first attempt
  int max_event_age_seconds = kDefaultMaxEventAgeSeconds;  // 60..86400
};

struct InputTransformer {
  std::map<std::string, std::string> input_paths;  // placeholder name -> JSON path
  std::string input_template;
};

struct Target {
  std::string id;
  std::string arn;
  std::string role_arn;
  // At most one of the three (AWS's rule); none: the whole event is delivered.
  std::optional<std::string> input;       // JSON text
  std::optional<std::string> input_path;  // JSONPath into the event
  std::optional<InputTransformer> input_transformer;
  std::optional<RetryPolicy> retry_policy;  // absent: the defaults (and not echoed back)
  std::string dead_letter_arn;              // "" when none
};

struct Rule {
  std::string account, region, bus, name, arn;
  std::string event_pattern;        // "" when none
  std::string schedule_expression;  // "" when none
  std::string state = "ENABLED";    // ENABLED | DISABLED | ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
  std::string description, role_arn;
  int64_t created_ms = 0;
  int64_t schedule_anchor_ms = 0;  // rate() periods count from here: creation or last enabling
  std::vector<Target> targets;
  bool enabled() const { return state != "DISABLED"; }
};

struct EventBus {
  std::string name, arn, description;
  int64_t created_ms = 0, modified_ms = 0;
};

struct Tag {
  std::string key, value;
};

struct PutRuleInput {
  std::string name;
  std::string bus;  // name or ARN; "" = default
  std::optional<std::string> event_pattern, schedule_expression, state;
  std::string description, role_arn;
  std::vector<Tag> tags;  // applied when the rule is created, ignored on update (as AWS does)
};

struct PutEventsEntry {
  std::optional<int64_t> time_ms;  // "Time"; absent: when it was put
  std::optional<std::string> source, detail_type, detail;
  std::vector<std::string> resources;
  std::string bus;  // name or ARN; "" = default
};

// One entry's outcome: event_id, or error_code and error_message.
struct EntryResult {
  std::string id;  // EventId (PutEvents) or TargetId (PutTargets, RemoveTargets)
  std::string error_code, error_message;
  bool ok() const { return error_code.empty(); }
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_token;  // "" on the last page
};

struct PageRequest {
  std::string next_token;
  size_t limit = 100;  // 1..100
};

// A rule as the dispatcher and scheduler use it: parsed once per change of the rules.
struct CompiledRule {
  Rule rule;
  std::shared_ptr<const EventPattern> pattern;  // null without EventPattern
  std::shared_ptr<const Schedule> schedule;     // null without ScheduleExpression
};
struct RuleSet {
  std::vector<CompiledRule> rules;  // enabled rules only
  // "account/region/bus" -> indexes into rules
  std::map<std::string, std::vector<size_t>> by_bus;
  std::map<std::string, size_t> by_arn;
  static std::string BusKey(const std::string& account, const std::string& region, const std::string& bus) {
    return account + "/" + region + "/" + bus;
  }
};

class EventsBackend {
 public:
  // `store` outlives the backend. `options.strict_aws` is the config's strictAwsCompatibility.
  EventsBackend(store::MetadataStore* store, PatternOptions options) : store_(store), options_(options) {}

  // Event buses.
  Result<EventBus> CreateEventBus(const Scope& scope, const std::string& name, const std::string& description,
                                  const std::vector<Tag>& tags);
  // Deletes the bus and its rules; a bus that does not exist is no error (as AWS).
  Status DeleteEventBus(const Scope& scope, const std::string& name);
  Result<EventBus> DescribeEventBus(const Scope& scope, const std::string& name_or_arn);
  Result<Page<EventBus>> ListEventBuses(const Scope& scope, const std::string& name_prefix, const PageRequest& page);

  // Rules. PutRule creates or replaces (omitted members are not kept, as AWS documents); answers the ARN.
  Result<std::string> PutRule(const Scope& scope, const PutRuleInput& input);
  Result<Rule> DescribeRule(const Scope& scope, const std::string& name, const std::string& bus);
  Result<Page<Rule>> ListRules(const Scope& scope, const std::string& bus, const std::string& name_prefix,
                               const PageRequest& page);
  Status EnableRule(const Scope& scope, const std::string& name, const std::string& bus);
  Status DisableRule(const Scope& scope, const std::string& name, const std::string& bus);
  // ValidationException "Rule can't be deleted since it has targets." while targets remain; a
  // rule that does not exist is no error (as AWS).
  Status DeleteRule(const Scope& scope, const std::string& name, const std::string& bus);

  // Targets: adds or replaces by Id. Malformed targets refuse the whole request (as AWS's front
  // door does); the per-entry results hold what failed for one target alone.
  Result<std::vector<EntryResult>> PutTargets(const Scope& scope, const std::string& rule, const std::string& bus,
                                              const std::vector<Target>& targets);
  Result<std::vector<EntryResult>> RemoveTargets(const Scope& scope, const std::string& rule, const std::string& bus,
                                                 const std::vector<std::string>& ids);
  Result<Page<Target>> ListTargetsByRule(const Scope& scope, const std::string& rule, const std::string& bus,
                                         const PageRequest& page);
  Result<Page<std::string>> ListRuleNamesByTarget(const Scope& scope, const std::string& target_arn,
                                                  const std::string& bus, const PageRequest& page);

  // Events: one result per entry, in order. The whole request is refused (ValidationException)
  // over kMaxPutEventsEntries entries or kMaxPutEventsBytes of entry size.
  Result<std::vector<EntryResult>> PutEvents(const Scope& scope, const std::vector<PutEventsEntry>& entries,
                                             int64_t now_ms);
  // Whether `event_json` (a whole envelope) matches `pattern_json`.
  Result<bool> TestEventPattern(const std::string& pattern_json, const std::string& event_json);

  // Tags of rules and buses (by ARN).
  Status TagResource(const Scope& scope, const std::string& arn, const std::vector<Tag>& tags);
  Status UntagResource(const Scope& scope, const std::string& arn, const std::vector<std::string>& keys);
  Result<std::vector<Tag>> ListTagsForResource(const Scope& scope, const std::string& arn);

  // The enabled rules of every account, parsed; rebuilt after any change to a rule.
  Result<std::shared_ptr<const RuleSet>> EnabledRules();

  // Parses a pattern as PutRule and TestEventPattern do (with the config's options), logging the
  // warnings of tolerated divergences.
  Result<EventPattern> ParsePattern(const std::string& pattern_json) const;

 private:
  Result<std::string> ResolveBus(const Scope& scope, const std::string& name_or_arn);
  Result<Rule> ReadRule(const Scope& scope, const std::string& name, const std::string& bus_name);
  Status SaveRule(const Rule& rule, bool create);
  Status SetState(const Scope& scope, const std::string& name, const std::string& bus, bool enabled);
  Result<std::vector<Rule>> RulesOfBus(const Scope& scope, const std::string& bus_name);
  // Whether the ARN names an existing rule or bus of `scope`.
  Status CheckTaggable(const Scope& scope, const std::string& arn);
  void RulesChanged();

  store::MetadataStore* store_;
  PatternOptions options_;
  std::mutex mu_;  // read-modify-write of rules and buses is one step
  std::mutex rules_mu_;
  std::shared_ptr<const RuleSet> rule_set_;  // null: rebuild on next EnabledRules()
};

// ARNs: arn:aws:events:<region>:<account>:rule/[<bus>/]<name> and :event-bus/<name>.
std::string RuleArn(const std::string& region, const std::string& account, const std::string& bus,
                    const std::string& name);
std::string BusArn(const std::string& region, const std::string& account, const std::string& bus);

}  // namespace lathe::events
