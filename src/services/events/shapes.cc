#include "services/events/shapes.h"

#include <algorithm>

#include "services/events/errors.h"
#include "services/events/names.h"

namespace lathe::events {
namespace {

using nlohmann::json;

// Epoch seconds (botocore writes timestamps as numbers in the JSON protocols) -> ms.
Result<std::optional<int64_t>> OptTime(const json& j, const char* name, const std::string& member) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number()) return aws::WrongMemberType(member, "a timestamp (seconds since the epoch)");
  const double seconds = it->get<double>();
  if (!(seconds > -1e11 && seconds < 1e11)) return ValidationError("Member " + member + " is out of range.");
  return std::optional<int64_t>(static_cast<int64_t>(seconds * 1000.0));
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

Result<PageRequest> Members::Paging() const {
  PageRequest page;
  Result<std::optional<int64_t>> limit = OptInt("Limit");
  if (!limit.ok()) return limit.status();
  if (*limit) {
    if (**limit < 1 || **limit > 100)
      return ConstraintViolation(std::to_string(**limit), "limit", "Member must have value between 1 and 100");
    page.limit = static_cast<size_t>(**limit);
  }
  Result<std::string> token = String("NextToken");
  if (!token.ok()) return token.status();
  page.next_token = *token;
  return page;
}

Result<std::vector<Tag>> Members::Tags(const char* name) const {
  std::vector<Tag> tags;
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return tags;
  if (!it->is_array()) return aws::WrongMemberType(name, "a list of tags");
  if (it->size() > kMaxTagsPerResource)
    return ValidationError("A resource may have at most " + std::to_string(kMaxTagsPerResource) + " tags.");
  for (const json& t : *it) {
    if (!t.is_object()) return aws::WrongMemberType(name, "a list of {Key, Value} objects");
    Members m(t);
    Result<std::string> key = m.Required("Key");
    if (!key.ok()) return key.status();
    Result<std::string> value = m.Required("Value");
    if (!value.ok()) return value.status();
    tags.push_back({*key, *value});
  }
  return tags;
}

Result<Target> TargetFromWire(const json& j, size_t index) {
  const std::string at = "Targets[" + std::to_string(index) + "]";
  if (!j.is_object()) return aws::WrongMemberType(at, "a Target object");
  Members m(j);
  Target t;
  Result<std::string> id = m.Required("Id");
  if (!id.ok()) return id.status();
  t.id = *id;
  Result<std::string> arn = m.Required("Arn");
  if (!arn.ok()) return arn.status();
  t.arn = *arn;
  Result<std::string> role = m.String("RoleArn");
  if (!role.ok()) return role.status();
  t.role_arn = *role;
  Result<std::optional<std::string>> input = m.OptString("Input");
  if (!input.ok()) return input.status();
  t.input = *input;
  Result<std::optional<std::string>> path = m.OptString("InputPath");
  if (!path.ok()) return path.status();
  t.input_path = *path;
  if (auto x = j.find("InputTransformer"); x != j.end() && !x->is_null()) {
    if (!x->is_object()) return aws::WrongMemberType(at + ".InputTransformer", "an object");
    Members xm(*x);
    InputTransformer it;
    Result<std::string> tmpl = xm.Required("InputTemplate");
    if (!tmpl.ok()) return tmpl.status();
    it.input_template = *tmpl;
    if (auto paths = x->find("InputPathsMap"); paths != x->end() && !paths->is_null()) {
      if (!paths->is_object()) return aws::WrongMemberType(at + ".InputTransformer.InputPathsMap", "a map of strings");
      if (paths->size() > 100) return ValidationError("InputPathsMap of target " + Quoted(t.id) + " has more than 100 entries.");
      for (const auto& [k, v] : paths->items()) {
        if (!v.is_string()) return aws::WrongMemberType(at + ".InputTransformer.InputPathsMap", "a map of strings");
        it.input_paths[k] = v.get<std::string>();
      }
    }
    t.input_transformer = it;
  }
  if (auto r = j.find("RetryPolicy"); r != j.end() && !r->is_null()) {
    if (!r->is_object()) return aws::WrongMemberType(at + ".RetryPolicy", "an object");
    Members rm(*r);
    RetryPolicy p;
    Result<std::optional<int64_t>> attempts = rm.OptInt("MaximumRetryAttempts");
    if (!attempts.ok()) return attempts.status();
    Result<std::optional<int64_t>> age = rm.OptInt("MaximumEventAgeInSeconds");
    if (!age.ok()) return age.status();
    // Out-of-range values are reported by the backend; clamp only what an int cannot hold.
    if (*attempts) p.max_retry_attempts = static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(**attempts, 1 << 20)));
    if (*age) p.max_event_age_seconds = static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(**age, 1 << 30)));
    t.retry_policy = p;
  }
  if (auto d = j.find("DeadLetterConfig"); d != j.end() && !d->is_null()) {
    if (!d->is_object()) return aws::WrongMemberType(at + ".DeadLetterConfig", "an object");
    Result<std::string> dl = Members(*d).String("Arn");
    if (!dl.ok()) return dl.status();
    t.dead_letter_arn = *dl;
  }
  return t;
}

