// `lathe events failed|pending`: EventBridge deliveries that gave up (dead-letter records) or
// wait for their next attempt, read from lathe serve's store: a data folder's lathe.db (a running
// server's too: SQLite lets readers in beside it) or a shared --store (store_choice.h). AWS has no
// API for these: they are lathe's view of what the pipeline could not deliver, so nothing is
// dropped silently.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/store_choice.h"
#include "core/arn.h"
#include "services/events/dispatcher.h"
#include "store/metadata_store.h"

namespace lathe::cli {
namespace {

struct EventsArgs {
  StoreFlags where;
  size_t limit = 100;
  bool json = false;
};

int ListDeliveries(const EventsArgs& a, bool failed) {
  auto store = OpenChosenStore(a.where);
  if (!store.ok()) return ReportError(store.status());
  auto records = failed ? events::ListFailedDeliveries(store->get(), a.limit)
                        : events::ListPendingDeliveries(store->get(), a.limit);
  if (!records.ok()) return ReportError(records.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *records)
      out.push_back({{failed ? "failedAt" : "nextAttemptAt", Iso8601(r.next_attempt_ms)},
                     {"rule", r.rule_arn},
                     {"targetId", r.target_id},
                     {"target", r.target_arn},
                     {"attempts", r.attempts},
                     {"lastError", r.last_error},
                     {"eventId", r.event_id},
                     {"deadLetterArn", r.dead_letter_arn},
                     {"input", r.input}});
    PrintJson(out);
    return kExitOk;
  }
  if (records->empty()) {
    std::printf(failed ? "no failed deliveries\n" : "no pending deliveries\n");
    return kExitOk;
  }
  std::printf("%-24s  %-8s  %-50s  %-50s  %s\n", failed ? "FAILED AT" : "NEXT ATTEMPT", "ATTEMPTS", "RULE", "TARGET",
              "LAST ERROR");
  for (const auto& r : *records)
    std::printf("%-24s  %-8d  %-50s  %-50s  %s\n", Iso8601(r.next_attempt_ms).c_str(), r.attempts, r.rule_arn.c_str(),
                r.target_arn.c_str(), r.last_error.c_str());
  return kExitOk;
}

}  // namespace

void AddEventsCommand(CLI::App* app, Context* ctx) {
  CLI::App* events = app->add_subcommand("events", "EventBridge deliveries that failed or wait for a retry");
  events->require_subcommand(1);
  for (bool failed : {true, false}) {
    auto a = std::make_shared<EventsArgs>();
    CLI::App* cmd = events->add_subcommand(
        failed ? "failed" : "pending",
        failed ? "Deliveries that used up their target's RetryPolicy (newest first): time, rule, target, attempts, last error"
               : "Deliveries waiting for their next attempt (oldest first)");
    cmd->add_option("--data-dir", a->where.data_dir, "lathe serve's data folder (default: $LATHE_HOME or ~/.local/share/lathe)");
    AddStoreOptions(cmd, &a->where, kConfigForStoreHelp);
    cmd->add_option("--limit", a->limit, "At most this many")->capture_default_str()->check(CLI::Range(1, 100000));
    cmd->add_flag("--json", a->json, "Print JSON, with each delivery's event id and input");
    cmd->callback([a, ctx, failed] { ctx->exit_code = ListDeliveries(*a, failed); });
  }
}

}  // namespace lathe::cli
