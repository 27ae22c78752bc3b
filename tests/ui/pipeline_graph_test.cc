// The Pipelines page's layout and per-state progress, as pure functions.
#include <gtest/gtest.h>

#include <set>

#include "ui/pipeline_graph.h"

namespace lathe::ui {
namespace {

using json = nlohmann::json;

const GraphNode& Node(const Graph& g, const std::string& name) {
  for (const auto& n : g.nodes)
    if (n.name == name) return n;
  throw std::runtime_error("no node " + name);
}

// The tutorial's pipeline, in short: validate, train, a choice, evaluate with a catch, notify.
json Pipeline() {
  return json::parse(R"({
    "StartAt": "Validate",
    "States": {
      "Validate": {"Type": "Task", "Resource": "x", "Next": "Train"},
      "Train": {"Type": "Task", "Resource": "x", "Next": "Wait"},
      "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done?"},
      "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "ok", "Next": "Evaluate"},
                                              {"Variable": "$.s", "StringEquals": "bad", "Next": "Failed"}],
                "Default": "Wait"},
      "Evaluate": {"Type": "Task", "Resource": "x", "Next": "Notify",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
      "Notify": {"Type": "Task", "Resource": "x", "End": true},
      "Failed": {"Type": "Fail"},
      "Orphan": {"Type": "Pass", "End": true}
    }})");
}

TEST(PipelineGraphTest, LayersFollowTheLongestPathAndLoopsAreBackEdges) {
  auto g = LayoutStateMachine(Pipeline());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->nodes.size(), 8u);
  EXPECT_TRUE(Node(*g, "Validate").start);
  EXPECT_EQ(Node(*g, "Validate").layer, 0);
  EXPECT_EQ(Node(*g, "Train").layer, 1);
  EXPECT_EQ(Node(*g, "Wait").layer, 2);
  EXPECT_EQ(Node(*g, "Done?").layer, 3);
  EXPECT_EQ(Node(*g, "Evaluate").layer, 4);
  EXPECT_EQ(Node(*g, "Notify").layer, 5);
  EXPECT_EQ(Node(*g, "Failed").layer, 5);  // below both states that lead to it
  EXPECT_TRUE(Node(*g, "Failed").end);
  EXPECT_TRUE(Node(*g, "Notify").end);
  EXPECT_EQ(Node(*g, "Orphan").layer, 0);  // unreachable: laid out on its own
  int back = 0;
  std::set<std::string> labels;
  for (const auto& e : g->edges) {
    labels.insert(e.label);
    if (e.back) {
      ++back;
      EXPECT_EQ(e.from, "Done?");
      EXPECT_EQ(e.to, "Wait");
      EXPECT_EQ(e.label, "default");
    } else {
      EXPECT_LT(Node(*g, e.from).layer, Node(*g, e.to).layer) << e.from << " -> " << e.to;
    }
  }
  EXPECT_EQ(back, 1);
  EXPECT_EQ(labels, (std::set<std::string>{"", "rule 1", "rule 2", "default", "catch"}));
}

TEST(PipelineGraphTest, NodesOfALayerDoNotOverlapAndFitTheDrawing) {
  auto g = LayoutStateMachine(Pipeline());
  ASSERT_TRUE(g.ok());
  for (const auto& a : g->nodes) {
    EXPECT_GE(a.x, 0);
    EXPECT_LE(a.x + kNodeWidth, g->width + 1e-9);
    EXPECT_LE(a.y + kNodeHeight, g->height + 1e-9);
    for (const auto& b : g->nodes)
      if (&a != &b && a.layer == b.layer) EXPECT_GE(std::abs(a.x - b.x), kNodeWidth + kColumnGap - 1e-9);
  }
  const json j = GraphJson(*g);
  EXPECT_EQ(j["nodes"].size(), 8u);
  EXPECT_EQ(j["edges"].size(), g->edges.size());
}

TEST(PipelineGraphTest, BadDefinitionsAreRefused) {
  EXPECT_FALSE(LayoutStateMachine(json::object()).ok());
  EXPECT_FALSE(LayoutStateMachine(json::parse(R"({"StartAt": "X", "States": {"A": {"Type": "Pass", "End": true}}})")).ok());
  EXPECT_FALSE(LayoutStateMachine(json::parse(R"({"StartAt": "A", "States": []})")).ok());
  json big = {{"StartAt", "s0"}, {"States", json::object()}};
  for (int i = 0; i <= static_cast<int>(kMaxGraphStates); ++i)
    big["States"]["s" + std::to_string(i)] = {{"Type", "Pass"}, {"Next", "s" + std::to_string(i + 1)}};
  EXPECT_FALSE(LayoutStateMachine(big).ok());
  // A Next to a state that is not there is drawn without that edge (the validator reports it).
  auto g = LayoutStateMachine(json::parse(R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})"));
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->edges.empty());
}

store::HistoryRecord H(int64_t id, const std::string& type, const std::string& name = "") {
  store::HistoryRecord h;
  h.id = id;
  h.type = type;
  if (!name.empty()) h.details = {{"name", name}};
  return h;
}

TEST(PipelineGraphTest, ProgressComesFromTheHistory) {
  std::vector<store::HistoryRecord> h = {H(1, "ExecutionStarted"), H(2, "TaskStateEntered", "Validate"),
                                         H(3, "TaskScheduled"), H(4, "TaskSucceeded"), H(5, "TaskStateExited", "Validate"),
                                         H(6, "TaskStateEntered", "Train"), H(7, "TaskScheduled")};
  auto p = StateProgress(h, "RUNNING");
  EXPECT_EQ(p["Validate"], "succeeded");
  EXPECT_EQ(p["Train"], "running");
  EXPECT_EQ(p.count("Notify"), 0u);
  // A failure retried into a success is a success.
  h.push_back(H(8, "TaskFailed"));
  h.push_back(H(9, "TaskScheduled"));
  h.push_back(H(10, "TaskSucceeded"));
  h.push_back(H(11, "TaskStateExited", "Train"));
  EXPECT_EQ(StateProgress(h, "RUNNING")["Train"], "succeeded");
  // A failure caught into another state: failed, and the next one runs.
  h.push_back(H(12, "TaskStateEntered", "Evaluate"));
  h.push_back(H(13, "TaskFailed"));
  h.push_back(H(14, "FailStateEntered", "Failed"));
  p = StateProgress(h, "RUNNING");
  EXPECT_EQ(p["Evaluate"], "failed");
  EXPECT_EQ(p["Failed"], "running");
  h.push_back(H(15, "ExecutionFailed"));
  EXPECT_EQ(StateProgress(h, "FAILED")["Failed"], "failed");
}

TEST(PipelineGraphTest, ASucceedStateIsDoneWhenTheExecutionSucceeds) {
  // A Succeed state records its entry and then the execution's end, never an exit of its own.
  std::vector<store::HistoryRecord> h = {H(1, "ExecutionStarted"), H(2, "PassStateEntered", "Prepare"),
                                         H(3, "PassStateExited", "Prepare"), H(4, "SucceedStateEntered", "Finish")};
  EXPECT_EQ(StateProgress(h, "RUNNING")["Finish"], "running");
  h.push_back(H(5, "ExecutionSucceeded"));
  auto p = StateProgress(h, "SUCCEEDED");
  EXPECT_EQ(p["Finish"], "succeeded");
  EXPECT_EQ(p["Prepare"], "succeeded");
}

}  // namespace
}  // namespace lathe::ui
