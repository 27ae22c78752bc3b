// `lathe deployments list|show|split|feedback|stats`: custom model deployments on lathe serve,
// their traffic split and rollback policy, feedback on a response, and per-variant numbers.
// Bedrock's own operations for list/show; lathe's extension operations (docs/deployments.md) for
// the rest, signed like every client command (client.h).
#include <cstdio>
#include <memory>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/deployments_format.h"
#include "core/env.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

struct Args {
  std::string name, challenger, policy_file, response_id, rating, comment, window = "1h";
  double weight = -1, score = -1;  // -1: not given
  bool sticky = false, no_sticky = false;
  PolicyFlags policy;
  ClientOptions client;
  StoreFlags where;  // stats without a server: --store, --config (--data-dir is the client's)
};

std::string DeploymentPath(const std::string& name) { return "/model-customization/custom-model-deployments/" + Encode(name); }

void PrintDeployment(const json& d) {
  auto row = [](const char* label, const std::string& value) {
    if (!value.empty()) std::printf("%-17s %s\n", label, value.c_str());
  };
  row("Name", Field(d, "modelDeploymentName"));
  row("ARN", Field(d, "customModelDeploymentArn"));
  row("Status", Field(d, "status"));
  row("Failure", Field(d, "failureMessage"));
  row("Model", Field(d, "modelArn"));
  row("Created", ShortTime(Field(d, "createdAt")));
  row("Updated", ShortTime(Field(d, "lastUpdatedAt")));
  if (d.contains("updateDetails")) row("Update", Field(d["updateDetails"], "updateStatus"));
  if (d.contains("traffic")) row("Traffic", TrafficText(d["traffic"]));
  if (d.contains("rollbackPolicy")) row("Rollback policy", PolicyText(d["rollbackPolicy"]));
}

}  // namespace

