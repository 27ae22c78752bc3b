// Pieces shared by the client commands (jobs_client_cmd.cc, jobs_watch_client_cmd.cc, ...).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cli/client.h"

namespace lathe::cli {

// Polls GetModelCustomizationJob every second, drawing a progress line on stderr, until the job
// ends; then prints its final status (or with json, the job) on stdout. Returns the exit code:
// kExitOk when the job Completed, kExitBadInput otherwise.
int WatchJob(BedrockClient* client, const std::string& job, bool json);

// One line about a job's progress from its "latheProgress" (what `lathe serve` adds to
// GetModelCustomizationJob): "step 12/40  epoch 1/2  loss 2.3456  1234 tok/s  ETA 35s"; "" if none.
std::string ProgressText(const nlohmann::json& job);

}  // namespace lathe::cli
