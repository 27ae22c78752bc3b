// The default model's corpus (data/default_corpus.h): WordNet lines parsed into questions with
// answers, held-out text chosen by hash and never trained on, the mixture within max_records,
// the same corpus every time, and a clear error when the Debian packages are missing. Runs on a
// small WordNet-shaped folder the test writes, and on the real Debian files when installed.
#include "data/default_corpus.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <set>

#include "test_util.h"

namespace lathe::data {
namespace {

using lathe::testing::TempDir;

// i as lowercase letters ("a", "b", ..., "ba", ...): words that read as words (no digits).
std::string Letters(int i) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('a' + i % 26));
    i /= 26;
  } while (i > 0);
  return s;
}

// Whether `word` occurs in `text` as a whole word.
bool ContainsWord(const std::string& text, const std::string& word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !std::isalpha(static_cast<unsigned char>(text[at - 1]));
    const size_t end = at + word.size();
    const bool ends = end == text.size() || !std::isalpha(static_cast<unsigned char>(text[end]));
    if (starts && ends) return true;
  }
  return false;
}

// Synsets in WordNet's data.* format: nouns under two hypernyms, verbs, adjectives with
// antonyms; glosses with examples. Offsets are 8 digits, as in WordNet.
DefaultCorpusSources FakeSources(const TempDir& tmp, int synsets = 1200, int fortunes = 150) {
  std::string noun = "  1 This software and database is being provided to you, the LICENSEE\n";
  noun += "00000001 03 n 01 entity 0 000 | that which is perceived to have its own distinct existence\n";
  noun += "00000002 03 n 01 thing 0 000 | a separate and self-contained entity\n";
  std::string verb, adj;
  for (int i = 0; i < synsets; ++i) {
    char offset[16];
    std::snprintf(offset, sizeof offset, "%08d", 1000 + i);
    const std::string word = "w" + Letters(i);
    noun += std::string(offset) + " 05 n 02 " + word + " 0 other_" + word + " 0 001 @ " + (i % 2 ? "00000001" : "00000002") +
            " n 0000 | a kind of " + word + " used for counting; \"the " + word + " was counted twice\"\n";
    if (i % 4 == 0) verb += std::string(offset) + " 30 v 01 do" + Letters(i) + " 0 000 01 + 02 00 | make something happen again\n";
    if (i % 4 == 1) {
      char other[16];
      std::snprintf(other, sizeof other, "%08d", 1000 + i + 1);
      adj += std::string(offset) + " 00 a 01 able" + Letters(i) + "(a) 0 001 ! " + other + " a 0101 | (usually followed by `to') having the means\n";
      adj += std::string(other) + " 00 a 01 unable" + Letters(i) + " 0 001 ! " + offset + " a 0101 | not having the means\n";
    }
  }
  tmp.Write("wordnet/data.noun", noun);
  tmp.Write("wordnet/data.verb", verb);
  tmp.Write("wordnet/data.adj", adj);
  tmp.Write("wordnet/data.adv", "00000099 02 r 01 quickly 0 000 | with speed; \"she answered quickly\"\n");
  std::string f;
  for (int i = 0; i < fortunes; ++i) f += "Fortune number " + std::to_string(i) + " says\n  something wise.\n%\n";
  tmp.Write("fortunes/fortunes", f);
  tmp.Write("fortunes/fortunes.dat", "binary index: not prose");
  return {tmp.File("wordnet"), tmp.File("fortunes")};
}

