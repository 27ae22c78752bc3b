// Byte-pair-encoding tokenizers in Hugging Face's tokenizer.json format and OpenAI's original GPT-2
// format (encoder.json + vocab.bpe). Supported pipelines, and what is not supported: docs/tokenizers.md.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "text/tokenizer.h"

namespace lathe::text {

// A tokenizer.json file. bos/eos come from tokenizer_config.json beside it when present, else from
// a TemplateProcessing post-processor.
Result<std::unique_ptr<Tokenizer>> LoadHfTokenizerJson(const std::string& path);

// A directory holding GPT-2's encoder.json and vocab.bpe.
Result<std::unique_ptr<Tokenizer>> LoadGpt2Tokenizer(const std::string& dir);

}  // namespace lathe::text
