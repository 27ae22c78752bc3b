#include "services/events/scheduler.h"

#include "services/events/names.h"

namespace lathe::events {

Result<size_t> EventScheduler::Tick() {
  Result<std::shared_ptr<const RuleSet>> rules = backend_->EnabledRules();
  if (!rules.ok()) return rules.status();
  const int64_t now = clock_->NowMs();
  std::map<std::string, Next> next;
  store::WriteBatch batch;
  for (const CompiledRule& c : (*rules)->rules) {
    if (!c.schedule) continue;
    auto it = next_.find(c.rule.arn);
    Next n;
    if (it != next_.end() && it->second.expression == c.rule.schedule_expression &&
        it->second.anchor_ms == c.rule.schedule_anchor_ms) {
      n = it->second;
    } else {  // new, changed or re-enabled: its first time after now, nothing before
      n.expression = c.rule.schedule_expression;
      n.anchor_ms = c.rule.schedule_anchor_ms;
      n.fire_ms = c.schedule->NextAfter(now, n.anchor_ms);
    }
    if (n.fire_ms >= 0 && n.fire_ms <= now) {
      store::OutboxEvent e;
      e.id = NewEventId();
      e.source = "aws.events";
      e.detail_type = "Scheduled Event";
      e.account = c.rule.account;
      e.region = c.rule.region;
      e.resources = {c.rule.arn};
      e.detail = nlohmann::json::object();
      e.time_ms = n.fire_ms;
      batch.events.push_back(std::move(e));
      n.fire_ms = c.schedule->NextAfter(now, n.anchor_ms);  // times missed meanwhile are skipped
    }
    next[c.rule.arn] = n;
  }
  if (!batch.events.empty()) LATHE_RETURN_IF_ERROR(store_->Write(batch));
  next_ = std::move(next);
  return batch.events.size();
}

int64_t EventScheduler::NextFireMs() const {
  int64_t earliest = -1;
  for (const auto& [arn, n] : next_)
    if (n.fire_ms >= 0 && (earliest < 0 || n.fire_ms < earliest)) earliest = n.fire_ms;
  return earliest;
}

}  // namespace lathe::events
