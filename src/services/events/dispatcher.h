// EventBridge's delivery, durable and at least once. The dispatcher reads the store's outbox
// after its cursor (S3's and Bedrock's events, PutEvents, scheduled events), matches each event
// against the enabled rules of its bus, and records one pending delivery per (rule, target) —
// the target's input already transformed — in the same transaction that moves its cursor past
// the event. Then it delivers what is due through the target service's TargetDeliverer; a
// failure is retried with exponential back-off under the target's RetryPolicy (attempts, maximum
// event age), and what still fails becomes a dead-letter record (kind "events-failed") that
// `lathe events failed` lists. A crash between matching and delivery loses nothing: the pending
// rows are delivered after the restart; a crash after delivery but before the row is removed
// delivers it again (at least once).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "services/events/backend.h"
#include "services/events/clock.h"
#include "services/events/deliverers.h"
#include "store/metadata_store.h"

namespace lathe::events {

inline constexpr const char* kPendingDeliveryKind = "events-delivery";
inline constexpr const char* kFailedDeliveryKind = "events-failed";
inline constexpr const char* kDispatcherCursor = "events-dispatcher";

struct DispatcherOptions {
  size_t events_per_batch = 100;        // outbox events matched per transaction
  size_t deliveries_per_pass = 1000;    // pending rows read per pass
  int64_t first_backoff_ms = 1000;      // back-off after the first failure, doubled after each
  int64_t max_backoff_ms = 5 * 60 * 1000;
};

// A delivery waiting for its (next) attempt, or one that failed for good.
struct DeliveryRecord {
  std::string id;
  std::string rule_arn, target_id, target_arn, dead_letter_arn;
  std::string event_id, account, region;
  std::string input;
  int attempts = 0;
  int max_retry_attempts = kDefaultMaxRetryAttempts;
  int max_event_age_seconds = kDefaultMaxEventAgeSeconds;
  int64_t matched_ms = 0;       // when the event was matched: its age counts from here
  int64_t next_attempt_ms = 0;  // pending: when it is tried next; failed: when it failed
  std::string last_error;
};

class EventDispatcher {
 public:
  // All outlive the dispatcher.
  EventDispatcher(store::MetadataStore* store, EventsBackend* backend, const DelivererRegistry* deliverers,
                  Clock* clock, DispatcherOptions options = {});

  // Matches every outbox event after the cursor; answers how many events it consumed.
  Result<size_t> MatchNew();
  // Attempts every pending delivery that is due now; answers how many were delivered.
  Result<size_t> DeliverDue();
  // Both, in that order.
  Status RunOnce();

 private:
  Status Attempt(store::ResourceRow row, int64_t now, size_t* delivered);

  store::MetadataStore* store_;
  EventsBackend* backend_;
  const DelivererRegistry* deliverers_;
  Clock* clock_;
  DispatcherOptions options_;
  // The earliest next attempt seen by the last pass; no pass is made before it unless new
  // deliveries were recorded (only this dispatcher records them).
  int64_t next_due_ms_ = 0;
  bool rescan_ = true;
};

// Pending deliveries, oldest first, and dead-letter records, newest first (at most `limit`; 0: all).
Result<std::vector<DeliveryRecord>> ListPendingDeliveries(store::MetadataStore* store, size_t limit = 0);
Result<std::vector<DeliveryRecord>> ListFailedDeliveries(store::MetadataStore* store, size_t limit = 0);

}  // namespace lathe::events
