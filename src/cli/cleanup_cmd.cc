// `lathe cleanup`: retention (services/cleanup). Shows what the policy deletes (kind, name, why,
// disk freed) and deletes it; --dry-run only shows. The policy is the serve config's "retention"
// (--config) with the flags laid over it; nothing is deleted when neither sets anything.
//
// Where it runs: while a `lathe serve` holds the data directory (its serve.lock), that server
// does the work (POST /lathe/cleanup, signed like every client command): deleting provisioned
// throughput and deployments must unload them there. Otherwise this process opens the data
// directory itself, holding the same lock meanwhile. --endpoint always asks a server. On a shared
// store (--store, the config's "store"; store_choice.h) only --dry-run runs here: deleting is the
// job of the lathe serve that serves the models.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/store_choice.h"
#include "core/env.h"
#include "service/bedrock_service.h"
#include "service/retention_policy.h"
#include "services/cleanup/cleaner.h"
#include "services/cleanup/serve_cleanup.h"
#include "services/registry/registry.h"
#include "store/metadata_store.h"

namespace lathe::cli {
namespace {

using nlohmann::json;

struct CleanupArgs {
  ClientOptions client;
  StoreFlags where;  // --store, --config; its data_dir is the client's --data-dir
  bool dry_run = false;
  int keep_versions = -1;
  std::string model_max_age, idle_throughput, idle_deployment;
};

std::string Size(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  for (; v >= 1024 && u < 4; ++u) v /= 1024;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// The flags as the policy's JSON members (checked by the same parser as the config file).
json Overrides(const CleanupArgs& a) {
  json j = json::object();
  if (a.keep_versions >= 0) j["keepVersions"] = a.keep_versions;
  if (!a.model_max_age.empty()) j["modelMaxAge"] = a.model_max_age;
  if (!a.idle_throughput.empty()) j["idleThroughput"] = a.idle_throughput;
  if (!a.idle_deployment.empty()) j["idleDeployment"] = a.idle_deployment;
  return j;
}

void PrintPlan(const json& report) {
  const json& items = report["items"];
  if (items.empty()) {
    std::printf("Nothing to delete under this policy (%s).\n", report["policy"].dump().c_str());
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : items)
    rows.push_back({Field(i, "kind"), Field(i, "name"), Field(i, "reason"), i.value("bytes", 0) ? Size(i["bytes"]) : ""});
  PrintTable({"KIND", "NAME", "REASON", "DISK"}, rows);
  std::printf("Would delete %zu item(s), %s of disk\n", items.size(), Size(report.value("totalBytes", uint64_t{0})).c_str());
  std::printf("(dry run: nothing was deleted; run without --dry-run to delete)\n");
}

void PrintResult(const std::string& kind, const std::string& name, const std::string& outcome, uint64_t bytes) {
  std::printf("%-22s %-40s %s%s\n", kind.c_str(), name.c_str(), outcome.c_str(),
              bytes ? (" (" + Size(bytes) + ")").c_str() : "");
  std::fflush(stdout);
}

// The report as a table (dry run) or the outcome of each item (a real run; `printed_progress`:
// already printed as they happened). Exit 1 when an item failed.
int PrintReport(const json& report, bool as_json, bool printed_progress) {
  const json results = report.value("results", json::array());
  if (as_json) {
    PrintJson(report);
  } else if (report.value("dryRun", true)) {
    PrintPlan(report);
  } else {
    if (report.value("recovered", 0)) std::printf("Finished %d deletion(s) an interrupted run left\n", report.value("recovered", 0));
    size_t done = 0;
    for (const auto& r : results) {
      if (!printed_progress) PrintResult(Field(r, "kind"), Field(r, "name"), Field(r, "outcome"), r.value("bytes", uint64_t{0}));
      done += r.value("done", false) ? 1 : 0;
    }
    if (results.empty()) std::printf("Nothing to delete under this policy (%s).\n", report["policy"].dump().c_str());
    else std::printf("Deleted %zu of %zu item(s); freed %s\n", done, results.size(), Size(report.value("freedBytes", uint64_t{0})).c_str());
  }
  for (const auto& r : results)
    if (Field(r, "outcome").rfind("failed", 0) == 0) return kExitBadInput;
  return kExitOk;
}

// held_dir: the data directory whose serve.lock sent us here ("" when --endpoint was given). The
// server that holds it recorded its URL there (serve.url); it must say the data dir is its own.
int RunRemote(const CleanupArgs& a, const json& overrides, const std::string& held_dir = "") {
  ClientOptions args = a.client;
  json body = {{"dryRun", a.dry_run}, {"policy", overrides}};
  const std::string data_dir = held_dir.empty() ? a.client.data_dir : held_dir;
  if (!data_dir.empty()) {
    std::error_code ec;
    body["dataDir"] = std::filesystem::weakly_canonical(data_dir, ec).string();
  }
  if (!held_dir.empty() && args.endpoint.empty()) {
    std::string url;
    if (ReadFileToString(Env::Default(), held_dir + "/" + cleanup::kServeUrlFile, &url).ok()) {
      while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
      const bool https = url.rfind("https://", 0) == 0;
      if ((https || url.rfind("http://", 0) == 0) && url.size() < 256) args.endpoint = url;
      // A server with --tls-self-signed keeps its CA in the data dir: trust it for this call.
      const std::string ca = held_dir + "/tls/ca.pem";
      if (https && !std::getenv("AWS_CA_BUNDLE") && std::filesystem::exists(ca)) ::setenv("AWS_CA_BUNDLE", ca.c_str(), 1);
    }
  }
  BedrockClient client(args);
  if (!held_dir.empty())
    std::fprintf(stderr, "lathe cleanup: a lathe serve holds %s; asking it at %s\n", held_dir.c_str(),
                 client.endpoint().c_str());
  auto report = client.Post("/lathe/cleanup", body);
  if (!report.ok()) return ReportError(report.status());
  return PrintReport(*report, a.client.json, false);
}

// Runs the cleanup in this process; a server that took the data directory meanwhile does it instead.
int RunLocal(const CleanupArgs& a, service::ServiceConfig config, const json& overrides) {
  auto policy = service::RetentionPolicyFromJson(overrides, "flags", config.retention);
  if (!policy.ok()) return ReportError(policy.status());
  ChosenStore chosen;
  {
    auto db = OpenChosenStore(a.where, &config, &chosen);
    if (!db.ok()) return ReportError(db.status());
    if (a.where.config.empty()) {
      // The region and account the last `lathe serve` recorded (opening must not overwrite them).
      if (auto scope = (*db)->Find("lathe-settings", "scope"); scope.ok()) {
        config.scope.region = scope->doc.value("region", config.scope.region);
        config.scope.account = scope->doc.value("account", config.scope.account);
      }
    }
  }
  config.data_dir = chosen.data_dir;
  config.store_url = chosen.shared ? chosen.location : "";
  auto bedrock = service::BedrockService::Open(config, /*start=*/false);  // takes serve.lock
  if (!bedrock.ok() && bedrock.status().code() == Status::Code::kConflict) return RunRemote(a, overrides, config.data_dir);
  if (!bedrock.ok()) return ReportError(bedrock.status());
  // On a shared store the models may be loaded by, and their files kept on, another machine: only
  // the lathe serve that serves them can unload them and free their disk (docs/scale-out.md).
  if (chosen.shared && !a.dry_run)
    return ReportError(Status::Unsupported(
        "the store is shared (" + chosen.shown() + "): deleting runs in the lathe serve that serves the models, which "
        "unloads them and deletes their files. Run this on that machine with its --data-dir while it runs, or pass "
        "--endpoint its URL; --dry-run shows the plan from here (disk sizes as this machine sees them)"));
  registry::Registry registry((*bedrock)->store(), config.scope.region, config.scope.account);
  cleanup::Cleaner cleaner(bedrock->get(), &registry);
  const bool progress = !a.client.json && !a.dry_run;
  bool first = true;
  auto report = cleaner.Run(*policy, a.dry_run, [&](const cleanup::ItemResult& r) {
    if (progress && first) std::printf("Deleting (safe to interrupt: the next run finishes the job):\n");
    first = false;
    if (progress) PrintResult(cleanup::ItemKindName(r.item.kind), r.item.name, r.outcome, r.done ? r.item.bytes : 0);
  });
  if (!report.ok()) return ReportError(report.status());
  return PrintReport(cleanup::RunReportToJson(*report), a.client.json, progress);
}

}  // namespace

void AddCleanupCommand(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<CleanupArgs>();
  CLI::App* cmd = app->add_subcommand(
      "cleanup",
      "Delete what a retention policy says: custom models (and their job folders) older than --model-max-age,\n"
      "except the newest --keep-versions versions of each registry group, aliased versions and models in use;\n"
      "provisioned throughput and deployments idle for --idle-throughput / --idle-deployment. The policy is\n"
      "the config's \"retention\" with these flags over it; nothing is deleted unless one is set. Registry\n"
      "versions whose model goes stay, Archived and marked. Safe to interrupt: the next run finishes the job.");
  AddClientOptions(cmd, &a->client);
  cmd->add_option("--config", a->where.config, "lathe serve's JSON config: its \"retention\" policy, region, account and \"store\"");
  AddStoreOptions(cmd, &a->where, nullptr);
  cmd->add_flag("--dry-run", a->dry_run, "Show what would be deleted and the disk it frees; delete nothing");
  cmd->add_option("--keep-versions", a->keep_versions, "Keep the models of the newest N versions of each group (default 1)")
      ->check(CLI::Range(0, service::kMaxKeepVersions));
  cmd->add_option("--model-max-age", a->model_max_age, "Delete custom models older than this (30d, 12h, ...)");
  cmd->add_option("--idle-throughput", a->idle_throughput, "Delete provisioned throughput without a request for this long");
  cmd->add_option("--idle-deployment", a->idle_deployment, "Delete deployments without a request for this long");
  cmd->callback([a, ctx] {
    const json overrides = Overrides(*a);
    // Check the flags here, before any server is asked (a server would say the same).
    auto policy = service::RetentionPolicyFromJson(overrides, "flags", {});
    if (!policy.ok()) {
      // Named as the user typed them: "flags.modelMaxAge" -> "--model-max-age".
      std::string message = policy.status().message();
      for (const auto& [member, flag] : {std::pair{"flags.modelMaxAge", "--model-max-age"},
                                         {"flags.idleThroughput", "--idle-throughput"},
                                         {"flags.idleDeployment", "--idle-deployment"}})
        if (message.rfind(member, 0) == 0) message = flag + message.substr(std::string(member).size());
      ReportError(Status::InvalidArgument(message));
      ctx->exit_code = kExitUsage;
      return;
    }
    if (Status s = CheckStoreFlag(a->where.store); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    const bool endpoint_given = !a->client.endpoint.empty();
    if (endpoint_given) {
      ctx->exit_code = RunRemote(*a, overrides);
      return;
    }
    a->where.data_dir = a->client.data_dir;
    service::ServiceConfig config;
    if (!a->where.config.empty()) {
      auto loaded = service::LoadServiceConfig(a->where.config, config);
      if (!loaded.ok()) {
        ctx->exit_code = ReportError(loaded.status());
        return;
      }
      config = *loaded;
    }
    ctx->exit_code = RunLocal(*a, config, overrides);
  });
}

}  // namespace lathe::cli
