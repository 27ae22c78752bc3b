// SentencePiece .model files through libsentencepiece.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "text/tokenizer.h"

namespace lathe::text {

Result<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path);

}  // namespace lathe::text