TEST(DefaultCorpus, QuestionsAreAnsweredBySentencesMadeFromTheGloss) {
  GlossEntry noun{"n", {"bank", "depository financial institution"}, "a financial institution that accepts deposits",
                  {"He cashed a check at the bank."}, {"financial institution"}, {}, 0};
  auto qa = QuestionsAbout(noun);
  ASSERT_FALSE(qa.empty());
  EXPECT_EQ(qa[0].first, "What is a bank?");
  EXPECT_EQ(qa[0].second, "A bank is a financial institution that accepts deposits.");
  std::set<std::string> asked;
  for (const auto& [q, a] : qa) {
    asked.insert(q);
    EXPECT_EQ(q.back(), '?') << q;
    EXPECT_EQ(a.back(), '.') << a;
  }
  EXPECT_TRUE(asked.count("What kind of thing is a bank?"));
  EXPECT_TRUE(asked.count("What is another word for bank?"));
  EXPECT_TRUE(asked.count("How is the word bank used in a sentence?"));

  GlossEntry verb{"v", {"reset"}, "set again or anew", {}, {}, {}, 1};
  qa = QuestionsAbout(verb);
  ASSERT_EQ(qa.size(), 1u);
  EXPECT_EQ(qa[0].first, "How do I reset?");
  EXPECT_EQ(qa[0].second, "To reset is to set again or anew.");

  GlossEntry adjective{"a", {"safe"}, "free from danger", {}, {}, {"dangerous"}, 0};
  qa = QuestionsAbout(adjective);
  ASSERT_EQ(qa.size(), 2u);
  EXPECT_EQ(qa[0].second, "Safe means free from danger.");
  EXPECT_EQ(qa[1].first, "What is the opposite of safe?");
  EXPECT_EQ(qa[1].second, "The opposite of safe is dangerous.");
  // "An" before a vowel, no article before a name.
  EXPECT_EQ(QuestionsAbout({"n", {"apple"}, "fruit", {}, {}, {}, 0})[0].first, "What is an apple?");
  EXPECT_EQ(QuestionsAbout({"n", {"Paris"}, "the capital of France", {}, {}, {}, 0})[0].second,
            "Paris is the capital of France.");
}

TEST(DefaultCorpus, NoQuestionsWithoutADefinitionOrWithAnOverlongOne) {
  EXPECT_TRUE(QuestionsAbout({"n", {"x"}, "", {}, {}, {}, 0}).empty());
  EXPECT_TRUE(QuestionsAbout({"n", {}, "a thing", {}, {}, {}, 0}).empty());
  EXPECT_TRUE(QuestionsAbout({"n", {"x"}, std::string(301, 'a'), {}, {}, {}, 0}).empty());
}

TEST(DefaultCorpus, HeldOutSynsetsAreNeverTrainedOnAndAreTheSameForEveryRecipe) {
  TempDir tmp;
  const DefaultCorpusSources sources = FakeSources(tmp);
  auto with = BuildDefaultCorpus(sources, {});
  DefaultCorpusOptions first_recipe;
  first_recipe.questions = false;
  auto without = BuildDefaultCorpus(sources, first_recipe);
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_EQ(with->heldout_text, without->heldout_text);
  ASSERT_FALSE(with->heldout_text.empty());
  EXPECT_LT(with->heldout_text.size(), with->synsets / 10);  // about 2%
  EXPECT_FALSE(with->heldout_questions.empty());
  EXPECT_TRUE(without->heldout_questions.empty());
  EXPECT_GT(with->generated_questions, 0u);
  // No training record names a held-out synset's word: its gloss, questions and examples are out.
  for (const std::string& held : with->heldout_text) {
    if (held.rfind("Fortune", 0) == 0) {
      for (const std::string& t : with->train) EXPECT_NE(t, held);
      continue;
    }
    const std::string word = held.substr(0, held.find(':'));
    if (word[0] != 'w') continue;  // "entity" and "thing" are every noun's hypernyms
    for (const std::string& t : with->train) ASSERT_FALSE(ContainsWord(t, word)) << word << " in " << t;
  }
}

