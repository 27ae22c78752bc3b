#include "ui/pipeline_graph.h"

#include <algorithm>
#include <functional>
#include <set>

#include "ui/json_fields.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string NextOf(const json& j) {
  return j.is_object() && j.contains("Next") && j["Next"].is_string() ? j["Next"].get<std::string>() : "";
}

// The transitions out of one state, in the order the definition lists them.
std::vector<GraphEdge> EdgesOf(const std::string& name, const json& state) {
  std::vector<GraphEdge> out;
  if (std::string next = NextOf(state); !next.empty()) out.push_back({name, next, ""});
  if (state.contains("Choices") && state["Choices"].is_array()) {
    int i = 0;
    for (const auto& rule : state["Choices"])
      if (std::string next = NextOf(rule); !next.empty()) out.push_back({name, next, "rule " + std::to_string(++i)});
  }
  if (state.contains("Default") && state["Default"].is_string()) out.push_back({name, state["Default"], "default"});
  if (state.contains("Catch") && state["Catch"].is_array())
    for (const auto& c : state["Catch"])
      if (std::string next = NextOf(c); !next.empty()) out.push_back({name, next, "catch"});
  return out;
}

}  // namespace

Result<Graph> LayoutStateMachine(const json& definition) {
  if (!definition.is_object() || !definition.contains("States") || !definition["States"].is_object())
    return Status::InvalidArgument("the definition has no States object");
  const json& states = definition["States"];
  if (states.size() > kMaxGraphStates)
    return Status::InvalidArgument("the definition has more than " + std::to_string(kMaxGraphStates) + " states");
  const std::string start = StringField(definition, "StartAt");
  if (!states.contains(start)) return Status::InvalidArgument("StartAt names no state");

  // Depth-first from StartAt (then from any state not reached), successors in definition order:
  // an edge to a state still on the stack is a back edge; post-order reversed is a topological
  // order of the rest.
  std::map<std::string, std::vector<GraphEdge>> out;
  for (auto it = states.begin(); it != states.end(); ++it) out[it.key()] = EdgesOf(it.key(), it.value());
  std::map<std::string, int> mark;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> post, discovery;
  std::vector<GraphEdge> edges;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    mark[n] = 1;
    discovery.push_back(n);
    for (GraphEdge e : out[n]) {
      if (!states.contains(e.to)) continue;  // a Next to nowhere: the definition's validator says so
      e.back = mark[e.to] == 1;
      edges.push_back(e);
      if (mark[e.to] == 0) visit(e.to);
    }
    mark[n] = 2;
    post.push_back(n);
  };
  visit(start);
  for (auto it = states.begin(); it != states.end(); ++it)
    if (mark[it.key()] == 0) visit(it.key());

  // Layers: the longest path over forward edges.
  std::map<std::string, int> layer;
  for (auto it = post.rbegin(); it != post.rend(); ++it) layer.emplace(*it, 0);
  for (auto it = post.rbegin(); it != post.rend(); ++it)
    for (const GraphEdge& e : edges)
      if (e.from == *it && !e.back) layer[e.to] = std::max(layer[e.to], layer[*it] + 1);
  int layers = 0;
  for (const auto& [n, l] : layer) layers = std::max(layers, l + 1);
  std::vector<std::vector<std::string>> rows(layers);
  for (const std::string& n : discovery) rows[layer[n]].push_back(n);

  // Order within layers: barycentres of the neighbours in the layer above (down sweeps) and
  // below (up sweeps), a few times; ties keep the discovery order.
  std::map<std::string, double> pos;
  auto number = [&] {
    for (const auto& row : rows)
      for (size_t i = 0; i < row.size(); ++i) pos[row[i]] = static_cast<double>(i);
  };
  number();
  auto sweep = [&](int l, bool down) {
    std::map<std::string, double> bary;
    for (const std::string& n : rows[l]) {
      double sum = 0;
      int count = 0;
      for (const GraphEdge& e : edges) {
        if (e.back) continue;
        const std::string& other = down ? e.from : e.to;
        if ((down ? e.to : e.from) == n && layer[other] == l + (down ? -1 : 1)) {
          sum += pos[other];
          ++count;
        }
      }
      bary[n] = count ? sum / count : pos[n];
    }
    std::stable_sort(rows[l].begin(), rows[l].end(), [&](const auto& a, const auto& b) { return bary[a] < bary[b]; });
    for (size_t i = 0; i < rows[l].size(); ++i) pos[rows[l][i]] = static_cast<double>(i);
  };
  for (int pass = 0; pass < 4; ++pass) {
    for (int l = 1; l < layers; ++l) sweep(l, true);
    for (int l = layers - 2; l >= 0; --l) sweep(l, false);
  }

  Graph g;
  size_t widest = 0;
  for (const auto& row : rows) widest = std::max(widest, row.size());
  g.width = widest * kNodeWidth + (widest > 0 ? (widest - 1) * kColumnGap : 0);
  g.height = layers * kNodeHeight + (layers > 0 ? (layers - 1) * kLayerGap : 0);
  for (int l = 0; l < layers; ++l) {
    const double row_width = rows[l].size() * kNodeWidth + (rows[l].size() - 1) * kColumnGap;
    for (size_t i = 0; i < rows[l].size(); ++i) {
      const json& s = states[rows[l][i]];
      GraphNode node;
      node.name = rows[l][i];
      node.type = StringField(s, "Type");
      node.layer = l;
      node.x = (g.width - row_width) / 2 + i * (kNodeWidth + kColumnGap);
      node.y = l * (kNodeHeight + kLayerGap);
      node.start = node.name == start;
      node.end = BoolField(s, "End") || node.type == "Succeed" || node.type == "Fail";
      g.nodes.push_back(std::move(node));
    }
  }
  g.edges = std::move(edges);
  return g;
}

