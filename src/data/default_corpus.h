// The default model's pretraining corpus, made from text Debian ships under permissive licenses:
// WordNet 3.0 (glosses, example sentences, synonyms, hypernyms, antonyms) and the fortunes
// collection, plus question/answer records generated from WordNet in the shape the tutorials'
// datasets have ("What is a bank?" answered by a sentence), so that a model pretrained on it
// answers a question with a sentence.
//
// Held-out text is chosen by a stable hash of the WordNet synset or the fortune, never by a
// shuffle: every recipe holds out the same text, and no record made from a held-out synset
// (its gloss, its questions, its examples) is trained on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::data {

struct DefaultCorpusSources {
  std::string wordnet_dir = "/usr/share/wordnet";         // Debian package wordnet-base
  std::string fortunes_dir = "/usr/share/games/fortunes";  // Debian packages fortunes, fortunes-min
};

struct DefaultCorpusOptions {
  // false: only the "word: gloss" lines and the fortunes (the first recipe's corpus), for
  // comparing recipes on the same held-out text.
  bool questions = true;
  uint64_t seed = 7;  // which records, and their order
  // Training records at most (0: all). The mixture within it: the fortunes up to a fifth, then
  // of the rest 35% "word: gloss" lines, 50% questions and 15% example sentences (the first
  // recipe: the glosses and fortunes in one seeded order).
  uint64_t max_records = 0;
};

struct DefaultCorpus {
  std::vector<std::string> train;  // shuffled (seeded)
  // Held-out text in the first recipe's shape ("word: gloss" lines and fortunes): what
  // perplexity is measured on, the same for every recipe.
  std::vector<std::string> heldout_text;
  // Held-out questions with their answers (from held-out synsets), for checking answers.
  std::vector<std::pair<std::string, std::string>> heldout_questions;
  uint64_t synsets = 0, fortunes = 0, generated_questions = 0, examples = 0;
};

// NotFound (naming the Debian packages) when WordNet or the fortunes are missing.
Result<DefaultCorpus> BuildDefaultCorpus(const DefaultCorpusSources& sources, const DefaultCorpusOptions& options);

// The question/answer records one WordNet entry gives (exposed for tests): `pos` is "n", "v",
// "a" or "r"; words as WordNet writes them (underscores for spaces); definition and examples as
// the gloss splits into them.
struct GlossEntry {
  std::string pos;
  std::vector<std::string> words;
  std::string definition;
  std::vector<std::string> examples;
  std::vector<std::string> hypernyms;  // the first word of each hypernym synset
  std::vector<std::string> antonyms;
  uint64_t key = 0;  // picks the question templates: the same entry, the same questions
};
std::vector<std::pair<std::string, std::string>> QuestionsAbout(const GlossEntry& entry);

}  // namespace lathe::data
