// A node's heartbeat into the shared store (store/nodes.h): a thread that writes the node's row
// at once and then every `period`, so `lathe status` shows it alive. `lathe serve` runs one with
// role "api" (server/lathe_server.cc); `lathe worker` runs one with role "worker" and tells it,
// through set_detail, which item it works on. A failed beat is logged (once until one succeeds)
// and retried at the next period: the store being away for a while must not stop the node.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/status.h"
#include "store/nodes.h"

namespace lathe::service {

// How often nodes beat, and how long `lathe status` waits before calling a silent node stale
// (three beats missed).
inline constexpr std::chrono::milliseconds kNodeHeartbeatPeriod{10000};
inline constexpr std::chrono::milliseconds kNodeStaleAfter{30000};

class NodeHeartbeat {
 public:
  // `registry` outlives the heartbeat. `node.started_ms` 0: now.
  NodeHeartbeat(store::NodeRegistry* registry, store::NodeInfo node,
                std::chrono::milliseconds period = kNodeHeartbeatPeriod);
  ~NodeHeartbeat();  // Stop()
  NodeHeartbeat(const NodeHeartbeat&) = delete;
  NodeHeartbeat& operator=(const NodeHeartbeat&) = delete;

  // Checks the node's fields (InvalidArgument naming the bad one) and starts the thread, which
  // beats at once.
  Status Start();
  // Ends the thread; with `forget`, removes the node's row, so a node that stopped cleanly is no
  // longer listed (one that died stays, seen longer and longer ago).
  void Stop(bool forget = true);
  // What the node is doing now (a JSON object, store/nodes.h bounds it): written at once.
  void set_detail(nlohmann::json detail);
  // The last beat's outcome (Ok before the first).
  Status last_status() const;
  const store::NodeInfo& node() const { return node_; }

 private:
  void Loop();
  store::NodeRegistry* registry_;
  store::NodeInfo node_;  // detail guarded by mu_
  const std::chrono::milliseconds period_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false, beat_now_ = false;
  Status last_;
  std::thread thread_;
};

// The node's host name (gethostname), "" when it cannot be read.
std::string ThisHostName();

}  // namespace lathe::service
