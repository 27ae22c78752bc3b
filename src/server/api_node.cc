#include "server/api_node.h"

#include <unistd.h>

#include <thread>

#include "service/store_gauges.h"

namespace lathe::server {

store::Capacity MachineCapacity() {
  store::Capacity c;
  c.cpus = static_cast<int64_t>(std::thread::hardware_concurrency());
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) c.memory_bytes = static_cast<int64_t>(pages) * page;
  return c;
}

ApiNode::ApiNode(store::MetadataStore* store, const std::string& endpoint, int port) : nodes_(store) {
  store::NodeInfo node;
  node.role = "api";
  node.host = service::ThisHostName();
  node.id = "api@" + (node.host.empty() ? std::string("localhost") : node.host) + ":" + std::to_string(port);
  node.endpoint = endpoint;
  node.capacity = MachineCapacity();
  heartbeat_ = std::make_unique<service::NodeHeartbeat>(&nodes_, std::move(node));
  gauges_ = service::AddStoreGauges(store, &metrics::DefaultRegistry());
}

ApiNode::~ApiNode() { Stop(); }

Status ApiNode::Start() { return heartbeat_->Start(); }

void ApiNode::Stop() { heartbeat_->Stop(); }

}  // namespace lathe::server
