// Feeds arbitrary bytes to the state machine definition validator (and, for the definitions that
// pass, to the choice rules and resource parser): it must never crash, leak, hang or allocate
// without bound, and every diagnostic must be printable as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "asl/choice.h"
#include "asl/definition.h"

namespace {

// Walks a parsed machine, evaluating each choice rule against a small input: missing paths,
// wrong types and nested rules all reach Evaluate.
void Exercise(const lathe::asl::StateMachine& machine, const nlohmann::json& input, int depth) {
  if (depth > 64) return;
  for (const auto& [name, state] : machine.states) {
    for (const auto& rule : state.choices) (void)lathe::asl::Evaluate(rule, input, input);
    if (!state.resource.empty()) (void)lathe::asl::ParseTaskResource(state.resource);
    for (const auto& branch : state.branches) Exercise(*branch, input, depth + 1);
    if (state.item_processor) Exercise(*state.item_processor, input, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  lathe::asl::ParsedDefinition parsed = lathe::asl::ParseDefinition(text);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : parsed.diagnostics) out.push_back({d.severity, d.code, d.message, d.location});
  // Throws (and so crashes the fuzzer) if a message or location carries invalid UTF-8.
  (void)out.dump();
  (void)lathe::asl::InvalidDefinitionMessage(parsed.diagnostics);
  if (parsed.machine) {
    nlohmann::json input = {{"a", 1}, {"s", "text"}, {"t", "2026-01-01T00:00:00Z"}, {"o", {{"b", true}}}};
    Exercise(*parsed.machine, input, 0);
  }
  (void)lathe::asl::StringMatches(text.substr(0, size / 2), text.substr(size / 2));
  return 0;
}
