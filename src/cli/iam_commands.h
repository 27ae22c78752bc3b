// `lathe iam simulate` and `lathe audit`: IAM's answers and the audit trail, read from lathe
// serve's data directory without a running server (as `lathe notifications` reads its outbox).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace lathe::cli {

void AddIamCommand(CLI::App* app, Context* ctx);    // iam_cmd.cc
void AddAuditCommand(CLI::App* app, Context* ctx);  // audit_cmd.cc

}  // namespace lathe::cli
