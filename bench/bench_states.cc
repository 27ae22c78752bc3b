// Step Functions' executor: state transitions per second on a 1,000-state Pass chain and on a Map
// of 10,000 items (one Pass state per iteration), and the p50/p99 latency from StartExecution to
// ExecutionSucceeded for a 3-state machine (Pass -> Task on an integration that answers at once
// -> Pass). Issue #13's target: >= 2,000 transitions/s with durability on.
//
// Durability on means lathe.db on disk (WAL), every transition committed with its history
// (Pass chains in bounded batches). The peer, measured in the same run, is the same executor over
// an in-memory SQLite database: the ratio is what durability costs.
//
//   build/bench/bench_states [LATENCY_RUNS]      (prints one JSON line last)
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asl/definition.h"
#include "services/events/clock.h"
#include "services/states/executor.h"
#include "store/execution_store.h"

using json = nlohmann::json;
using namespace lathe;  // NOLINT

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

class Echo : public states::TaskIntegration {
 public:
  bool Supports(const std::string&, const std::string&) const override { return true; }
  states::TaskOutcome Start(const states::TaskCall& call) override {
    return states::TaskOutcome::Success({{"StatusCode", 200}, {"Payload", call.parameters.value("Payload", json())}});
  }
};

// One executor over one database, and a count of outbox events (two per execution: RUNNING and
// its end) that the bench waits on.
struct Rig {
  std::unique_ptr<store::MetadataStore> db;
  std::unique_ptr<store::ExecutionStore> executions;
  events::SystemClock clock;
  Echo echo;
  states::IntegrationRegistry registry;
  std::unique_ptr<states::Executor> executor;
  std::mutex mu;
  std::condition_variable cv;
  int64_t published = 0;
  int serial = 0;

