// A Generator over a served model (`lathe eval run --endpoint`): one InvokeModel request per case,
// as a Bedrock user's evaluation script sends them. A plain prompt goes as a Titan Text body
// (inputText verbatim), a conversation as an Anthropic Messages body (the server renders it in
// the model's chat format). The server's own errors become that case's error.
#pragma once

#include <memory>
#include <string>

#include "cli/client.h"
#include "eval/evaluation.h"

namespace lathe::cli {

std::shared_ptr<eval::Generator> InvokeModelGenerator(const ClientOptions& client, const std::string& model_id);

}  // namespace lathe::cli
