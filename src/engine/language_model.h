// The engine's public face: load a model directory, generate text, save it back. Torch-free
// header (pimpl), so the CLI and the service never compile torch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/model_config.h"
#include "text/chat_format.h"
#include "text/tokenizer.h"

namespace lathe::engine {

struct GenerationOptions {
  int max_tokens = 128;
  float temperature = 0.0f;  // 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;        // 1: off
  uint64_t seed = 0;         // same seed, same prompts, same options -> same tokens
  // One seed per prompt: prompt b samples from its own stream seeded with seeds[b], so its tokens
  // do not depend on which other prompts share the call or where it sits in the batch. Empty:
  // prompt b's stream is seeded from `seed` and b. Otherwise its size must match the prompts'.
  std::vector<uint64_t> seeds;
  std::vector<std::string> stop_sequences;  // matched on the decoded text
  bool add_bos = true;       // prepend the model's BOS token when it has one
};

enum class StopReason { kEndToken, kLength, kStopSequence, kCancelled };
const char* StopReasonName(StopReason r);  // "end_token", "length", "stop_sequence", "cancelled"

struct GenerationResult {
  std::string text;          // generated text, without the prompt or the stop sequence
  std::vector<int> tokens;   // generated ids (including a final end token if one was sampled)
  int prompt_tokens = 0;
  StopReason reason = StopReason::kLength;
  std::string stop_sequence;  // which one matched, for kStopSequence
};

// Streaming: called with each new piece of text of prompt `index` as it becomes final (text that
// might still turn out to start a stop sequence is held back). Return false to cancel it.
using TextCallback = std::function<bool(size_t index, std::string_view piece)>;

// How a served model holds its matrices (docs/performance.md, "Weight precision"): as loaded (f32),
// or rounded to bf16 or to GGUF's 8-bit Q8_0 blocks so that a decoded token reads 2 or 3.8 times
// fewer bytes, at a quality cost `lathe models perplexity` measures.
enum class WeightPrecision { kF32, kBf16, kQ8_0 };
const char* WeightPrecisionName(WeightPrecision p);  // "f32", "bf16", "q8_0"
// The inverse; InvalidArgument naming the accepted values otherwise.
Result<WeightPrecision> ParseWeightPrecision(std::string_view name);

// What serving a model costs in memory, from its config alone (before loading it).
struct MemoryNeed {
  int64_t weight_bytes = 0;           // weights as held for inference; shared by all instances
  int64_t kv_bytes_per_sequence = 0;  // one sequence's KV cache at the model's full context
};
// `precision`: weights held as LanguageModel::WithWeightPrecision holds them (more memory today:
// the compact copies come on top of the f32 ones).
MemoryNeed EstimateMemory(const ModelConfig& config, WeightPrecision precision = WeightPrecision::kF32);

// Continuous batching (docs/performance.md, "Serving many requests"): sequences that join and
// leave between steps, each with its own KV cache, position, sampling options, stop sequences and
// max tokens. A step advances every running sequence by one token in one forward pass whose
// matrix products read each weight once for all of them. A sequence gets the same tokens and
// text as GenerateTokens gives it alone (greedy: token for token). One thread drives a batch.
struct FinishedSequence {
  uint64_t id = 0;  // what Add returned
  GenerationResult result;
};

class GenerationBatch {
 public:
  virtual ~GenerationBatch() = default;
  // Runs `prompt` (token ids, BOS included if wanted) through the model alone and adds it to the
  // batch; its first token is sampled at the next Step. Its sampler is seeded with options.seeds[0]
  // when given, else options.seed (as GenerateTokens seeds a lone prompt); on_text is called
  // with index 0, from the thread that calls Step. Refused as GenerateTokens refuses a prompt
  // (InvalidArgument), and with Throttled when capacity() sequences run already.
  virtual Result<uint64_t> Add(const std::vector<int>& prompt, const GenerationOptions& options,
                               TextCallback on_text = {}) = 0;
  // Samples the next token of every running sequence and runs one forward pass for those that
  // go on; returns the sequences that ended in this step (they leave the batch). An error (the
  // model failed) leaves the batch empty: its sequences are lost.
  virtual Result<std::vector<FinishedSequence>> Step() = 0;
  // Ends sequence `id` at the next Step, as cancelled (its caller went away); unknown ids are ignored.
  virtual void Cancel(uint64_t id) = 0;
  virtual size_t size() const = 0;      // sequences running now
  virtual size_t capacity() const = 0;  // the most that run at once
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  // Loads a Hugging Face model directory: config.json, model.safetensors (or sharded with
  // model.safetensors.index.json), tokenizer.model or tokenizer.json, generation_config.json.
  static Result<std::unique_ptr<LanguageModel>> Load(const std::string& dir);

