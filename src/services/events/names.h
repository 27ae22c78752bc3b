// The shapes of EventBridge's names and ids, checked as the model's constraints say (lengths
// before character classes, never a regular expression on request data), and the ids and
// envelopes of events.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "aws/json_members.h"
#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::events {

// RuleName, TargetId: 1-64 of [.\-_A-Za-z0-9]. `member` names the field in the message.
Status CheckRuleName(std::string_view value, const std::string& member);
Status CheckTargetId(std::string_view value, const std::string& member);
// EventBusName for CreateEventBus: 1-256 of [.\-_A-Za-z0-9] (partner buses, with '/', are not served).
Status CheckBusName(std::string_view value, const std::string& member);

// Lengths and quoting as AWS words them (aws/json_members.h).
using aws::CheckLength;
using aws::Quoted;

// A fresh event id: 8-4-4-4-12 lower-case hex, as AWS's.
std::string NewEventId();
// The id an outbox event is delivered with: its own, or one derived from its seq (the same after
// a restart, so a redelivery carries the id of the first delivery).
std::string EventIdOf(const store::OutboxEvent& event);

// AWS's event envelope: {"version": "0", "id", "detail-type", "source", "account", "time"
// (ISO-8601, seconds), "region", "resources", "detail"}.
nlohmann::json Envelope(const store::OutboxEvent& event);
// ISO-8601 UTC without fractions, as EventBridge writes "time": 2026-11-28T09:15:02Z.
std::string EventTime(int64_t millis);

}  // namespace lathe::events