TEST(DefaultCorpus, TheSameSourcesGiveTheSameCorpusAndMaxRecordsBoundsIt) {
  TempDir tmp;
  const DefaultCorpusSources sources = FakeSources(tmp);
  DefaultCorpusOptions o;
  o.max_records = 500;
  auto a = BuildDefaultCorpus(sources, o);
  auto b = BuildDefaultCorpus(sources, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->train, b->train);
  EXPECT_EQ(a->train.size(), 500u);
  size_t fortunes = 0, questions = 0, glosses = 0;
  for (const std::string& t : a->train) {
    fortunes += t.rfind("Fortune", 0) == 0;
    questions += t.find("? ") != std::string::npos;
    glosses += t.find(": ") != std::string::npos && t.find("? ") == std::string::npos;
  }
  EXPECT_EQ(fortunes, 100u);  // a fifth
  EXPECT_GT(questions, 150u);
  EXPECT_GT(glosses, 100u);
  o.seed = 8;
  auto c = BuildDefaultCorpus(sources, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->train, a->train);
  EXPECT_EQ(c->heldout_text, a->heldout_text);  // the held-out text does not depend on the seed
}

TEST(DefaultCorpus, ComposedQuestionsDefineEachOfTheirWords) {
  TempDir tmp;
  auto c = BuildDefaultCorpus(FakeSources(tmp), {});
  ASSERT_TRUE(c.ok());
  size_t composed = 0, differences = 0;
  for (const std::string& t : c->train) {
    if (t.rfind("What is the difference between ", 0) == 0) {
      ++differences;
      EXPECT_NE(t.find(", while "), std::string::npos) << t;
    } else if (t.rfind("How do I do", 0) == 0 && t.find(" my ") != std::string::npos) {
      ++composed;
      EXPECT_NE(t.find("? To do"), std::string::npos) << t;
      EXPECT_NE(t.find(" is to make something happen again."), std::string::npos) << t;
    }
  }
  EXPECT_GT(composed, 0u);
  EXPECT_GT(differences, 0u);
}

TEST(DefaultCorpus, MissingPackagesAreNamed) {
  TempDir tmp;
  auto c = BuildDefaultCorpus({tmp.File("no-wordnet"), tmp.File("no-fortunes")}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_NE(c.status().message().find("wordnet-base"), std::string::npos);
  EXPECT_NE(c.status().message().find("fortunes"), std::string::npos);
}

// Hostile input: a line that ends part-way, a huge word count, a pointer count past the line,
// binary bytes. Such lines are skipped, never read past.
TEST(DefaultCorpus, MalformedWordNetLinesAreSkipped) {
  TempDir tmp;
  DefaultCorpusSources sources = FakeSources(tmp);
  std::string noun = lathe::testing::ReadFile(sources.wordnet_dir + "/data.noun");
  noun += "00009991 05 n ff word 0 | truncated word list\n";
  noun += "00009992 05 n 01 word 0 999 @ 00000001 n 0000 | pointers past the end\n";
  noun += "00009993 05 n 01\n";
  noun += std::string("\x01\xff\xfe", 3) + " | binary\n";
  tmp.Write("wordnet/data.noun", noun);
  auto c = BuildDefaultCorpus(sources, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (const std::string& t : c->train) EXPECT_EQ(t.find("truncated word list"), std::string::npos);
}

TEST(DefaultCorpus, TheDebianFilesGiveTheDocumentedCorpus) {
  DefaultCorpusSources debian;
  if (!std::filesystem::exists(debian.wordnet_dir + "/data.noun") || !std::filesystem::exists(debian.fortunes_dir))
    GTEST_SKIP() << "Debian's wordnet-base and fortunes are not installed (scripts/setup.sh installs them)";
  DefaultCorpusOptions o;
  o.max_records = 70000;
  auto c = BuildDefaultCorpus(debian, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->train.size(), 70000u);
  EXPECT_GT(c->synsets, 100000u);  // WordNet 3.0: 117659
  EXPECT_GT(c->fortunes, 10000u);
  EXPECT_GT(c->generated_questions, 200000u);
  EXPECT_GT(c->heldout_text.size(), 2000u);
  const std::set<std::string> train(c->train.begin(), c->train.end());
  for (const std::string& held : c->heldout_text) EXPECT_FALSE(train.count(held)) << held;
}

}  // namespace
}  // namespace lathe::data
