#include "services/events/rule_doc.h"

namespace lathe::events {

using json = nlohmann::json;

json TargetToDoc(const Target& t) {
  json d = {{"id", t.id}, {"arn", t.arn}};
  if (!t.role_arn.empty()) d["roleArn"] = t.role_arn;
  if (t.input) d["input"] = *t.input;
  if (t.input_path) d["inputPath"] = *t.input_path;
  if (t.input_transformer)
    d["inputTransformer"] = {{"paths", t.input_transformer->input_paths},
                             {"template", t.input_transformer->input_template}};
  if (t.retry_policy)
    d["retryPolicy"] = {{"maxRetryAttempts", t.retry_policy->max_retry_attempts},
                        {"maxEventAgeSeconds", t.retry_policy->max_event_age_seconds}};
  if (!t.dead_letter_arn.empty()) d["deadLetterArn"] = t.dead_letter_arn;
  return d;
}

Target TargetFromDoc(const json& d) {
  Target t;
  t.id = d.value("id", "");
  t.arn = d.value("arn", "");
  t.role_arn = d.value("roleArn", "");
  if (d.contains("input")) t.input = d.value("input", "");
  if (d.contains("inputPath")) t.input_path = d.value("inputPath", "");
  if (d.contains("inputTransformer")) {
    const json& x = d["inputTransformer"];
    InputTransformer it;
    it.input_paths = x.value("paths", std::map<std::string, std::string>{});
    it.input_template = x.value("template", "");
    t.input_transformer = it;
  }
  if (d.contains("retryPolicy")) {
    RetryPolicy p;
    p.max_retry_attempts = d["retryPolicy"].value("maxRetryAttempts", kDefaultMaxRetryAttempts);
    p.max_event_age_seconds = d["retryPolicy"].value("maxEventAgeSeconds", kDefaultMaxEventAgeSeconds);
    t.retry_policy = p;
  }
  t.dead_letter_arn = d.value("deadLetterArn", "");
  return t;
}

json RuleToDoc(const Rule& r) {
  json targets = json::array();
  for (const Target& t : r.targets) targets.push_back(TargetToDoc(t));
  return {{"account", r.account},         {"region", r.region},
          {"bus", r.bus},                 {"name", r.name},
          {"eventPattern", r.event_pattern}, {"scheduleExpression", r.schedule_expression},
          {"state", r.state},             {"description", r.description},
          {"roleArn", r.role_arn},        {"scheduleAnchorMs", r.schedule_anchor_ms},
          {"targets", targets}};
}

Rule RuleFromDoc(const json& d) {
  Rule r;
  if (!d.is_object()) return r;
  r.account = d.value("account", "");
  r.region = d.value("region", "");
  r.bus = d.value("bus", kDefaultBus);
  r.name = d.value("name", "");
  r.arn = RuleArn(r.region, r.account, r.bus, r.name);
  r.event_pattern = d.value("eventPattern", "");
  r.schedule_expression = d.value("scheduleExpression", "");
  r.state = d.value("state", "ENABLED");
  r.description = d.value("description", "");
  r.role_arn = d.value("roleArn", "");
  r.schedule_anchor_ms = d.value("scheduleAnchorMs", int64_t{0});
  if (d.contains("targets") && d["targets"].is_array())
    for (const json& t : d["targets"]) r.targets.push_back(TargetFromDoc(t));
  return r;
}

}  // namespace lathe::events
