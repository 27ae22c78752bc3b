// `lathe serve`'s part in operations (docs/scale-out.md, Operations): while it serves, it beats
// into the store's nodes table as an "api" node (service/node_heartbeat.h), and /metrics carries
// the store's gauges (queue depth, nodes, running jobs: service/store_gauges.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "service/node_heartbeat.h"
#include "store/metadata_store.h"
#include "store/nodes.h"

namespace lathe::server {

class ApiNode {
 public:
  // `endpoint`: the URL clients use (publicUrl or the listen address); `port`: the bound port.
  ApiNode(store::MetadataStore* store, const std::string& endpoint, int port);
  ~ApiNode();
  // The node's id: "api@<host>:<port>".
  const std::string& id() const { return heartbeat_->node().id; }
  // Beats until Stop (which forgets the node: it stopped cleanly).
  Status Start();
  void Stop();

 private:
  store::NodeRegistry nodes_;
  std::unique_ptr<service::NodeHeartbeat> heartbeat_;
  std::vector<std::unique_ptr<metrics::CallbackGauge>> gauges_;
};

// What this machine offers: its CPUs and physical memory (no GPUs: Debian's libtorch has no CUDA).
store::Capacity MachineCapacity();

}  // namespace lathe::server
