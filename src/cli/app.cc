#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/iam_commands.h"
#include "cli/version.h"

namespace lathe::cli {

int ReportError(const Status& s) {
  std::fprintf(stderr, "lathe: error: %s\n", s.message().c_str());
  return kExitBadInput;
}

void PrintJson(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

int RunLathe(int argc, const char* const* argv) {
  CLI::App app{"lathe: Bedrock-compatible fine-tuning on your own machine.\n"
               "Prepare datasets, fine-tune, serve and evaluate models, automate retraining."};
  app.name("lathe");
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText());
  Context ctx;

  CLI::App* data = app.add_subcommand(
      "data", "Validate, inspect, split, convert and estimate JSONL datasets");
  data->require_subcommand(1);
  AddDataValidateCommand(data, &ctx);
  AddDataStatsCommand(data, &ctx);
  AddDataSplitCommand(data, &ctx);
  AddDataConvertCommand(data, &ctx);
  AddDataAugmentCommand(data, &ctx);
  AddDataBalanceCommand(data, &ctx);
  AddDataEstimateCommand(data, &ctx);
  AddModelsCommand(&app, &ctx);
  AddGenerateCommand(&app, &ctx);
  AddTrainCommand(&app, &ctx);
  AddDemoCommand(&app, &ctx);
  CLI::App* eval = app.add_subcommand("eval", "Evaluate models: base vs fine-tuned, with statistics and reports");
  eval->require_subcommand(1);
  AddEvalRunCommand(eval, &ctx);
  AddEvalReviewCommands(eval, &ctx);
  AddServeCommand(&app, &ctx);
  AddWorkerCommand(&app, &ctx);
  AddJobsCommand(&app, &ctx);
  AddThroughputCommand(&app, &ctx);
  AddInvokeCommand(&app, &ctx);
  AddChatCommand(&app, &ctx);
  AddEventsCommand(&app, &ctx);
  AddNotificationsCommand(&app, &ctx);
  AddRegistryCommand(&app, &ctx);
  AddCostsCommand(&app, &ctx);
  AddCleanupCommand(&app, &ctx);
  AddDeploymentsCommand(&app, &ctx);
  AddUiCommand(&app, &ctx);
  AddBackupCommands(&app, &ctx);
  AddDoctorCommand(&app, &ctx);
  AddStatusCommand(&app, &ctx);
  AddIamCommand(&app, &ctx);
  AddAuditCommand(&app, &ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and the usage hint
    return kExitUsage;
  } catch (const std::exception& e) {  // a bug, not bad input: say so instead of aborting
    std::fprintf(stderr, "lathe: internal error: %s\n", e.what());
    return kExitBadInput;
  }
  return ctx.exit_code;
}

}  // namespace lathe::cli
