#include "data/default_corpus.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/random.h"

namespace lathe::data {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kHeldOutOneIn = 50;  // 2% of the synsets and fortunes
constexpr size_t kMinFortuneBytes = 20, kMaxFortuneBytes = 1000;
constexpr size_t kMaxDefinitionBytes = 300;  // longer glosses make poor one-sentence answers

// FNV-1a: a hash that is the same on every machine (std::hash is not).
uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool HeldOut(std::string_view identity) { return StableHash(identity) % kHeldOutOneIn == 0; }

std::string Trim(std::string s) {
  const char* ws = " \t\r\n;:,";
  s.erase(0, s.find_first_not_of(ws));
  const size_t end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

// WordNet writes "domestic_dog" and marks adjectives "able(a)": a word as people write it.
std::string CleanWord(std::string w) {
  if (size_t paren = w.find('('); paren != std::string::npos) w.resize(paren);
  std::replace(w.begin(), w.end(), '_', ' ');
  return w;
}

std::string Capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// Ends with a full stop (when it has no end mark); its case as it was.
std::string Period(std::string s) {
  s = Trim(std::move(s));
  if (!s.empty() && s.back() != '.' && s.back() != '!' && s.back() != '?') s.push_back('.');
  return s;
}

std::string WithArticle(const std::string& word) {
  if (word.empty() || std::isupper(static_cast<unsigned char>(word[0]))) return word;  // a name
  const bool vowel = std::string("aeiou").find(word[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + word;
}

// "(usually followed by `to') having the means; "able to swim"" -> definition and examples.
std::string Sentence(std::string s) { return Capitalized(Period(std::move(s))); }

void SplitGloss(const std::string& gloss, std::string* definition, std::vector<std::string>* examples) {
  const size_t quote = gloss.find('"');
  std::string def = Trim(gloss.substr(0, quote));
  if (!def.empty() && def[0] == '(') {  // a usage note, not part of the definition
    if (size_t close = def.find(')'); close != std::string::npos) def = Trim(def.substr(close + 1));
  }
  *definition = def;
  if (quote == std::string::npos) return;
  std::istringstream rest(gloss.substr(quote));
  std::string piece;
  bool inside = false;
  while (std::getline(rest, piece, '"')) {
    if (inside && piece.size() >= 10) examples->push_back(Sentence(piece));
    inside = !inside;
  }
}

struct Synset {
  std::string pos;  // file: n, v, a, r
  std::string offset;
  std::vector<std::string> words;
  std::string gloss;
  std::vector<std::pair<std::string, std::string>> hypernyms;  // (file, offset)
  std::vector<std::pair<std::string, std::string>> antonyms;   // (file, offset)
  std::vector<int> antonym_words;                              // the target's word number (1-based)
};

std::string FileOf(const std::string& pointer_pos) { return pointer_pos == "s" ? "a" : pointer_pos; }

// One data.* line: "offset lexfile type w_cnt(hex) word lexid ... p_cnt ptr... [frames] | gloss".
bool ParseSynset(const std::string& line, const std::string& pos, Synset* s) {
  const size_t bar = line.find(" | ");
  if (bar == std::string::npos) return false;
  std::istringstream f(line.substr(0, bar));
  std::string lexfile, type, count;
  if (!(f >> s->offset >> lexfile >> type >> count)) return false;
  s->pos = pos;
  const unsigned long words = std::strtoul(count.c_str(), nullptr, 16);
  for (unsigned long i = 0; i < words; ++i) {
    std::string word, lexid;
    if (!(f >> word >> lexid)) return false;
    s->words.push_back(CleanWord(word));
  }
  int pointers = 0;
  if (!(f >> pointers)) return false;
  for (int i = 0; i < pointers; ++i) {
    std::string symbol, offset, ppos, source_target;
    if (!(f >> symbol >> offset >> ppos >> source_target)) return false;
    if (symbol == "@" || symbol == "@i") s->hypernyms.push_back({FileOf(ppos), offset});
    if (symbol == "!" && source_target.size() == 4) {
      s->antonyms.push_back({FileOf(ppos), offset});
      s->antonym_words.push_back(static_cast<int>(std::strtoul(source_target.substr(2).c_str(), nullptr, 16)));
    }
  }
  s->gloss = Trim(line.substr(bar + 3));
  return !s->words.empty() && !s->gloss.empty();
}

std::vector<Synset> ReadWordNet(const std::string& dir) {
  std::vector<Synset> out;
  const std::pair<const char*, const char*> files[] = {{"data.noun", "n"}, {"data.verb", "v"}, {"data.adj", "a"}, {"data.adv", "r"}};
  for (const auto& file : files) {
    std::ifstream in(dir + "/" + file.first);
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == ' ') continue;  // the license header
      Synset s;
      if (ParseSynset(line, file.second, &s)) out.push_back(std::move(s));
    }
  }
  return out;
}

// Fortune files: entries separated by lines holding "%". Art files are not prose.
std::vector<std::string> ReadFortunes(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && !e.path().has_extension() && name != "art" && name != "ascii-art") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string entry;
    auto flush = [&] {
      std::string t;  // whitespace runs become one space
      bool space = false;
      for (char c : entry) {
        if (c == '\n' || c == '\t' || c == ' ') {
          space = !t.empty();
          continue;
        }
        if (space) t.push_back(' ');
        space = false;
        t.push_back(c);
      }
      if (t.size() >= kMinFortuneBytes && t.size() <= kMaxFortuneBytes) out.push_back(t);
      entry.clear();
    };
    for (std::string line; std::getline(in, line);) {
      if (line == "%") flush();
      else entry += line + "\n";
    }
    flush();
  }
  return out;
}

