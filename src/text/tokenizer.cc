// LoadTokenizer: picks the format from the path.
#include "text/tokenizer.h"

#include <filesystem>

#include "text/hf_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"

namespace lathe::text {

size_t Tokenizer::CountTokens(std::string_view text) const {
  std::vector<int> ids;
  return Encode(text, &ids).ok() ? ids.size() : 0;
}

Result<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    // tokenizer.model stays first, so directories that load today keep their tokenizer.
    fs::path dir(path);
    if (fs::exists(dir / "tokenizer.model", ec))
      return LoadSentencePieceTokenizer((dir / "tokenizer.model").string());
    if (fs::exists(dir / "tokenizer.json", ec))
      return LoadHfTokenizerJson((dir / "tokenizer.json").string());
    if (fs::exists(dir / "encoder.json", ec) && fs::exists(dir / "vocab.bpe", ec))
      return LoadGpt2Tokenizer(path);
    return Status::NotFound("no tokenizer in " + path +
                            ": looked for tokenizer.model, tokenizer.json, encoder.json + vocab.bpe");
  }
  if (!fs::exists(path, ec)) return Status::NotFound("tokenizer file " + path + " does not exist");
  fs::path file(path);
  if (file.extension() == ".model") return LoadSentencePieceTokenizer(path);
  if (file.filename() == "encoder.json" || file.filename() == "vocab.bpe")
    return LoadGpt2Tokenizer(file.parent_path().string());
  if (file.extension() == ".json") return LoadHfTokenizerJson(path);
  return Status::Unsupported("unsupported tokenizer file " + path +
                             ": lathe reads SentencePiece .model, Hugging Face tokenizer.json, "
                             "or a directory with GPT-2's encoder.json and vocab.bpe");
}

}  // namespace lathe::text