void AddDeploymentsCommand(CLI::App* app, Context* ctx) {
  CLI::App* dep = app->add_subcommand("deployments", "Custom model deployments: traffic split, feedback, per-variant stats");
  dep->require_subcommand(1);
  dep->footer("Example:\n  lathe deployments split support --challenger banking:staging --weight 0.2\n"
              "  lathe deployments stats support --window 30m");

  auto l = std::make_shared<Args>();
  CLI::App* list = dep->add_subcommand("list", "List deployments (ListCustomModelDeployments)");
  AddClientOptions(list, &l->client);
  list->callback([l, ctx] {
    auto all = BedrockClient(l->client).ListAll("/model-customization/custom-model-deployments?maxResults=100",
                                                "modelDeploymentSummaries");
    if (!all.ok()) {
      ctx->exit_code = ReportError(all.status());
      return;
    }
    if (l->client.json) {
      PrintJson({{"modelDeploymentSummaries", *all}});
    } else if (all->empty()) {
      std::printf("No custom model deployments.\n");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : *all)
        rows.push_back({Field(s, "customModelDeploymentName"), Field(s, "status"), Field(s, "modelArn"),
                        ShortTime(Field(s, "createdAt")), Field(s, "customModelDeploymentArn")});
      PrintTable({"NAME", "STATUS", "MODEL", "CREATED", "ARN"}, rows);
    }
    ctx->exit_code = kExitOk;
  });

  auto g = std::make_shared<Args>();
  CLI::App* show = dep->add_subcommand("show", "Show one deployment with its traffic split and rollback policy");
  show->add_option("name", g->name, "Deployment name or ARN")->required();
  AddClientOptions(show, &g->client);
  show->callback([g, ctx] {
    ctx->exit_code = Reply(BedrockClient(g->client).Get(DeploymentPath(g->name)), g->client.json, PrintDeployment);
  });

  auto s = std::make_shared<Args>();
  CLI::App* split = dep->add_subcommand("split", "Send a share of a deployment's traffic to a challenger, with a rollback policy");
  split->footer(
      "The challenger is a custom model, a registry version (<group>/<version>) or alias (<group>:<alias>);\n"
      "\"\" removes it. With a user id (x-lathe-user-id) the same user always meets the same variant\n"
      "unless --no-sticky. Options not given stay as they are. A rollback policy takes the challenger's traffic away (and moves an alias\n"
      "back) when its error rate or feedback crosses the thresholds over the window.\n\n"
      "Example:\n  lathe deployments split support --challenger banking/3 --weight 0.1 --rollback \\\n"
      "      --max-error-rate 0.05 --min-positive-feedback 0.6 --window 10m");
  split->add_option("name", s->name, "Deployment name or ARN")->required();
  split->add_option("--challenger", s->challenger, "Model reference for the challenger (\"\" removes it)");
  split->add_option("--weight", s->weight, "Share of requests sent to the challenger, 0..1")->check(CLI::Range(0.0, 1.0));
  split->add_flag("--no-sticky", s->no_sticky, "Draw per request even when the caller sends a user id");
  split->add_flag("--sticky", s->sticky, "The same user id always meets the same variant (the default)")->excludes("--no-sticky");
  split->add_option("--policy-file", s->policy_file, "Rollback policy as JSON (docs/deployments.md)")->check(CLI::ExistingFile);
  AddPolicyFlags(split, &s->policy);
  AddClientOptions(split, &s->client);
  split->callback([s, ctx, split] {
    // What is not given stays as the deployment has it.
    json body = json::object();
    if (split->count("--challenger")) body["challengerModelArn"] = s->challenger;
    if (s->weight >= 0) body["challengerWeight"] = s->weight;
    if (s->no_sticky || s->sticky) body["sticky"] = s->sticky;
    std::string policy_text;
    if (!s->policy_file.empty()) {
      if (Status st = ReadFileToString(Env::Default(), s->policy_file, &policy_text); !st.ok()) {
        ctx->exit_code = ReportError(st);
        return;
      }
    }
    auto policy = BuildPolicy(policy_text, s->policy);
    if (!policy.ok()) {
      ctx->exit_code = ReportError(policy.status());
      return;
    }
    if (!policy->empty()) body["rollbackPolicy"] = *policy;
    if (body.empty()) {
      ctx->exit_code = ReportError(Status::InvalidArgument("nothing to change: give --challenger, --weight or a rollback policy"));
      return;
    }
    const auto r = BedrockClient(s->client).Call("PUT", "/lathe/custom-model-deployments/" + Encode(s->name) + "/traffic", &body);
    ctx->exit_code = Reply(r, s->client.json, [](const json& answer) {
      if (answer.contains("traffic")) std::printf("Traffic          %s\n", TrafficText(answer["traffic"]).c_str());
      if (answer.contains("rollbackPolicy")) std::printf("Rollback policy  %s\n", PolicyText(answer["rollbackPolicy"]).c_str());
    });
  });

  auto f = std::make_shared<Args>();
  CLI::App* feedback = dep->add_subcommand("feedback", "Rate a response (its x-lathe-response-id): up or down, or a score");
  feedback->footer("Example:\n  lathe deployments feedback resp-0123456789abcdefghij down --comment \"wrong branch hours\"");
  feedback->add_option("response-id", f->response_id, "The response's id (x-lathe-response-id)")->required();
  feedback->add_option("rating", f->rating, "up or down")->check(CLI::IsMember({"up", "down"}));
  feedback->add_option("--score", f->score, "A score from 0 to 1 (0.5 and above counts as positive)")->check(CLI::Range(0.0, 1.0));
  feedback->add_option("--comment", f->comment, "What was wrong or right (at most 1024 bytes)");
  AddClientOptions(feedback, &f->client);
  feedback->callback([f, ctx] {
    json body = {{"responseId", f->response_id}};
    if (!f->rating.empty()) body["rating"] = f->rating;
    if (f->score >= 0) body["score"] = f->score;
    if (!f->comment.empty()) body["comment"] = f->comment;
    if (f->rating.empty() && f->score < 0) {
      ctx->exit_code = ReportError(Status::InvalidArgument("give a rating (up or down) or --score"));
      return;
    }
    ctx->exit_code = Reply(BedrockClient(f->client).Post("/lathe/feedback", body), f->client.json,
                           [&](const json&) { std::printf("Recorded feedback on %s\n", f->response_id.c_str()); });
  });

  auto st = std::make_shared<Args>();
  CLI::App* stats = dep->add_subcommand("stats", "Per-variant requests, errors, latency, tokens and feedback");
  stats->footer("Without a running server, reads the numbers last flushed to the store: --store, the config's\n"
                "\"store\", else DATA_DIR/lathe.db (--data-dir).\n\n"
                "Example:\n  lathe deployments stats support --window 15m");
  stats->add_option("name", st->name, "Deployment name or ARN")->required();
  stats->add_option("--window", st->window, "The window the numbers cover: 90s, 15m, 1h, 1d (at most 1d)")->capture_default_str();
  AddClientOptions(stats, &st->client);
  AddStoreOptions(stats, &st->where, kConfigForStoreHelp);
  stats->callback([st, ctx] {
    auto seconds = ParseDuration(st->window, "--window", 24 * 3600);
    if (!seconds.ok()) {
      ctx->exit_code = ReportError(seconds.status());
      return;
    }
    auto r = BedrockClient(st->client).Get("/lathe/custom-model-deployments/" + Encode(st->name) +
                                            "/stats?windowSeconds=" + std::to_string(*seconds));
    if (!r.ok() && r.status().code() == Status::Code::kIOError) {
      std::fprintf(stderr, "lathe: %s\nlathe: reading the numbers last flushed to the store instead\n", r.status().message().c_str());
      st->where.data_dir = st->client.data_dir;
      r = StatsFromStore(st->where, st->name, *seconds * 1000);
    }
    ctx->exit_code = Reply(r, st->client.json, PrintStats);
  });
}

}  // namespace lathe::cli