// Takes `n` of `pool` in a seeded order (all of it when n >= its size).
void TakeSome(std::vector<std::string>* pool, size_t n, Rng* rng, std::vector<std::string>* out) {
  rng->Shuffle(pool);
  for (size_t i = 0; i < pool->size() && i < n; ++i) out->push_back(std::move((*pool)[i]));
}

// A word that reads well inside a made-up question: lowercase letters, one word, short.
bool Plain(const std::string& w) {
  if (w.empty() || w.size() > 12) return false;
  for (char c : w)
    if (c < 'a' || c > 'z') return false;
  return true;
}

// Questions about two or three words at once, answered by defining each ("How do I reset my
// password?" -> "To reset is to set again or anew. A password is a secret word..."), and the
// difference between two kinds of the same thing: what the tutorials' longer questions look like,
// so that the model answers them with sentences about their words.
struct Composer {
  std::vector<const GlossEntry*> nouns, verbs, adjectives;
  std::map<std::string, std::vector<const GlossEntry*>> by_hypernym;  // nouns
  std::vector<const std::vector<const GlossEntry*>*> kinds;          // its groups of two or more (Index)

  void Index() {
    for (const auto& group : by_hypernym)
      if (group.second.size() >= 2) kinds.push_back(&group.second);
  }

  void Add(const GlossEntry& e) {
    if (!Plain(e.words[0]) || e.definition.size() > 120 || e.definition.empty()) return;
    if (e.pos == "n") {
      nouns.push_back(&e);
      if (!e.hypernyms.empty()) by_hypernym[e.hypernyms[0]].push_back(&e);
    } else if (e.pos == "v") {
      verbs.push_back(&e);
    } else if (e.pos == "a") {
      adjectives.push_back(&e);
    }
  }
  static std::string Is(const GlossEntry& n) {
    return Capitalized(WithArticle(n.words[0])) + " is " + Period(n.definition);
  }
  std::string Make(Rng* rng) const {
    static const char* kHow[] = {"How do I %v my %n?", "How can I %v %a?", "What is the process to %v %a?",
                                 "What should I do if I need to %v my %n?", "What happens if I %v my %n?",
                                 "Is it possible to %v my %n?", "Where can I %v %a?", "Why would I %v my %n?"};
    const uint64_t kind = rng->Below(10);
    if (kind < 2 && !kinds.empty()) {  // the difference between two kinds of one thing
      for (int tries = 0; tries < 8; ++tries) {
        const auto& group = *kinds[rng->Below(kinds.size())];
        const GlossEntry* a = group[rng->Below(group.size())];
        const GlossEntry* b = group[rng->Below(group.size())];
        if (a == b || a->words[0] == b->words[0]) continue;
        std::string answer = Is(*a);
        answer.pop_back();  // the full stop: one sentence
        return "What is the difference between " + WithArticle(a->words[0]) + " and " + WithArticle(b->words[0]) + "? " +
               answer + ", while " + WithArticle(b->words[0]) + " is " + Period(b->definition);
      }
    }
    if (verbs.empty() || nouns.empty()) return "";
    const GlossEntry& v = *verbs[rng->Below(verbs.size())];
    const GlossEntry& n = *nouns[rng->Below(nouns.size())];
    const GlossEntry* adj = kind >= 7 && !adjectives.empty() ? adjectives[rng->Below(adjectives.size())] : nullptr;
    const std::string noun = adj ? adj->words[0] + " " + n.words[0] : n.words[0];
    std::string q = kHow[rng->Below(sizeof kHow / sizeof kHow[0])];
    auto put = [&q](const std::string& hole, const std::string& with) {
      if (size_t at = q.find(hole); at != std::string::npos) q.replace(at, hole.size(), with);
    };
    put("%v", v.words[0]);
    put("%n", noun);
    put("%a", WithArticle(noun));
    std::string answer = "To " + v.words[0] + " is to " + Period(v.definition);
    if (adj) answer += " " + Capitalized(adj->words[0]) + " means " + Period(adj->definition);
    return q + " " + answer + " " + Is(n);
  }
};

}  // namespace

