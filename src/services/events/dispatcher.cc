#include "services/events/dispatcher.h"

#include <algorithm>
#include <limits>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "services/events/input_transform.h"
#include "services/events/names.h"

namespace lathe::events {
namespace {

using json = nlohmann::json;

json ToDoc(const DeliveryRecord& d) {
  return {{"ruleArn", d.rule_arn},       {"targetId", d.target_id},
          {"targetArn", d.target_arn},   {"deadLetterArn", d.dead_letter_arn},
          {"eventId", d.event_id},       {"account", d.account},
          {"region", d.region},          {"input", d.input},
          {"attempts", d.attempts},      {"maxRetryAttempts", d.max_retry_attempts},
          {"maxEventAgeSeconds", d.max_event_age_seconds},
          {"matchedMs", d.matched_ms},   {"nextAttemptMs", d.next_attempt_ms},
          {"lastError", d.last_error}};
}

DeliveryRecord FromRow(const store::ResourceRow& row) {
  DeliveryRecord d;
  const json& j = row.doc.is_object() ? row.doc : json::object();
  d.id = row.id;
  d.rule_arn = j.value("ruleArn", "");
  d.target_id = j.value("targetId", "");
  d.target_arn = j.value("targetArn", "");
  d.dead_letter_arn = j.value("deadLetterArn", "");
  d.event_id = j.value("eventId", "");
  d.account = j.value("account", "");
  d.region = j.value("region", "");
  d.input = j.value("input", "");
  d.attempts = j.value("attempts", 0);
  d.max_retry_attempts = j.value("maxRetryAttempts", kDefaultMaxRetryAttempts);
  d.max_event_age_seconds = j.value("maxEventAgeSeconds", kDefaultMaxEventAgeSeconds);
  d.matched_ms = j.value("matchedMs", int64_t{0});
  d.next_attempt_ms = j.value("nextAttemptMs", int64_t{0});
  d.last_error = j.value("lastError", "");
  return d;
}

store::ResourceRow Row(const char* kind, const DeliveryRecord& d, int64_t created_ms) {
  store::ResourceRow row;
  row.kind = kind;
  row.id = row.name = d.id;
  row.arn = d.target_arn;
  row.status = kind == std::string(kFailedDeliveryKind) ? "failed" : "pending";
  row.created_ms = created_ms;
  row.doc = ToDoc(d);
  return row;
}

bool IsScheduledEvent(const store::OutboxEvent& e) {
  return e.source == "aws.events" && e.detail_type == "Scheduled Event" && e.resources.size() == 1;
}

}  // namespace

EventDispatcher::EventDispatcher(store::MetadataStore* store, EventsBackend* backend,
                                 const DelivererRegistry* deliverers, Clock* clock, DispatcherOptions options)
    : store_(store), backend_(backend), deliverers_(deliverers), clock_(clock), options_(options) {}

Result<size_t> EventDispatcher::MatchNew() {
  Result<int64_t> cursor = store_->Cursor(kDispatcherCursor);
  if (!cursor.ok()) return cursor.status();
  size_t consumed = 0;
  for (;;) {
    Result<std::vector<store::OutboxEvent>> events = store_->EventsAfter(*cursor, options_.events_per_batch);
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    Result<std::shared_ptr<const RuleSet>> rules = backend_->EnabledRules();
    if (!rules.ok()) return rules.status();
    const int64_t now = clock_->NowMs();
    store::WriteBatch batch;
    for (const store::OutboxEvent& event : *events) {
      const json envelope = Envelope(event);
      std::vector<const CompiledRule*> matched;
      if (IsScheduledEvent(event)) {
        // A schedule's event goes to its own rule only, as AWS invokes a scheduled rule's targets.
        auto it = (*rules)->by_arn.find(event.resources[0]);
        if (it != (*rules)->by_arn.end() && (*rules)->rules[it->second].schedule) matched.push_back(&(*rules)->rules[it->second]);
      } else {
        const std::string bus = event.event_bus.empty() ? kDefaultBus : event.event_bus;
        auto it = (*rules)->by_bus.find(RuleSet::BusKey(event.account, event.region, bus));
        if (it != (*rules)->by_bus.end())
          for (size_t index : it->second) {
            const CompiledRule& rule = (*rules)->rules[index];
            if (rule.pattern && rule.pattern->Matches(envelope)) matched.push_back(&rule);
          }
      }
      for (const CompiledRule* rule : matched)
        for (const Target& target : rule->rule.targets) {
          DeliveryRecord d;
          d.id = NewResourceId(20);
          d.rule_arn = rule->rule.arn;
          d.target_id = target.id;
          d.target_arn = target.arn;
          d.dead_letter_arn = target.dead_letter_arn;
          d.event_id = envelope["id"].get<std::string>();
          d.account = event.account;
          d.region = event.region;
          d.input = TransformInput(target, envelope, rule->rule.arn, rule->rule.name, now);
          if (target.retry_policy) {
            d.max_retry_attempts = target.retry_policy->max_retry_attempts;
            d.max_event_age_seconds = target.retry_policy->max_event_age_seconds;
          }
          d.matched_ms = now;
          d.next_attempt_ms = now;
          batch.inserts.push_back(Row(kPendingDeliveryKind, d, now));
        }
    }
    // The deliveries and the cursor past their events: one transaction.
    batch.cursor = std::make_pair(std::string(kDispatcherCursor), events->back().seq);
    LATHE_RETURN_IF_ERROR(store_->Write(batch));
    if (!batch.inserts.empty()) rescan_ = true;
    *cursor = events->back().seq;
    consumed += events->size();
    if (events->size() < options_.events_per_batch) break;
  }
  return consumed;
}

Status EventDispatcher::Attempt(store::ResourceRow row, int64_t now, size_t* delivered) {
  DeliveryRecord d = FromRow(row);
  Delivery delivery;
  delivery.target_arn = d.target_arn;
  delivery.input = d.input;
  delivery.rule_arn = d.rule_arn;
  delivery.event_id = d.event_id;
  delivery.account = d.account;
  delivery.region = d.region;
  Status s = deliverers_->Deliver(delivery);
  if (s.ok()) {
    ++*delivered;
    return store_->Delete(kPendingDeliveryKind, d.id);
  }
  ++d.attempts;
  d.last_error = s.message();
  const int shift = std::min(d.attempts - 1, 30);
  const int64_t backoff = std::min(options_.max_backoff_ms, options_.first_backoff_ms << shift);
  const int64_t age_limit = d.matched_ms + int64_t{d.max_event_age_seconds} * 1000;
  if (d.attempts > d.max_retry_attempts || now + backoff > age_limit) {
    d.next_attempt_ms = now;
    spdlog::warn("EventBridge gave up delivering event {} of rule {} to {} after {} attempt(s): {}", d.event_id,
                 d.rule_arn, d.target_arn, d.attempts, d.last_error);
    store::WriteBatch batch;
    batch.deletes.emplace_back(kPendingDeliveryKind, d.id);
    batch.inserts.push_back(Row(kFailedDeliveryKind, d, now));
    return store_->Write(batch);
  }
  d.next_attempt_ms = now + backoff;
  next_due_ms_ = std::min(next_due_ms_, d.next_attempt_ms);
  row.doc = ToDoc(d);
  return store_->Update(row);
}

Result<size_t> EventDispatcher::DeliverDue() {
  const int64_t now = clock_->NowMs();
  if (!rescan_ && now < next_due_ms_) return size_t{0};
  rescan_ = false;
  next_due_ms_ = std::numeric_limits<int64_t>::max();
  store::MetadataStore::ListFilter filter;
  filter.limit = options_.deliveries_per_pass;
  Result<std::vector<store::ResourceRow>> rows = store_->List(kPendingDeliveryKind, filter);
  if (!rows.ok()) {
    rescan_ = true;
    return rows.status();
  }
  if (rows->size() == options_.deliveries_per_pass) rescan_ = true;  // more than one pass holds
  size_t delivered = 0;
  for (store::ResourceRow& row : *rows) {
    const int64_t due = row.doc.is_object() ? row.doc.value("nextAttemptMs", int64_t{0}) : 0;
    if (due > now) {
      next_due_ms_ = std::min(next_due_ms_, due);
      continue;
    }
    if (Status s = Attempt(std::move(row), now, &delivered); !s.ok()) {
      rescan_ = true;  // what was not recorded is tried again at the next pass
      return s;
    }
  }
  return delivered;
}

Status EventDispatcher::RunOnce() {
  Result<size_t> matched = MatchNew();
  if (!matched.ok()) return matched.status();
  return DeliverDue().status();
}

Result<std::vector<DeliveryRecord>> ListPendingDeliveries(store::MetadataStore* store, size_t limit) {
  store::MetadataStore::ListFilter filter;
  filter.limit = limit;
  Result<std::vector<store::ResourceRow>> rows = store->List(kPendingDeliveryKind, filter);
  if (!rows.ok()) return rows.status();
  std::vector<DeliveryRecord> out;
  for (const auto& row : *rows) out.push_back(FromRow(row));
  return out;
}

Result<std::vector<DeliveryRecord>> ListFailedDeliveries(store::MetadataStore* store, size_t limit) {
  store::MetadataStore::ListFilter filter;
  filter.limit = limit;
  filter.descending = true;
  Result<std::vector<store::ResourceRow>> rows = store->List(kFailedDeliveryKind, filter);
  if (!rows.ok()) return rows.status();
  std::vector<DeliveryRecord> out;
  for (const auto& row : *rows) out.push_back(FromRow(row));
  return out;
}

}  // namespace lathe::events
