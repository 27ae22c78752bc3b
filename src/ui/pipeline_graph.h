// The Pipelines page's picture of a state machine: its top-level states laid out in layers (a
// small Sugiyama-style layout of lathe's own: back edges found by depth-first search from StartAt,
// layers by longest path over the rest, order within a layer by barycentre sweeps), drawn as SVG
// by the page; and each state's progress in an execution, read from its history. Pure functions.
// Parallel and Map states are one node each (their branches are listed beside the graph).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/execution_store.h"

namespace lathe::ui {

inline constexpr size_t kMaxGraphStates = 500;
inline constexpr double kNodeWidth = 180, kNodeHeight = 44, kColumnGap = 36, kLayerGap = 64;

struct GraphNode {
  std::string name, type;
  int layer = 0;
  double x = 0, y = 0;  // top-left corner
  bool start = false, end = false;
};

struct GraphEdge {
  std::string from, to, label;  // label: "", "default", "catch", "rule 1", ...
  bool back = false;            // goes to an earlier layer (a loop)
};

struct Graph {
  std::vector<GraphNode> nodes;  // by layer, then position
  std::vector<GraphEdge> edges;
  double width = 0, height = 0;
};

// The layout of a definition's top-level states. InvalidArgument when it has no States object,
// names a StartAt that is not one, or holds more than kMaxGraphStates states.
Result<Graph> LayoutStateMachine(const nlohmann::json& definition);
nlohmann::json GraphJson(const Graph& graph);

// What each state did in an execution, by name: "running", "succeeded", "failed" (a state that
// failed and was retried or caught shows its last outcome); states never entered are absent.
// `execution_status` ends states still running (FAILED, TIMED_OUT, ABORTED -> "failed").
std::map<std::string, std::string> StateProgress(const std::vector<store::HistoryRecord>& history,
                                                 const std::string& execution_status);

}  // namespace lathe::ui
