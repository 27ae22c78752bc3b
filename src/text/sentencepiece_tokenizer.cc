// SentencePiece models through libsentencepiece (Llama-2 family, llama2.c's tok512.model).
#include <sentencepiece_processor.h>

#include "text/sentencepiece_tokenizer.h"

namespace lathe::text {
namespace {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  Status Load(const std::string& path) {
    auto st = sp_.Load(path);
    if (!st.ok())
      return Status::InvalidArgument("cannot load SentencePiece model " + path + ": " +
                                     st.ToString());
    return Status::Ok();
  }
  Status Encode(std::string_view text, std::vector<int>* ids) const override {
    auto st = sp_.Encode(text, ids);
    if (!st.ok()) return Status::InvalidArgument("SentencePiece encode failed: " + st.ToString());
    return Status::Ok();
  }
  Status Decode(const std::vector<int>& ids, std::string* text) const override {
    for (int id : ids)
      if (id < 0 || id >= sp_.GetPieceSize())
        return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the " +
                                       std::to_string(sp_.GetPieceSize()) + "-token vocabulary");
    auto st = sp_.Decode(ids, text);
    if (!st.ok()) return Status::InvalidArgument("SentencePiece decode failed: " + st.ToString());
    return Status::Ok();
  }
  int vocab_size() const override { return sp_.GetPieceSize(); }
  int bos_id() const override { return sp_.bos_id(); }
  int eos_id() const override { return sp_.eos_id(); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path) {
  auto tok = std::make_unique<SentencePieceTokenizer>();
  LATHE_RETURN_IF_ERROR(tok->Load(path));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace lathe::text
