// `lathe iam simulate`: "may this user do this action on this resource, and which statement
// decided?" — SimulatePrincipalPolicy's answer (services/iam/simulation.h) from the data
// directory's lathe.db or a shared --store (store_choice.h), the question to ask when a pipeline
// fails with AccessDenied.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/iam_commands.h"
#include "cli/store_choice.h"
#include "services/iam/simulation.h"
#include "store/metadata_store.h"

namespace lathe::cli {

void AddIamCommand(CLI::App* app, Context* ctx) {
  struct Args {
    StoreFlags where;
    std::string user, principal, account = "000000000000";
    std::vector<std::string> actions, resources, context;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* iam = app->add_subcommand("iam", "IAM users, groups and policies of lathe serve (docs/iam.md)");
  iam->require_subcommand(1);
  CLI::App* cmd = iam->add_subcommand(
      "simulate", "Whether a user, group or role may do actions on resources, and which statement decided\n"
                  "(IAM's SimulatePrincipalPolicy, over the policies in lathe serve's store)");
  cmd->footer(
      "Examples:\n  lathe iam simulate --user ci --action s3:GetObject --resource arn:aws:s3:::training/data.jsonl\n"
      "  lathe iam simulate --principal arn:aws:iam::000000000000:role/BedrockFineTune --action s3:PutObject \\\n"
      "      --resource 'arn:aws:s3:::out/*' --context aws:SourceIp=10.0.0.7");
  cmd->add_option("--data-dir", a->where.data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  AddStoreOptions(cmd, &a->where, kConfigForStoreHelp);
  cmd->add_option("--user", a->user, "An IAM user's name (its path is looked up)");
  cmd->add_option("--principal", a->principal, "A user, group or role ARN");
  cmd->add_option("--account", a->account, "The account (lathe serve's, default 000000000000)");
  cmd->add_option("--action", a->actions, "An action, e.g. bedrock:CreateModelCustomizationJob (repeatable)")->required();
  cmd->add_option("--resource", a->resources, "A resource ARN (repeatable; default *)");
  cmd->add_option("--context", a->context, "A condition key's value, KEY=VALUE (repeatable)");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    if (a->user.empty() == a->principal.empty()) {
      ctx->exit_code = ReportError(Status::InvalidArgument("give one of --user NAME and --principal ARN"));
      return;
    }
    auto store = OpenChosenStore(a->where);
    if (!store.ok()) {
      ctx->exit_code = ReportError(store.status());
      return;
    }
    iam::IamBackend backend(store->get());  // no secrets: policies are all it reads
    iam::SimulationInput in;
    in.account = a->account;
    in.source_arn = a->principal;
    if (!a->user.empty()) {
      Result<iam::User> user = backend.GetUser(a->account, a->user);
      if (!user.ok()) {
        ctx->exit_code = ReportError(user.status());
        return;
      }
      in.source_arn = user->arn;
    }
    in.actions = a->actions;
    in.resources = a->resources;
    for (const std::string& kv : a->context) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        ctx->exit_code = ReportError(Status::InvalidArgument("--context wants KEY=VALUE, not " + kv.substr(0, 80)));
        return;
      }
      in.context[iam::ConditionKey(kv.substr(0, eq))].push_back(kv.substr(eq + 1));
    }
    Result<std::vector<iam::SimulationResult>> results = iam::Simulate(&backend, in);
    if (!results.ok()) {
      ctx->exit_code = ReportError(results.status());
      return;
    }
    bool all_allowed = true;
    nlohmann::json out = nlohmann::json::array();
    for (const iam::SimulationResult& r : *results) {
      const std::string decision(iam::DecisionName(r.evaluation.decision));
      const std::string why = r.evaluation.deciding ? r.evaluation.deciding->Describe() : "no statement allows it";
      all_allowed = all_allowed && r.evaluation.decision == iam::Decision::kAllowed;
      if (a->json) {
        nlohmann::json j = {{"action", r.action}, {"resource", r.resource}, {"decision", decision}, {"decidedBy", why}};
        j["missingContextValues"] = r.evaluation.missing_context_keys;
        out.push_back(j);
      } else {
        std::printf("%-12s  %s on %s  (%s)\n", decision.c_str(), r.action.c_str(), r.resource.c_str(), why.c_str());
        for (const std::string& key : r.evaluation.missing_context_keys)
          std::printf("              missing context value: %s\n", key.c_str());
      }
    }
    if (a->json) PrintJson(out);
    ctx->exit_code = all_allowed ? kExitOk : kExitNotReady;
  });
}

}  // namespace lathe::cli
