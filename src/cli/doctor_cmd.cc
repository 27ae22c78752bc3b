// `lathe doctor`: checks and explains the environment lathe serve runs in (doctor_checks.h),
// each finding with what to do. Exit 1 when any check found an error, else 0.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/doctor_checks.h"
#include "cli/store_choice.h"
#include "cli/version.h"
#include "engine/default_model.h"

namespace lathe::cli {
namespace {

struct DoctorArgs {
  DoctorOptions options;
  bool json = false;
};

int RunDoctor(DoctorArgs a) {
  if (a.options.data_dir.empty()) a.options.data_dir = engine::DefaultDataDir();
  const DoctorOptions& o = a.options;
  std::vector<Finding> all;
  for (auto& part : {CheckCpuAndThreads(), CheckBlas(), CheckDataDirectory(o), CheckPort(o), CheckStore(o),
                     CheckModels(o), CheckClock(o)})
    all.insert(all.end(), part.begin(), part.end());
  size_t errors = 0, warnings = 0;
  for (const Finding& f : all) {
    errors += f.level == Finding::Level::kError;
    warnings += f.level == Finding::Level::kWarning;
  }
  if (a.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const Finding& f : all)
      findings.push_back({{"level", LevelName(f.level)}, {"area", f.area}, {"what", f.what}, {"fix", f.fix}});
    PrintJson({{"lathe", LatheVersion()}, {"commit", LatheGitCommit()}, {"libtorch", LatheTorchVersion()},
               {"dataDir", o.data_dir}, {"errors", errors}, {"warnings", warnings}, {"findings", findings}});
  } else {
    std::printf("lathe doctor: lathe %s (commit %s, libtorch %s), data directory %s\n", LatheVersion(), LatheGitCommit(),
                LatheTorchVersion(), o.data_dir.c_str());
    for (const Finding& f : all) {
      std::printf("  %-8s %-12s %s\n", LevelName(f.level), f.area.c_str(), f.what.c_str());
      if (!f.fix.empty()) std::printf("  %-8s %-12s fix: %s\n", "", "", f.fix.c_str());
    }
    std::printf("lathe doctor: %zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s", warnings,
                warnings == 1 ? "" : "s");
  }
  return errors ? kExitBadInput : kExitOk;
}

}  // namespace

void AddDoctorCommand(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app->add_subcommand("doctor", "Check this machine and a data directory for lathe serve, and say what to fix");
  cmd->add_option("--data-dir", a->options.data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--listen", a->options.listen, "The address lathe serve listens on")->capture_default_str();
  cmd->add_option("--config", a->options.config, "lathe serve's JSON config (its \"models\" and \"store\" are checked)");
  cmd->add_option("--store", a->options.store, kStoreHelp);
  cmd->add_option("--clock-url", a->options.clock_url,
                  "Compare this machine's clock with the Date header of this http(s) URL (one HEAD request; "
                  "nothing is contacted without it)");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->footer("Checks: CPU features, the BLAS libtorch uses, threads, free disk, the port, permissions of the keys,\n"
              "lathe.db's schema version and PRAGMA integrity_check (a shared store's schema version), the layout\n"
              "version, the models, the clock.\n"
              "Nothing is changed. Exit status 1 when a check found an error. Details: docs/operations.md#lathe-doctor");
  cmd->callback([a, ctx] { ctx->exit_code = RunDoctor(*a); });
}

}  // namespace lathe::cli