std::vector<std::pair<std::string, std::string>> QuestionsAbout(const GlossEntry& e) {
  std::vector<std::pair<std::string, std::string>> out;
  if (e.words.empty() || e.definition.empty() || e.definition.size() > kMaxDefinitionBytes) return out;
  const std::string w = CleanWord(e.words[0]);
  const std::string def = Trim(e.definition);
  const uint64_t pick = e.key;
  if (e.pos == "n") {
    switch (pick % 4) {
      case 0: out.push_back({"What is " + WithArticle(w) + "?", Capitalized(WithArticle(w)) + " is " + Period(def)}); break;
      case 1: out.push_back({"What does " + w + " mean?", Capitalized(w) + " means " + Period(def)}); break;
      case 2: out.push_back({"Can you explain what " + WithArticle(w) + " is?", Capitalized(WithArticle(w)) + " is " + Period(def)}); break;
      default: out.push_back({"What is meant by " + w + "?", "By " + w + " we mean " + Period(def)}); break;
    }
    if (!e.hypernyms.empty() && (pick / 4) % 2 == 0)
      out.push_back({"What kind of thing is " + WithArticle(w) + "?",
                     Capitalized(WithArticle(w)) + " is a kind of " + CleanWord(e.hypernyms[0]) + "."});
  } else if (e.pos == "v") {
    // Verb glosses are infinitives without "to" ("be face to face with"): they follow "to".
    switch (pick % 2) {
      case 0: out.push_back({"What does it mean to " + w + "?", "To " + w + " means to " + Period(def)}); break;
      default: out.push_back({"How do I " + w + "?", "To " + w + " is to " + Period(def)}); break;
    }
  } else {
    switch (pick % 2) {
      case 0: out.push_back({"What does " + w + " mean?", Capitalized(w) + " means " + Period(def)}); break;
      default: out.push_back({"What is the meaning of " + w + "?", "The meaning of " + w + " is " + Period(def)}); break;
    }
    if (!e.antonyms.empty())
      out.push_back({"What is the opposite of " + w + "?", "The opposite of " + w + " is " + CleanWord(e.antonyms[0]) + "."});
  }
  if (e.words.size() > 1 && (pick / 8) % 2 == 0)
    out.push_back({"What is another word for " + w + "?", "Another word for " + w + " is " + CleanWord(e.words[1]) + "."});
  if (!e.examples.empty() && (pick / 16) % 2 == 0)
    out.push_back({"How is the word " + w + " used in a sentence?", "For example: " + e.examples[0]});
  return out;
}

