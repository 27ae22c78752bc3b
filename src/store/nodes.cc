#include "store/nodes.h"

#include <algorithm>
#include <chrono>

#include "core/json_nesting.h"
#include "store/sql_db.h"

namespace lathe::store {
namespace {

// Printable ASCII without spaces: ids, host names and URLs are all of it, and `lathe status`
// prints them in a terminal, where a control character could rewrite what the operator sees.
bool Printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Status Field(const std::string& name, const std::string& value, size_t min, size_t max) {
  if (value.size() < min || value.size() > max || !Printable(value))
    return Status::InvalidArgument("a node's " + name + " has " + std::to_string(min) + " to " + std::to_string(max) +
                                   " printable ASCII characters without spaces");
  return Status::Ok();
}

constexpr int kMaxDetailDepth = 16;

}  // namespace

Status CheckNodeInfo(const NodeInfo& node) {
  LATHE_RETURN_IF_ERROR(Field("id", node.id, 1, kMaxNodeIdBytes));
  if (node.role != "api" && node.role != "worker")
    return Status::InvalidArgument("a node's role is \"api\" or \"worker\"");
  LATHE_RETURN_IF_ERROR(Field("host", node.host, 0, kMaxNodeHostBytes));
  LATHE_RETURN_IF_ERROR(Field("endpoint", node.endpoint, 0, kMaxNodeEndpointBytes));
  if (node.capacity.cpus < 0 || node.capacity.gpus < 0 || node.capacity.memory_bytes < 0)
    return Status::InvalidArgument("a node's capacity is not negative");
  if (node.started_ms < 0) return Status::InvalidArgument("a node's start time is not negative");
  if (!node.detail.is_object()) return Status::InvalidArgument("a node's detail is a JSON object");
  const std::string detail = node.detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (detail.size() > kMaxNodeDetailBytes || !JsonNestingWithin(detail, kMaxDetailDepth))
    return Status::InvalidArgument("a node's detail is at most 16 KiB of JSON, nested at most 16 deep");
  return Status::Ok();
}

int64_t NodeRegistry::Now() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status NodeRegistry::Beat(const NodeInfo& node) {
  LATHE_RETURN_IF_ERROR(CheckNodeInfo(node));
  const int64_t now = Now();
  std::lock_guard<std::mutex> lock(store_->mu_);
  // One statement on both databases (SQLite 3.24+ and PostgreSQL speak ON CONFLICT alike).
  SqlQuery q(*store_->sql_,
             "INSERT INTO nodes (id, role, host, endpoint, cpus, gpus, memory_bytes, started_ms, last_seen_ms, detail) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET role = excluded.role, "
             "host = excluded.host, endpoint = excluded.endpoint, cpus = excluded.cpus, gpus = excluded.gpus, "
             "memory_bytes = excluded.memory_bytes, last_seen_ms = excluded.last_seen_ms, detail = excluded.detail, "
             "started_ms = CASE WHEN ? = 0 THEN nodes.started_ms ELSE excluded.started_ms END");
  q.Bind(1, node.id).Bind(2, node.role).Bind(3, node.host).Bind(4, node.endpoint);
  q.Bind(5, node.capacity.cpus).Bind(6, node.capacity.gpus).Bind(7, node.capacity.memory_bytes);
  q.Bind(8, node.started_ms > 0 ? node.started_ms : now).Bind(9, now);
  q.Bind(10, node.detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  q.Bind(11, node.started_ms);
  return q.Run("record node " + node.id);
}

Result<std::vector<NodeInfo>> NodeRegistry::List() {
  std::lock_guard<std::mutex> lock(store_->mu_);
  // The most recently seen first, to keep the newest when there are too many; sorted after.
  SqlQuery q(*store_->sql_,
             "SELECT id, role, host, endpoint, cpus, gpus, memory_bytes, started_ms, last_seen_ms, detail FROM nodes "
             "ORDER BY last_seen_ms DESC, id LIMIT ?");
  q.Bind(1, static_cast<int64_t>(kMaxListedNodes));
  std::vector<NodeInfo> nodes;
  SqlQuery::Outcome o;
  while ((o = q.Step()) == SqlQuery::kRow) {
    NodeInfo n;
    n.id = q.Text(0);
    n.role = q.Text(1);
    n.host = q.Text(2);
    n.endpoint = q.Text(3);
    n.capacity = {q.Int(4), q.Int(5), q.Int(6)};
    n.started_ms = q.Int(7);
    n.last_seen_ms = q.Int(8);
    // Another node wrote it: read only what Beat would have written.
    const std::string detail = q.Text(9);
    if (detail.size() <= kMaxNodeDetailBytes && JsonNestingWithin(detail, kMaxDetailDepth)) {
      n.detail = nlohmann::json::parse(detail, nullptr, /*allow_exceptions=*/false);
      if (!n.detail.is_object()) n.detail = nlohmann::json::object();
    }
    nodes.push_back(std::move(n));
  }
  if (o != SqlQuery::kDone) return q.Error("list nodes");
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return std::tie(a.role, a.id) < std::tie(b.role, b.id); });
  return nodes;
}

Status NodeRegistry::Forget(const std::string& id) {
  if (id.empty() || id.size() > kMaxNodeIdBytes) return Status::InvalidArgument("a node id has 1 to 256 bytes");
  std::lock_guard<std::mutex> lock(store_->mu_);
  SqlQuery q(*store_->sql_, "DELETE FROM nodes WHERE id = ?");
  q.Bind(1, id);
  LATHE_RETURN_IF_ERROR(q.Run("forget node " + id));
  if (q.changes() == 0) return Status::NotFound("no node " + id);
  return Status::Ok();
}

}  // namespace lathe::store