json GraphJson(const Graph& g) {
  json nodes = json::array(), edges = json::array();
  for (const auto& n : g.nodes)
    nodes.push_back({{"name", n.name}, {"type", n.type}, {"layer", n.layer}, {"x", n.x}, {"y", n.y},
                     {"width", kNodeWidth}, {"height", kNodeHeight}, {"start", n.start}, {"end", n.end}});
  for (const auto& e : g.edges) edges.push_back({{"from", e.from}, {"to", e.to}, {"label", e.label}, {"back", e.back}});
  return {{"nodes", nodes}, {"edges", edges}, {"width", g.width}, {"height", g.height}};
}

std::map<std::string, std::string> StateProgress(const std::vector<store::HistoryRecord>& history,
                                                 const std::string& execution_status) {
  std::map<std::string, std::string> status;
  std::set<std::string> failed_inside;  // a task of the state failed since it was entered
  std::vector<std::string> open;        // entered and not exited, most recent last
  for (const auto& h : history) {
    const std::string name = h.details.is_object() ? StringField(h.details, "name") : "";
    if (EndsWith(h.type, "StateEntered") && !name.empty()) {
      // A state whose task failed and that is left without an exit was caught: it failed.
      for (auto it = open.begin(); it != open.end();)
        if (failed_inside.count(*it)) {
          status[*it] = "failed";
          it = open.erase(it);
        } else {
          ++it;
        }
      status[name] = "running";
      failed_inside.erase(name);
      open.push_back(name);
    } else if (EndsWith(h.type, "StateExited") && !name.empty()) {
      status[name] = failed_inside.count(name) ? "failed" : "succeeded";
      open.erase(std::remove(open.begin(), open.end(), name), open.end());
    } else if (!open.empty() && h.type.rfind("Execution", 0) != 0) {
      if (EndsWith(h.type, "Failed") || EndsWith(h.type, "TimedOut")) failed_inside.insert(open.back());
      else if (EndsWith(h.type, "Succeeded")) failed_inside.erase(open.back());
    }
  }
  const bool ended_badly = execution_status == "FAILED" || execution_status == "TIMED_OUT" || execution_status == "ABORTED";
  for (const std::string& name : open)
    if (ended_badly || failed_inside.count(name)) status[name] = "failed";
    else if (execution_status == "SUCCEEDED") status[name] = "succeeded";  // a Succeed state records no exit
  return status;
}

}  // namespace lathe::ui
