// The nodes of a deployment that share one store (docs/scale-out.md, Operations): each API node
// (`lathe serve`) and worker (`lathe worker`) writes its row every few seconds (a heartbeat:
// service/node_heartbeat.h), and `lathe status` lists them with how long ago each was last
// seen. A node that stops beating stays listed, seen longer and longer ago, until it is
// forgotten (a clean stop forgets itself). The table is made by the store's migrations.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"
#include "store/work_leases.h"

namespace lathe::store {

struct NodeInfo {
  std::string id;        // unique among the nodes: 1 to 256 printable bytes
  std::string role;      // "api" | "worker"
  std::string host;      // the machine's name: at most 255 printable bytes
  std::string endpoint;  // where it answers (its URL, or its metrics address): at most 1024 bytes
  Capacity capacity;     // what it offers (workers claim by it)
  int64_t started_ms = 0, last_seen_ms = 0;
  nlohmann::json detail = nlohmann::json::object();  // what it is doing: an object, at most 16 KiB as JSON
};

inline constexpr size_t kMaxNodeIdBytes = 256;
inline constexpr size_t kMaxNodeHostBytes = 255;
inline constexpr size_t kMaxNodeEndpointBytes = 1024;
inline constexpr size_t kMaxNodeDetailBytes = 16 * 1024;
// List returns at most this many nodes (the most recently seen first when there are more).
inline constexpr size_t kMaxListedNodes = 1000;

class NodeRegistry {
 public:
  explicit NodeRegistry(MetadataStore* store) : store_(store) {}
  // Clock in ms since the epoch; tests move it instead of sleeping.
  void set_clock(std::function<int64_t()> now_ms) { now_ms_ = std::move(now_ms); }

  // Writes the node's row (insert or replace) with last_seen = now; started_ms = now when the
  // caller leaves it 0 on the node's first beat (later beats with 0 keep the first one).
  // InvalidArgument names the field that is out of bounds.
  Status Beat(const NodeInfo& node);
  // Every node, by role then id (the kMaxListedNodes most recently seen when there are more).
  Result<std::vector<NodeInfo>> List();
  // Removes the node's row; NotFound when there is none.
  Status Forget(const std::string& id);

 private:
  int64_t Now() const;
  MetadataStore* store_;
  std::function<int64_t()> now_ms_;
};

// Checks a node's fields against the bounds above (Beat does): InvalidArgument naming the field.
Status CheckNodeInfo(const NodeInfo& node);

}  // namespace lathe::store
