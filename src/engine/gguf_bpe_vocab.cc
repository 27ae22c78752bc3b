#include "engine/gguf_bpe_vocab.h"

#include <map>

#include <nlohmann/json.hpp>

#include "core/json_nesting.h"
#include "engine/model_folder.h"

namespace lathe::engine {
namespace {

// The pre-tokenizers lathe maps between GGUF's names and tokenizer.json: the split regex (none:
// GPT-2's, inside ByteLevel), whether NFC comes first, and BPE's ignore_merges (a word already in
// the vocabulary is one token, merges or not). The regexes are those of the models' own
// tokenizer.json files (Llama 3; Qwen 2, 2.5 and 3), which llama.cpp's names stand for.
struct PreTokenizer {
  const char* name;
  const char* regex;
  bool nfc, ignore_merges;
};
constexpr PreTokenizer kPreTokenizers[] = {
    {"llama-bpe",
     R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
     false, true},
    {"qwen2",
     R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
     true, false},
    {"gpt-2", nullptr, false, false},
};

// A member's value, or the fallback where it is absent or of another type (never a throw).
bool Flag(const nlohmann::json& o, const char* key, bool fallback) {
  if (!o.is_object()) return fallback;
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() ? it->get<bool>() : fallback;
}
std::string Text(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

const PreTokenizer* PreTokenizerNamed(const std::string& name) {
  for (const PreTokenizer& p : kPreTokenizers)
    if (name == p.name) return &p;
  return nullptr;
}

std::string KnownNames() {
  std::string names;
  for (const PreTokenizer& p : kPreTokenizers) names += (names.empty() ? "\"" : ", \"") + std::string(p.name) + "\"";
  return names;
}

bool IsByteLevel(const nlohmann::json& j, bool use_regex) {
  return Text(j, "type") == "ByteLevel" && Flag(j, "use_regex", true) == use_regex && !Flag(j, "add_prefix_space", false);
}

// Which of kPreTokenizers a tokenizer.json's normalizer, pre_tokenizer and ignore_merges are.
const PreTokenizer* Recognize(const nlohmann::json& j) {
  const nlohmann::json norm = j.contains("normalizer") ? j["normalizer"] : nlohmann::json();
  const bool nfc = Text(norm, "type") == "NFC";
  if (!norm.is_null() && !nfc) return nullptr;
  const nlohmann::json pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : nlohmann::json();
  const bool ignore_merges = Flag(j["model"], "ignore_merges", false);
  std::string regex;
  if (IsByteLevel(pre, true)) {
    regex = "";
  } else if (Text(pre, "type") == "Sequence" && pre.contains("pretokenizers") &&
             pre["pretokenizers"].is_array() && pre["pretokenizers"].size() == 2) {
    const nlohmann::json& split = pre["pretokenizers"][0];
    if (Text(split, "type") != "Split" || Text(split, "behavior") != "Isolated" || Flag(split, "invert", false) ||
        !split.contains("pattern") || !split["pattern"].is_object() ||
        !split["pattern"].contains("Regex") || !split["pattern"]["Regex"].is_string() ||
        !IsByteLevel(pre["pretokenizers"][1], false))
      return nullptr;
    regex = split["pattern"]["Regex"].get<std::string>();
  } else {
    return nullptr;
  }
  for (const PreTokenizer& p : kPreTokenizers)
    if ((p.regex ? std::string(p.regex) : "") == regex && p.nfc == nfc && p.ignore_merges == ignore_merges) return &p;
  return nullptr;
}

}  // namespace

Result<GgufBpeVocab> BpeVocabFromTokenizerJson(const std::string& json_text, int64_t vocab_size,
                                               const std::string& file) {
  if (json_text.size() > kMaxTokenizerJsonBytes)
    return Status::InvalidArgument(file + ": over " + std::to_string(kMaxTokenizerJsonBytes >> 20) + " MiB");
  if (!JsonNestingWithin(json_text, kMaxTokenizerJsonNesting))
    return Status::InvalidArgument(file + ": nested deeper than " + std::to_string(kMaxTokenizerJsonNesting));
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object() || !j.contains("model") || Text(j["model"], "type") != "BPE")
    return Status::Unsupported(file + ": GGUF export writes BPE tokenizers (model.type \"BPE\") and SentencePiece "
                               "tokenizer.model files");
  const nlohmann::json& model = j["model"];
  if (Flag(model, "byte_fallback", false))
    return Status::Unsupported(file + ": model.byte_fallback: GGUF's \"gpt2\" vocabularies are byte-level");
  const PreTokenizer* pre = Recognize(j);
  if (!pre)
    return Status::Unsupported(file + ": normalizer/pre_tokenizer/model.ignore_merges match none of the byte-level "
                               "pre-tokenizers GGUF export knows (" + KnownNames() + ")");
  if (vocab_size <= 0 || vocab_size > int64_t{1} << 24)
    return Status::InvalidArgument(file + ": vocabulary size " + std::to_string(vocab_size) + " out of range");
  GgufBpeVocab v;
  v.pre = pre->name;
  v.tokens.assign(static_cast<size_t>(vocab_size), "");
  v.types.assign(static_cast<size_t>(vocab_size), 0);
  auto place = [&](int64_t id, const std::string& text, GgufTokenType type, const std::string& field) -> Status {
    if (id < 0 || id >= vocab_size)
      return Status::InvalidArgument(file + ": " + field + ": id " + std::to_string(id) +
                                     " is outside the model's vocabulary of " + std::to_string(vocab_size));
    if (v.types[static_cast<size_t>(id)] != 0 && v.tokens[static_cast<size_t>(id)] != text)
      return Status::InvalidArgument(file + ": " + field + ": id " + std::to_string(id) + " is given twice");
    v.tokens[static_cast<size_t>(id)] = text;
    v.types[static_cast<size_t>(id)] = static_cast<int32_t>(type);
    return Status::Ok();
  };
  if (!model.contains("vocab") || !model["vocab"].is_object())
    return Status::InvalidArgument(file + ": model.vocab must be an object");
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer())
      return Status::InvalidArgument(file + ": model.vocab[\"" + it.key().substr(0, 64) + "\"] is not an integer id");
    LATHE_RETURN_IF_ERROR(place(it.value().get<int64_t>(), it.key(), GgufTokenType::kNormal, "model.vocab"));
  }
  if (j.contains("added_tokens")) {
    if (!j["added_tokens"].is_array()) return Status::InvalidArgument(file + ": added_tokens must be an array");
    for (const nlohmann::json& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
          !t["content"].is_string())
        return Status::InvalidArgument(file + ": added_tokens: each needs an integer id and a string content");
      const auto type = Flag(t, "special", false) ? GgufTokenType::kControl : GgufTokenType::kUserDefined;
      LATHE_RETURN_IF_ERROR(place(t["id"].get<int64_t>(), t["content"].get<std::string>(), type, "added_tokens"));
    }
  }
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.types[id] == 0) {
      v.tokens[id] = "[PAD" + std::to_string(id) + "]";
      v.types[id] = static_cast<int32_t>(GgufTokenType::kUnused);
    }
  if (!model.contains("merges") || !model["merges"].is_array())
    return Status::InvalidArgument(file + ": model.merges must be an array");
  v.merges.reserve(model["merges"].size());
  for (const nlohmann::json& m : model["merges"]) {
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return Status::InvalidArgument(file + ": model.merges[" + std::to_string(v.merges.size()) +
                                     "] is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return v;
}

Result<GgufBpeVocab> BpeVocabFromGguf(const GgufFile& g, const std::string& file) {
  GgufBpeVocab v;
  const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != GgufType::kArray || tokens->array_type != GgufType::kString || tokens->strings.empty())
    return Status::InvalidArgument(file + ": tokenizer.ggml.tokens must be a non-empty array of strings");
  v.tokens = tokens->strings;
  const GgufValue* types = g.Find("tokenizer.ggml.token_type");
  if (types) {
    if (types->type != GgufType::kArray || types->array_type == GgufType::kString ||
        types->numbers.size() != v.tokens.size())
      return Status::InvalidArgument(file + ": tokenizer.ggml.token_type must be a numeric array as long as the " +
                                     std::to_string(v.tokens.size()) + " tokens");
    for (double t : types->numbers) {
      if (t < 1 || t > 6 || t == static_cast<double>(GgufTokenType::kByte))
        return Status::InvalidArgument(file + ": tokenizer.ggml.token_type holds " + std::to_string(t) +
                                       ", not a byte-level BPE token type (1-5)");
      v.types.push_back(static_cast<int32_t>(t));
    }
  } else {
    v.types.assign(v.tokens.size(), static_cast<int32_t>(GgufTokenType::kNormal));
  }
  const GgufValue* merges = g.Find("tokenizer.ggml.merges");
  if (!merges || merges->type != GgufType::kArray || merges->array_type != GgufType::kString)
    return Status::InvalidArgument(file + ": tokenizer.ggml.merges must be an array of strings");
  v.merges = merges->strings;
  const GgufValue* pre = g.Find("tokenizer.ggml.pre");
  v.pre = pre && pre->type == GgufType::kString ? pre->str : "gpt-2";
  if (v.pre == "default" || v.pre == "gpt2") v.pre = "gpt-2";
  if (!PreTokenizerNamed(v.pre))
    return Status::Unsupported(file + ": tokenizer.ggml.pre is \"" + v.pre.substr(0, 64) + "\"; lathe knows " +
                               KnownNames());
  return v;
}

