// `lathe status`: the nodes that share a store, the work items they hold and the queue's depth
// (docs/scale-out.md, Operations), read from the store itself, so it works with every server
// down too.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/store_choice.h"
#include "core/arn.h"
#include "service/node_heartbeat.h"
#include "store/nodes.h"
#include "store/work_leases.h"

namespace lathe::cli {
namespace {

using nlohmann::json;

struct StatusArgs {
  StoreFlags where;
  std::string forget;
  bool json = false;
  int limit = 100;
};

// "4s", "12m", "3h", "2d"; negative spans (a clock ahead of ours) read as 0s.
std::string Span(int64_t ms) {
  const int64_t s = ms < 0 ? 0 : ms / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string Bytes(int64_t b) {
  char buf[32];
  if (b >= (int64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.0f GiB", static_cast<double>(b) / (1 << 30));
  else std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(b) / (1 << 20));
  return b <= 0 ? "" : buf;
}

// Text another process wrote, made safe to print in a terminal: no control sequences, at most
// 200 bytes.
std::string Clean(const std::string& text) {
  std::string s = text.substr(0, 200);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

// What a node says it is doing: detail's "work" (a worker's kind/id), or "".
std::string Doing(const store::NodeInfo& n) {
  auto work = n.detail.find("work");
  return work != n.detail.end() && work->is_string() ? Clean(work->get<std::string>()) : "";
}

bool Stale(const store::NodeInfo& n, int64_t now) { return now - n.last_seen_ms > service::kNodeStaleAfter.count(); }

json CapacityJson(const store::Capacity& c) {
  return {{"cpus", c.cpus}, {"gpus", c.gpus}, {"memoryBytes", c.memory_bytes}};
}

json ToJson(const std::string& where, int64_t now, const std::vector<store::NodeInfo>& nodes,
            const std::vector<store::WorkItemRow>& items, const std::map<std::string, store::QueueDepth>& depth) {
  json out = {{"store", where}, {"time", Iso8601(now)}, {"nodes", json::array()}, {"workItems", json::array()},
              {"queueDepth", json::object()}};
  for (const auto& n : nodes)
    out["nodes"].push_back({{"id", n.id},
                            {"role", n.role},
                            {"host", n.host},
                            {"endpoint", n.endpoint},
                            {"capacity", CapacityJson(n.capacity)},
                            {"startedTime", Iso8601(n.started_ms)},
                            {"lastSeenTime", Iso8601(n.last_seen_ms)},
                            {"lastSeenSecondsAgo", (now - n.last_seen_ms) / 1000},
                            {"state", Stale(n, now) ? "stale" : "alive"},
                            {"detail", n.detail}});
  for (const auto& w : items) {
    json item = {{"kind", w.kind},         {"id", w.id},
                 {"state", w.state},       {"needs", CapacityJson(w.needs)},
                 {"generation", w.generation}, {"enqueuedTime", Iso8601(w.enqueued_ms)}};
    if (w.state == "leased") {
      item["workerId"] = w.worker_id;
      item["leaseExpiresTime"] = Iso8601(w.expires_ms);
      item["leaseExpired"] = w.expires_ms <= now;
    }
    out["workItems"].push_back(item);
  }
  for (const auto& [kind, d] : depth) out["queueDepth"][kind] = {{"queued", d.queued}, {"leased", d.leased}, {"done", d.done}};
  return out;
}

void PrintHuman(const std::string& where, int64_t now, const std::vector<store::NodeInfo>& nodes,
                const std::vector<store::WorkItemRow>& items, const std::map<std::string, store::QueueDepth>& depth,
                size_t limit) {
  std::printf("store: %s\n\nnodes (%zu)\n", where.c_str(), nodes.size());
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : nodes)
    rows.push_back({Clean(n.id), Clean(n.role), Clean(n.host), Clean(n.endpoint), std::to_string(n.capacity.cpus), std::to_string(n.capacity.gpus),
                    Bytes(n.capacity.memory_bytes), Span(now - n.started_ms) + " ago", Span(now - n.last_seen_ms) + " ago",
                    Stale(n, now) ? "STALE" : "alive", Doing(n)});
  if (rows.empty()) std::printf("  none has beaten into this store (lathe serve and lathe worker do, every 10 s)\n");
  else PrintTable({"ID", "ROLE", "HOST", "ENDPOINT", "CPUS", "GPUS", "MEMORY", "STARTED", "LAST SEEN", "STATE", "DOING"}, rows);

  rows.clear();
  for (const auto& w : items) {
    std::string lease;
    if (w.state == "leased")
      lease = w.expires_ms > now ? "expires in " + Span(w.expires_ms - now) : "EXPIRED " + Span(now - w.expires_ms) + " ago";
    std::string needs = std::to_string(w.needs.cpus) + " cpu";
    if (w.needs.gpus) needs += ", " + std::to_string(w.needs.gpus) + " gpu";
    if (w.needs.memory_bytes) needs += ", " + Bytes(w.needs.memory_bytes);
    rows.push_back({Clean(w.kind), Clean(w.id), w.state, needs, w.state == "leased" ? Clean(w.worker_id) : "",
                    std::to_string(w.generation), lease, Span(now - w.enqueued_ms) + " ago"});
  }
  std::printf("\nwork items not done (%zu%s)\n", items.size(), items.size() >= limit ? ", the oldest; --limit for more" : "");
  if (rows.empty()) std::printf("  none\n");
  else PrintTable({"KIND", "ID", "STATE", "NEEDS", "WORKER", "GENERATION", "LEASE", "QUEUED"}, rows);

  rows.clear();
  for (const auto& [kind, d] : depth)
    rows.push_back({Clean(kind), std::to_string(d.queued), std::to_string(d.leased), std::to_string(d.done)});
  std::printf("\nqueue depth\n");
  if (rows.empty()) std::printf("  empty\n");
  else PrintTable({"KIND", "QUEUED", "LEASED", "DONE"}, rows);
}

}  // namespace

void AddStatusCommand(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<StatusArgs>();
  CLI::App* cmd = app->add_subcommand("status", "Nodes sharing the store, the work items they hold, and the queue's depth");
  cmd->footer(
      "Reads the store itself (not a server): every `lathe serve` and `lathe worker` beats into it every\n"
      "10 s; a node silent for 30 s is STALE (stopped without saying so, or cut off). Details:\n"
      "docs/scale-out.md, Operations.\n\n"
      "Examples:\n  lathe status --store 'postgresql://lathe@db.internal/lathe'\n  lathe status --data-dir ~/lathe --json\n"
      "  lathe status --store 'postgresql://...' --forget worker@gpu-box-2");
  AddStoreOptions(cmd, &a->where, kConfigForStoreHelp);
  cmd->add_option("--data-dir", a->where.data_dir, "The data directory whose lathe.db to read (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--limit", a->limit, "Work items listed at most (1-10000)")->capture_default_str();
  cmd->add_option("--forget", a->forget, "Remove a node's row (one that will not come back), then show the rest");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    auto fail = [ctx](const Status& s) { ctx->exit_code = ReportError(s); };
    if (a->limit < 1 || static_cast<size_t>(a->limit) > store::kMaxListedWorkItems)
      return fail(Status::InvalidArgument("--limit: 1 to " + std::to_string(store::kMaxListedWorkItems)));
    ChosenStore chosen;
    auto db = OpenChosenStore(a->where, nullptr, &chosen);
    if (!db.ok()) return fail(db.status());
    const std::string where = chosen.shown();
    store::NodeRegistry registry(db->get());
    if (!a->forget.empty())
      if (Status s = registry.Forget(a->forget); !s.ok()) return fail(s);
    auto nodes = registry.List();
    if (!nodes.ok()) return fail(nodes.status());
    store::WorkLeases leases(db->get());
    auto items = leases.List(static_cast<size_t>(a->limit));
    if (!items.ok()) return fail(items.status());
    auto depth = leases.DepthByKind();
    if (!depth.ok()) return fail(depth.status());
    // The store's clock (PostgreSQL's, on a shared store): what leases expire by, whatever this
    // machine's clock says.
    auto store_now = leases.Now();
    const int64_t now = store_now.ok() ? *store_now : NowMillis();
    if (a->json) PrintJson(ToJson(where, now, *nodes, *items, *depth));
    else PrintHuman(where, now, *nodes, *items, *depth, static_cast<size_t>(a->limit));
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
