// A Generator over a local model directory, through the engine (liblathe_engine.so, loaded on
// first use): cases batched into one Generate call each, prompts rendered as InvokeModel renders
// them (a "prompt" verbatim, as Titan's inputText; "messages" in the model's chat format with the
// format's end markers as stop sequences), and the reference's teacher-forced loss from Logits.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "eval/evaluation.h"

namespace lathe::engine {
class LanguageModel;
}

namespace lathe::eval {

Result<std::shared_ptr<Generator>> LoadEngineGenerator(const std::string& model_dir);
// Over a model already loaded (the server's pools, tests); the caller keeps it alive.
std::shared_ptr<Generator> EngineGenerator(std::shared_ptr<engine::LanguageModel> model);

}  // namespace lathe::eval
