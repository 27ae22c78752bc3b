// GenerationBatch over a LlamaModel (language_model.h has the contract): prefill alone through
// LlamaModel::Forward, then every step through LlamaModel::DecodeSequences, each sequence on its
// own cache. Internal to the engine.
#pragma once

#include <memory>

#include "engine/language_model.h"
#include "engine/llama_model.h"
#include "engine/sequence_state.h"

namespace lathe::engine {

// `hold` keeps `model` and what `sequence_model` points to alive as long as the batch lives.
std::unique_ptr<GenerationBatch> NewLlamaGenerationBatch(const LlamaModel& model, const SequenceModel& sequence_model,
                                                         int max_sequences, std::shared_ptr<const void> hold);

}  // namespace lathe::engine