Result<PutEventsEntry> EntryFromWire(const json& j, size_t index) {
  if (!j.is_object()) return aws::WrongMemberType("Entries[" + std::to_string(index) + "]", "a PutEventsRequestEntry object");
  Members m(j);
  PutEventsEntry e;
  Result<std::optional<std::string>> source = m.OptString("Source");
  if (!source.ok()) return source.status();
  e.source = *source;
  Result<std::optional<std::string>> type = m.OptString("DetailType");
  if (!type.ok()) return type.status();
  e.detail_type = *type;
  Result<std::optional<std::string>> detail = m.OptString("Detail");
  if (!detail.ok()) return detail.status();
  e.detail = *detail;
  Result<std::vector<std::string>> resources = m.Strings("Resources");
  if (!resources.ok()) return resources.status();
  e.resources = *resources;
  Result<std::string> bus = m.String("EventBusName");
  if (!bus.ok()) return bus.status();
  e.bus = *bus;
  Result<std::optional<int64_t>> time = OptTime(j, "Time", "Entries[" + std::to_string(index) + "].Time");
  if (!time.ok()) return time.status();
  e.time_ms = *time;
  return e;
}

json RuleToWire(const Rule& r) {
  json j = {{"Name", r.name}, {"Arn", r.arn}, {"State", r.state}, {"EventBusName", r.bus}};
  if (!r.event_pattern.empty()) j["EventPattern"] = r.event_pattern;
  if (!r.schedule_expression.empty()) j["ScheduleExpression"] = r.schedule_expression;
  if (!r.description.empty()) j["Description"] = r.description;
  if (!r.role_arn.empty()) j["RoleArn"] = r.role_arn;
  return j;
}

json TargetToWire(const Target& t) {
  json j = {{"Id", t.id}, {"Arn", t.arn}};
  if (!t.role_arn.empty()) j["RoleArn"] = t.role_arn;
  if (t.input) j["Input"] = *t.input;
  if (t.input_path) j["InputPath"] = *t.input_path;
  if (t.input_transformer) {
    json x = {{"InputTemplate", t.input_transformer->input_template}};
    if (!t.input_transformer->input_paths.empty()) x["InputPathsMap"] = t.input_transformer->input_paths;
    j["InputTransformer"] = x;
  }
  if (t.retry_policy)
    j["RetryPolicy"] = {{"MaximumRetryAttempts", t.retry_policy->max_retry_attempts},
                        {"MaximumEventAgeInSeconds", t.retry_policy->max_event_age_seconds}};
  if (!t.dead_letter_arn.empty()) j["DeadLetterConfig"] = {{"Arn", t.dead_letter_arn}};
  return j;
}

json BusToWire(const EventBus& b, bool times) {
  json j = {{"Name", b.name}, {"Arn", b.arn}};
  if (!b.description.empty()) j["Description"] = b.description;
  if (times && b.created_ms > 0) {
    j["CreationTime"] = Seconds(b.created_ms);
    j["LastModifiedTime"] = Seconds(b.modified_ms);
  }
  return j;
}

json EntryResultsToWire(const std::vector<EntryResult>& results, const char* entries_member, const char* id_member,
                        bool all_entries) {
  json entries = json::array();
  int failed = 0;
  for (const EntryResult& r : results) {
    if (!r.ok()) ++failed;
    if (r.ok() && !all_entries) continue;
    json e = json::object();
    if (!r.id.empty()) e[id_member] = r.id;
    if (!r.ok()) {
      e["ErrorCode"] = r.error_code;
      e["ErrorMessage"] = r.error_message;
    }
    entries.push_back(e);
  }
  return {{"FailedEntryCount", failed}, {entries_member, entries}};
}

}  // namespace lathe::events