  // Another instance over the same weights, which are not copied: an instance serves one call at
  // a time, several instances serve concurrently (each call allocates its own KV cache). The
  // weights are freed with the last instance.
  virtual std::unique_ptr<LanguageModel> NewInstance() const = 0;
  // Bytes the shared weights hold, counted once however many instances use them
  // (EstimateMemory(config()).weight_bytes predicts it).
  virtual int64_t WeightBytes() const = 0;
  // How many instances use these weights now, this one included.
  virtual long WeightUsers() const = 0;
  // A model over the same weights whose matrices are held in `precision` for serving: decode and
  // prefill read the compact copy (prefill expands its tiles to the same values), so the prompt
  // and the generated tokens see one model. This one is unchanged; the new one holds its own
  // copy of the matrices (WeightBytes says how much: less than f32 where the CPU has AVX-512, as
  // the fused f32 matrices are then dropped). Training and Save use the original weights.
  virtual Result<std::unique_ptr<LanguageModel>> WithWeightPrecision(WeightPrecision precision) const {
    return Status::Unsupported(std::string("this model cannot be held in ") + WeightPrecisionName(precision));
  }
  virtual WeightPrecision weight_precision() const { return WeightPrecision::kF32; }

  virtual const ModelConfig& config() const = 0;
  virtual const text::Tokenizer& tokenizer() const = 0;
  // The chat format recognised from tokenizer_config.json's chat_template and the architecture.
  virtual text::ChatTemplate chat_template() const = 0;

  // The token ids Generate runs for `prompt`: the model's BOS when options.add_bos and the
  // tokenizer config asks for one, then the encoded text. Callers that need the prompt's length
  // before generating (a stream's first event reports it) tokenize once and call GenerateTokens.
  virtual Result<std::vector<int>> EncodePrompt(const std::string& prompt, const GenerationOptions& options) const = 0;
  // Prompts of any lengths run as one batch.
  virtual Result<std::vector<GenerationResult>> Generate(const std::vector<std::string>& prompts,
                                                         const GenerationOptions& options,
                                                         const TextCallback& on_text = {}) = 0;
  // The same on token ids (prompts already tokenized, BOS included if wanted).
  virtual Result<std::vector<GenerationResult>> GenerateTokens(
      const std::vector<std::vector<int>>& prompts, const GenerationOptions& options,
      const TextCallback& on_text = {}) = 0;
  // A batch of at most `max_sequences` (>= 1) sequences over these weights (continuous batching,
  // see GenerationBatch). Unsupported where the model has no batched step.
  virtual Result<std::unique_ptr<GenerationBatch>> NewGenerationBatch(int max_sequences) const {
    return Status::Unsupported("this model has no batched decode step");
  }
  // Logits of every position for one sequence, row-major [ids.size(), vocab] (tests, evaluation).
  virtual Result<std::vector<float>> Logits(const std::vector<int>& ids) = 0;
  // The mean over the sequence's positions of the last hidden states (the final norm's output),
  // [hidden_size]: OpenAI's /v1/embeddings. Unsupported unless the model computes them.
  virtual Result<std::vector<float>> Embed(const std::vector<int>& ids) {
    return Status::Unsupported("this model computes no embeddings");
  }

  // Writes config.json, model.safetensors (in the dtype it was loaded from), the tokenizer files
  // and generation_config.json.
  virtual Status Save(const std::string& dir) const = 0;
};

// Threads for torch on this machine (see docs/engine.md): the number of cores, unless
// LATHE_THREADS is set. Call before the first model runs.
void ConfigureThreads();

}  // namespace lathe::engine