void AddBpeVocabToGguf(const GgufBpeVocab& v, std::map<std::string, GgufValue>* m) {
  (*m)["tokenizer.ggml.model"] = GgufValue::String("gpt2");
  (*m)["tokenizer.ggml.pre"] = GgufValue::String(v.pre);
  (*m)["tokenizer.ggml.tokens"] = GgufValue::StringArray(v.tokens);
  (*m)["tokenizer.ggml.token_type"] =
      GgufValue::NumberArray(GgufType::kI32, std::vector<double>(v.types.begin(), v.types.end()));
  (*m)["tokenizer.ggml.merges"] = GgufValue::StringArray(v.merges);
}

Result<HfTokenizerFiles> HfTokenizerFromBpeVocab(const GgufBpeVocab& v, int64_t bos_id, int64_t eos_id,
                                                 const std::string& file) {
  const PreTokenizer* pre = PreTokenizerNamed(v.pre);
  if (!pre) return Status::Unsupported(file + ": pre-tokenizer \"" + v.pre.substr(0, 64) + "\"; lathe knows " + KnownNames());
  if (v.types.size() != v.tokens.size()) return Status::InvalidArgument(file + ": token types and tokens differ in number");
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const auto type = static_cast<GgufTokenType>(v.types[id]);
    if (type == GgufTokenType::kNormal || type == GgufTokenType::kUnused) {
      if (!vocab.emplace(v.tokens[id], id).second)
        return Status::InvalidArgument(file + ": token " + std::to_string(id) + " repeats an earlier token's text");
    } else {
      added.push_back({{"id", id}, {"content", v.tokens[id]}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", type != GgufTokenType::kUserDefined}});
    }
  }
  nlohmann::json pre_tokenizer = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                                  {"use_regex", pre->regex == nullptr}};
  if (pre->regex)
    pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers",
                      {{{"type", "Split"}, {"pattern", {{"Regex", pre->regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                       pre_tokenizer}}};
  const nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", pre->nfc ? nlohmann::json{{"type", "NFC"}} : nlohmann::json()},
      {"pre_tokenizer", pre_tokenizer},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
        {"ignore_merges", pre->ignore_merges}, {"vocab", vocab}, {"merges", v.merges}}}};
  auto token = [&](int64_t id) -> nlohmann::json {
    if (id < 0 || id >= static_cast<int64_t>(v.tokens.size())) return nullptr;
    return v.tokens[static_cast<size_t>(id)];
  };
  const nlohmann::json config = {{"bos_token", token(bos_id)}, {"eos_token", token(eos_id)}};
  return HfTokenizerFiles{j.dump(), config.dump(2) + "\n"};
}

}  // namespace lathe::engine
