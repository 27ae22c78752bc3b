// How rules and buses are kept in the metadata store's documents (lathe's own layout, not the
// wire's): written by the backend, read back by it and by the dispatcher.
#pragma once

#include <nlohmann/json.hpp>

#include "services/events/backend.h"

namespace lathe::events {

inline constexpr const char* kRuleKind = "events-rule";
inline constexpr const char* kBusKind = "events-bus";

nlohmann::json RuleToDoc(const Rule& rule);
Rule RuleFromDoc(const nlohmann::json& doc);
nlohmann::json TargetToDoc(const Target& target);
Target TargetFromDoc(const nlohmann::json& doc);

}  // namespace lathe::events