Result<DefaultCorpus> BuildDefaultCorpus(const DefaultCorpusSources& sources, const DefaultCorpusOptions& o) {
  const std::vector<Synset> synsets = ReadWordNet(sources.wordnet_dir);
  std::vector<std::string> fortunes = ReadFortunes(sources.fortunes_dir);
  if (synsets.size() < 1000 || fortunes.size() < 100)
    return Status::NotFound("the default model's corpus is missing (" + sources.wordnet_dir + ", " + sources.fortunes_dir +
                            "): install Debian's wordnet-base and fortunes (scripts/setup.sh does)");
  std::map<std::pair<std::string, std::string>, const Synset*> by_offset;
  for (const Synset& s : synsets) by_offset[{s.pos, s.offset}] = &s;
  auto word_of = [&](const std::pair<std::string, std::string>& ref, int word_number) -> std::string {
    auto it = by_offset.find(ref);
    if (it == by_offset.end()) return "";
    const auto& words = it->second->words;
    const size_t i = word_number >= 1 && static_cast<size_t>(word_number) <= words.size() ? word_number - 1 : 0;
    return words[i];
  };

  DefaultCorpus c;
  std::vector<std::string> glosses, questions, examples;
  std::vector<GlossEntry> kept;  // the training synsets' entries, for composed questions
  kept.reserve(synsets.size());
  for (const Synset& s : synsets) {
    const bool held = HeldOut(s.pos + s.offset);
    const std::string line = s.words[0] + ": " + s.gloss;  // the first recipe's record
    GlossEntry e;
    e.pos = s.pos;
    e.words = s.words;
    SplitGloss(s.gloss, &e.definition, &e.examples);
    for (const auto& h : s.hypernyms)
      if (std::string w = word_of(h, 0); !w.empty()) e.hypernyms.push_back(w);
    for (size_t i = 0; i < s.antonyms.size(); ++i)
      if (std::string w = word_of(s.antonyms[i], s.antonym_words[i]); !w.empty()) e.antonyms.push_back(w);
    e.key = StableHash(s.offset + s.pos);
    auto qa = o.questions ? QuestionsAbout(e) : std::vector<std::pair<std::string, std::string>>{};
    ++c.synsets;
    if (held) {
      c.heldout_text.push_back(line);
      for (auto& q : qa) c.heldout_questions.push_back(std::move(q));
      continue;
    }
    glosses.push_back(line);
    for (const auto& q : qa) questions.push_back(q.first + " " + q.second);
    if (!o.questions) continue;
    for (const auto& x : e.examples) examples.push_back(x);
    kept.push_back(std::move(e));
  }
  std::vector<std::string> train_fortunes;
  for (auto& f : fortunes) (HeldOut(f) ? c.heldout_text : train_fortunes).push_back(std::move(f));
  c.fortunes = fortunes.size();
  c.examples = examples.size();

  Rng rng(o.seed);
  if (o.questions) {
    Composer composer;
    for (const GlossEntry& e : kept) composer.Add(e);
    composer.Index();
    const size_t composed = questions.size() / 2;
    for (size_t i = 0; i < composed; ++i)
      if (std::string q = composer.Make(&rng); !q.empty()) questions.push_back(std::move(q));
  }
  c.generated_questions = questions.size();
  if (!o.questions) {  // the first recipe's corpus: its records in one seeded order
    c.train = std::move(glosses);
    c.train.insert(c.train.end(), train_fortunes.begin(), train_fortunes.end());
    rng.Shuffle(&c.train);
    if (o.max_records > 0 && c.train.size() > o.max_records) c.train.resize(o.max_records);
    return c;
  }
  const size_t all = glosses.size() + train_fortunes.size() + questions.size() + examples.size();
  const size_t budget = o.max_records > 0 ? std::min<size_t>(o.max_records, all) : all;
  TakeSome(&train_fortunes, budget / 5, &rng, &c.train);
  const size_t rest = budget - c.train.size();
  TakeSome(&glosses, rest * 35 / 100, &rng, &c.train);
  TakeSome(&examples, rest * 15 / 100, &rng, &c.train);
  TakeSome(&questions, budget - c.train.size(), &rng, &c.train);
  rng.Shuffle(&c.train);
  return c;
}

}  // namespace lathe::data