  explicit Rig(const std::string& path) {
    auto d = store::MetadataStore::Open(path);
    if (!d.ok()) {
      std::fprintf(stderr, "%s\n", d.status().ToString().c_str());
      std::exit(1);
    }
    db = std::move(*d);
    db->set_publish_listener([this] {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++published;
      }
      cv.notify_all();
    });
    executions = std::move(*store::ExecutionStore::Open(db.get()));
    registry.Add("lambda", &echo);
    states::ExecutorOptions options;
    options.wait_time_scale = 0;
    // The Map of 10,000 items writes about 40,000 history events, past AWS's (and lathe's
    // default) 25,000; the bench measures the executor, not the limit.
    options.max_history_events = 1000000;
    executor = std::make_unique<states::Executor>(executions.get(), &registry, &clock, options);
    if (!executor->Start().ok()) std::exit(1);
  }

  // Runs one execution to its end; answers the seconds from StartExecution to its end event.
  double Run(const std::string& definition, const std::shared_ptr<const asl::StateMachine>& machine,
             const std::string& input) {
    int64_t target;
    {
      std::lock_guard<std::mutex> lock(mu);
      target = published + 2;
    }
    states::ExecutionStart start;
    start.state_machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:bench";
    start.name = "run-" + std::to_string(++serial);
    start.execution_arn = "arn:aws:states:us-east-1:000000000000:execution:bench:" + start.name;
    start.definition = definition;
    start.machine = machine;
    start.input = input;
    const auto t0 = Clock::now();
    auto r = executor->StartExecution(start);
    if (!r.ok()) {
      std::fprintf(stderr, "StartExecution: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return published >= target; });
    const double s = Seconds(t0, Clock::now());
    lock.unlock();
    auto rec = executions->Get(start.execution_arn);
    if (!rec.ok() || rec->status != "SUCCEEDED") {
      std::fprintf(stderr, "execution did not succeed: %s\n", rec.ok() ? rec->doc.dump().c_str() : "missing");
      std::exit(1);
    }
    return s;
  }
};

std::shared_ptr<const asl::StateMachine> Parse(const std::string& text) {
  auto parsed = asl::ParseDefinition(text);
  if (!parsed.machine) {
    std::fprintf(stderr, "bad definition: %s\n", asl::InvalidDefinitionMessage(parsed.diagnostics).c_str());
    std::exit(1);
  }
  return parsed.machine;
}

std::string PassChain(int n) {
  json states = json::object();
  for (int i = 0; i < n; ++i) {
    json s = {{"Type", "Pass"}, {"Result", i}, {"ResultPath", "$.last"}};
    if (i + 1 < n) s["Next"] = "S" + std::to_string(i + 1);
    else s["End"] = true;
    states["S" + std::to_string(i)] = s;
  }
  return json{{"StartAt", "S0"}, {"States", states}}.dump();
}

std::string MapMachine() {
  return json{{"StartAt", "M"},
              {"States",
               {{"M", {{"Type", "Map"},
                       {"ItemsPath", "$.items"},
                       {"ItemProcessor", {{"StartAt", "P"}, {"States", {{"P", {{"Type", "Pass"}, {"End", true}}}}}}},
                       {"ResultPath", json()},
                       {"End", true}}}}}}
      .dump();
}

std::string ThreeStates() {
  return json{{"StartAt", "Prepare"},
              {"States",
               {{"Prepare", {{"Type", "Pass"}, {"Parameters", {{"bucket.$", "$.bucket"}, {"key", "k"}}}, {"Next", "Call"}}},
                {"Call", {{"Type", "Task"},
                          {"Resource", "arn:aws:states:::lambda:invoke"},
                          {"Parameters", {{"FunctionName", "validate"}, {"Payload.$", "$"}}},
                          {"ResultPath", "$.result"},
                          {"Next", "Done"}}},
                {"Done", {{"Type", "Succeed"}}}}}}
      .dump();
}

struct Numbers {
  double chain_tps = 0, map_tps = 0, p50_ms = 0, p99_ms = 0;
};

Numbers Measure(Rig& rig, int latency_runs) {
  Numbers n;
  const std::string chain = PassChain(1000);
  const auto chain_machine = Parse(chain);
  rig.Run(chain, chain_machine, "{}");  // warm-up
  double best = 1e9;
  for (int i = 0; i < 3; ++i) best = std::min(best, rig.Run(chain, chain_machine, "{}"));
  n.chain_tps = 1000 / best;

  const std::string map = MapMachine();
  const auto map_machine = Parse(map);
  json items = json::array();
  for (int i = 0; i < 10000; ++i) items.push_back({{"i", i}});
  const std::string map_input = json{{"items", items}}.dump();
  // Transitions: each iteration's Pass state, plus the Map state itself.
  n.map_tps = 10001 / rig.Run(map, map_machine, map_input);

  const std::string three = ThreeStates();
  const auto three_machine = Parse(three);
  std::vector<double> lat;
  for (int i = 0; i < latency_runs; ++i) lat.push_back(rig.Run(three, three_machine, R"({"bucket":"b"})") * 1000);
  std::sort(lat.begin(), lat.end());
  n.p50_ms = lat[lat.size() / 2];
  n.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const int latency_runs = argc > 1 ? std::max(10, std::atoi(argv[1])) : 300;
  char dir_template[] = "/tmp/bench_states.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) return 1;
  Numbers disk, memory;
  {
    Rig rig(std::string(dir) + "/lathe.db");
    disk = Measure(rig, latency_runs);
  }
  {
    Rig rig(":memory:");
    memory = Measure(rig, latency_runs);
  }
  std::system((std::string("rm -rf ") + dir).c_str());
  std::printf("%-44s %12s %12s %8s\n", "", "lathe.db", "in-memory", "ratio");
  std::printf("%-44s %12.0f %12.0f %8.2f\n", "1,000-state Pass chain, transitions/s", disk.chain_tps, memory.chain_tps,
              disk.chain_tps / memory.chain_tps);
  std::printf("%-44s %12.0f %12.0f %8.2f\n", "Map of 10,000 items, transitions/s", disk.map_tps, memory.map_tps,
              disk.map_tps / memory.map_tps);
  std::printf("%-44s %12.2f %12.2f %8.2f\n", "3-state machine, start to end p50 (ms)", disk.p50_ms, memory.p50_ms,
              disk.p50_ms / memory.p50_ms);
  std::printf("%-44s %12.2f %12.2f %8.2f\n", "3-state machine, start to end p99 (ms)", disk.p99_ms, memory.p99_ms,
              disk.p99_ms / memory.p99_ms);
  std::printf("target: >= 2,000 transitions/s durable: chain %s, map %s\n", disk.chain_tps >= 2000 ? "met" : "NOT met",
              disk.map_tps >= 2000 ? "met" : "NOT met");
  std::printf("%s\n", json{{"chain_tps", disk.chain_tps},
                           {"chain_tps_memory", memory.chain_tps},
                           {"map_tps", disk.map_tps},
                           {"map_tps_memory", memory.map_tps},
                           {"p50_ms", disk.p50_ms},
                           {"p99_ms", disk.p99_ms},
                           {"p99_ms_memory", memory.p99_ms}}
                          .dump()
                          .c_str());
  return 0;
}
