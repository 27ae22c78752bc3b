// The `lathe` command line: every command is a thin shell over the library layers below.
// Each Add*Command registers a subcommand; when it runs it stores its exit code in *exit_code.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace lathe::cli {

// Exit codes, the same for every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;  // the input (a file, a value) is bad
inline constexpr int kExitUsage = 2;     // the command line is wrong
inline constexpr int kExitNotReady = 3;  // what was asked about is not ready yet (`lathe models status`)

struct Context {
  int exit_code = kExitOk;
};

// `lathe data ...`
void AddDataValidateCommand(CLI::App* data, Context* ctx);
void AddDataStatsCommand(CLI::App* data, Context* ctx);
void AddDataSplitCommand(CLI::App* data, Context* ctx);
void AddDataConvertCommand(CLI::App* data, Context* ctx);
void AddDataAugmentCommand(CLI::App* data, Context* ctx);
void AddDataBalanceCommand(CLI::App* data, Context* ctx);
void AddDataEstimateCommand(CLI::App* data, Context* ctx);
// `lathe models ...`, `lathe generate`
void AddModelsCommand(CLI::App* app, Context* ctx);
void AddGenerateCommand(CLI::App* app, Context* ctx);
// `lathe train`
void AddTrainCommand(CLI::App* app, Context* ctx);
// `lathe demo`
void AddDemoCommand(CLI::App* app, Context* ctx);
// `lathe eval run` (eval_run_cmd.cc), `lathe eval review` and `lathe eval report`
// (eval_review_cmd.cc), under the `eval` subcommand made by app.cc.
void AddEvalRunCommand(CLI::App* eval, Context* ctx);
void AddEvalReviewCommands(CLI::App* eval, Context* ctx);

// `lathe serve`
void AddServeCommand(CLI::App* app, Context* ctx);
void AddWorkerCommand(CLI::App* app, Context* ctx);  // worker_cmd.cc: claims jobs from a shared store
// Clients of a running `lathe serve` (client.h): `lathe jobs`, `lathe models list|delete`
// (called by AddModelsCommand), `lathe throughput`, `lathe invoke`, `lathe chat`.
void AddJobsCommand(CLI::App* app, Context* ctx);
void AddModelsClientCommands(CLI::App* models, Context* ctx);
void AddModelsStatusCommand(CLI::App* models, Context* ctx);  // `lathe models status`
void AddModelsPerplexityCommand(CLI::App* models, Context* ctx);  // `lathe models perplexity`
// `lathe models add NAME DIR`: Custom Model Import into a data directory, without a server
// (models_add_cmd.cc; called by AddModelsCommand).
void AddModelsAddCommand(CLI::App* models, Context* ctx);
void AddThroughputCommand(CLI::App* app, Context* ctx);
void AddInvokeCommand(CLI::App* app, Context* ctx);
void AddChatCommand(CLI::App* app, Context* ctx);
// `lathe events failed|pending`: EventBridge's dead-letter records and waiting deliveries.
void AddEventsCommand(CLI::App* app, Context* ctx);
// `lathe notifications`: SNS's email outbox and delivery status, read from the data directory.
void AddNotificationsCommand(CLI::App* app, Context* ctx);
// `lathe registry`: the model registry, read and changed in the data directory's lathe.db.
void AddRegistryCommand(CLI::App* app, Context* ctx);
// `lathe costs`: compute time beside what Bedrock would have charged, read from lathe.db.
void AddCostsCommand(CLI::App* app, Context* ctx);
// `lathe cleanup`: retention (services/cleanup), through the running server or in the data directory.
void AddCleanupCommand(CLI::App* app, Context* ctx);
// `lathe deployments`: custom model deployments on lathe serve, their traffic split, feedback and
// per-variant stats (deployments_cmd.cc).
void AddDeploymentsCommand(CLI::App* app, Context* ctx);
// `lathe ui`: a one-time login link to lathe serve's dashboard (ui_cmd.cc).
void AddUiCommand(CLI::App* app, Context* ctx);
// `lathe backup` and `lathe restore` (backup_cmd.cc): a data directory copied while lathe serve
// runs, and brought back into an empty one.
void AddBackupCommands(CLI::App* app, Context* ctx);
// `lathe doctor` (doctor_cmd.cc, doctor_checks.h): checks the machine and a data directory.
void AddDoctorCommand(CLI::App* app, Context* ctx);
// `lathe status` (status_cmd.cc): the nodes sharing a store, their work items, the queue's depth.
void AddStatusCommand(CLI::App* app, Context* ctx);

// Runs the whole command line (what main() does); exposed for tests.
int RunLathe(int argc, const char* const* argv);

// Shared output helpers.
// Prints "lathe: error: <message>" to stderr and returns the exit code for the status.
int ReportError(const Status& s);
void PrintJson(const nlohmann::json& j);

}  // namespace lathe::cli
