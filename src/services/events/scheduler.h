// Scheduled rules: every enabled rule with a ScheduleExpression puts a "Scheduled Event"
// (source aws.events, resources [the rule's ARN], detail {}) into the outbox at each of its
// Schedule::NextAfter times while the server runs; the dispatcher delivers it to that rule's
// targets alone. Times that passed while the server was down are not back-filled: after a start
// a rule fires next at its first time after now (docs/serve.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "services/events/backend.h"
#include "services/events/clock.h"
#include "store/metadata_store.h"

namespace lathe::events {

class EventScheduler {
 public:
  // All outlive the scheduler.
  EventScheduler(store::MetadataStore* store, EventsBackend* backend, Clock* clock)
      : store_(store), backend_(backend), clock_(clock) {}

  // Publishes the events of every schedule whose time has come (once each, however late);
  // answers how many it published.
  Result<size_t> Tick();
  // The earliest time a schedule fires next (-1: none), as of the last Tick.
  int64_t NextFireMs() const;

 private:
  struct Next {
    std::string expression;
    int64_t anchor_ms = 0;
    int64_t fire_ms = -1;  // -1: never again
  };
  store::MetadataStore* store_;
  EventsBackend* backend_;
  Clock* clock_;
  std::map<std::string, Next> next_;  // by rule ARN
};

}  // namespace lathe::events
