// Text metrics against independent references: the ROUGE paper's and the BLEU paper's worked
// examples, SQuAD's evaluation script's definitions, and hand-computed values with the arithmetic
// written out. (No Python reference implementation is installed here: sacrebleu, nltk and
// rouge_score are all absent, so the papers are the references.)
#include "eval/metrics.h"

#include <cctype>
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

namespace lathe::eval {
namespace {

// The papers tokenise on whitespace, case-insensitively, without punctuation; unlike
// NormalizedTokens they keep articles ("the" carries Lin's LCS), so their examples use this.
std::vector<std::string> PaperTokens(std::string_view s) {
  std::string text;
  for (char c : s) {
    if (c == '.') continue;
    text.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

std::string Fraction(NgramCounts c) { return std::to_string(c.clipped) + "/" + std::to_string(c.total); }

TEST(NormalizedTokens, FollowsSquadNormalisation) {
  // SQuAD evaluate-v2.0.py normalize_answer: lower, remove_punc, remove_articles, white_space_fix.
  EXPECT_EQ(NormalizedTokens("The  Cat, an animal; sat on A mat!"),
            (std::vector<std::string>{"cat", "animal", "sat", "on", "mat"}));
  // Punctuation goes before articles are looked for: "the-end" is one word "theend".
  EXPECT_EQ(NormalizedTokens("the-end"), (std::vector<std::string>{"theend"}));
  // Non-ASCII text is kept as is (ASCII case folding only).
  EXPECT_EQ(NormalizedTokens("Ünïcode ÉTÉ"), (std::vector<std::string>{"Ünïcode", "ÉtÉ"}));
  EXPECT_TRUE(NormalizedTokens(" . , the a an ").empty());
}

TEST(ExactMatch, NormalisedComparison) {
  EXPECT_EQ(ExactMatch("The Cat!", "cat"), 1.0);
  EXPECT_EQ(ExactMatch("  Paris.\n", "paris"), 1.0);
  EXPECT_EQ(ExactMatch("Paris, France", "Paris"), 0.0);
}

TEST(TokenF1, SquadDefinitionByHand) {
  // pred  "The cat sat on the mat."   -> [cat, sat, on, mat]           (4 tokens)
  // gold  "A cat was sitting on a mat" -> [cat, was, sitting, on, mat] (5 tokens)
  // common (multiset) = {cat, on, mat} = 3; P = 3/4, R = 3/5; F1 = 2PR/(P+R) = 0.9/1.35 = 2/3.
  EXPECT_NEAR(TokenF1("The cat sat on the mat.", "A cat was sitting on a mat"), 2.0 / 3, 1e-12);
  // Repeated tokens count once per occurrence in both: pred [yes, yes, yes], gold [yes]:
  // common = 1, P = 1/3, R = 1, F1 = 2*(1/3)/(4/3) = 1/2.
  EXPECT_NEAR(TokenF1("yes yes yes", "yes"), 0.5, 1e-12);
  // SQuAD: when either side normalises to nothing, F1 is 1 if both do, else 0.
  EXPECT_EQ(TokenF1("The.", "a"), 1.0);
  EXPECT_EQ(TokenF1("The.", "cat"), 0.0);
  EXPECT_EQ(TokenF1("dog", "cat"), 0.0);
}

TEST(KeywordCoverage, GuidesModelEvaluatorRule) {
  // The guide's ModelEvaluator: kw.lower() in response.lower(), score = matches / len(keywords).
  std::vector<std::string> kws{"Fine-Tuning", "bedrock", "LoRA"};
  EXPECT_EQ(KeywordHits("Amazon BEDROCK supports fine-tuning.", kws),
            (std::vector<std::string>{"Fine-Tuning", "bedrock"}));
  EXPECT_NEAR(KeywordCoverage("Amazon BEDROCK supports fine-tuning.", kws), 2.0 / 3, 1e-12);
  // Substring, as in Python: "lora" is found inside "floral".
  EXPECT_EQ(KeywordCoverage("floral", {"lora"}), 1.0);
  EXPECT_EQ(KeywordCoverage("anything", {}), 0.0);
  // Hits and the report's highlights come from the same occurrences.
  const auto occ = KeywordOccurrences("Amazon BEDROCK supports fine-tuning. Bedrock!", kws);
  ASSERT_EQ(occ.size(), 3u);
  EXPECT_EQ(occ[0].keyword, 0u);  // Fine-Tuning, at 24
  EXPECT_EQ(occ[0].begin, 24u);
  EXPECT_EQ(occ[1].keyword, 1u);
  EXPECT_EQ(occ[1].begin, 7u);
  EXPECT_EQ(occ[2].begin, 37u);
  EXPECT_EQ(occ[2].end, 44u);
}

TEST(RougeL, LinPaperSection31Example) {
  // Lin (2004), "ROUGE: A Package for Automatic Evaluation of Summaries", section 3.1:
  // S1 (reference) "police killed the gunman", S2 "police kill the gunman",
  // S3 "the gunman kill police".
  const auto s1 = PaperTokens("police killed the gunman");
  // S2: LCS "police the gunman" = 3; R = 3/4, P = 3/4, F(beta=1) = 2*(9/16)/(6/4) = 3/4.
  EXPECT_NEAR(RougeLOfTokens(PaperTokens("police kill the gunman"), s1), 0.75, 1e-12);
  // S3: LCS "the gunman" = 2; R = 2/4, P = 2/4, F = 2/4 (the paper: S2 scores higher than S3).
  EXPECT_NEAR(RougeLOfTokens(PaperTokens("the gunman kill police"), s1), 0.5, 1e-12);
}

TEST(RougeL, OnRougeScoresTokens) {
  // With rouge_score's tokenizer "the" stays, so Lin's example works through RougeL itself:
  // S2 against S1 = 3/4, S3 = 1/2, case and punctuation aside.
  EXPECT_NEAR(RougeL("Police kill the gunman.", "police killed the gunman"), 0.75, 1e-12);
  EXPECT_NEAR(RougeL("The gunman kill police", "police killed the gunman"), 0.5, 1e-12);
  // rouge_score's README: scorer.score('The quick brown fox jumps over the lazy dog',
  // 'The quick brown dog jumps on the log.') gives rougeL precision 0.625, recall 0.5556,
  // fmeasure 0.5882352941176471 (LCS "the quick brown jumps the" = 5 of 8 and of 9 tokens;
  // its stemmer changes nothing there).
  EXPECT_NEAR(RougeL("The quick brown dog jumps on the log.", "The quick brown fox jumps over the lazy dog"),
              0.5882352941176471, 1e-12);
  // Unequal lengths, by hand: cand [x, y, z, w], ref [x, z, w, v, u]:
  // LCS "x z w" = 3; R = 3/5, P = 3/4; F = 2*(9/20)/(27/20) = 2/3.
  EXPECT_NEAR(RougeL("x y z w", "x z w v u"), 2.0 / 3, 1e-12);
  EXPECT_EQ(RougeL("", "x"), 0.0);
  EXPECT_EQ(RougeL("q", "x"), 0.0);
  EXPECT_EQ(RougeL("same words here", "Same words, here."), 1.0);
  // Everything but a-z 0-9 separates, non-ASCII letters included.
  EXPECT_EQ(RougeTokens("Caf\xC3\xA9 au-lait, 3.5%"), (std::vector<std::string>{"caf", "au", "lait", "3", "5"}));
}

// sacrebleu's 13a tokenizer. Its README's example system output, "The dog bit the man.",
// "It wasn't surprising.", "The man had just bitten him.", is hyp_len = 17 tokens.
TEST(Bleu, ThirteenATokenizer) {
  EXPECT_EQ(Bleu13aTokens("It wasn't surprising."), (std::vector<std::string>{"It", "wasn't", "surprising", "."}));
  EXPECT_EQ(Bleu13aTokens("The dog bit the man.").size() + Bleu13aTokens("It wasn't surprising.").size() +
                Bleu13aTokens("The man had just bitten him.").size(),
            17u);
  // Periods and commas stay inside numbers; a dash after a digit is split off, inside a word not.
  EXPECT_EQ(Bleu13aTokens("3.14, 1,000 and 2-3 (well-known) &amp; \"q\""),
            (std::vector<std::string>{"3.14", ",", "1,000", "and", "2", "-", "3", "(", "well-known", ")", "&", "\"",
                                      "q", "\""}));
}

TEST(RougeL, LongInputsAreTruncatedToTheBound) {
  // 10,000 tokens each side: the LCS sees kMaxLcsTokens of each (identical prefixes), so F = 1
  // and memory stays two rows.
  std::string longer;
  for (int i = 0; i < 10000; ++i) longer += "w" + std::to_string(i % 97) + " ";
  EXPECT_EQ(RougeL(longer, longer), 1.0);
}

TEST(Bleu, PapineniModifiedUnigramPrecisionTheThe) {
  // Papineni et al. (2002), "BLEU: a Method for Automatic Evaluation of Machine Translation",
  // section 2.1, Example 2: candidate "the the the the the the the"; "the" occurs at most twice
  // in a reference (Reference 1), so the modified unigram precision is 2/7.
  auto c = ModifiedNgramPrecision(PaperTokens("the the the the the the the."),
                                  {PaperTokens("The cat is on the mat."), PaperTokens("There is a cat on the mat.")}, 1);
  EXPECT_EQ(c.clipped, 2u);
  EXPECT_EQ(c.total, 7u);
}

TEST(Bleu, PapineniExample1Precisions) {
  // Papineni et al. (2002), section 2.1, Example 1 with its three references: Candidate 1 has
  // modified unigram precision 17/18 and bigram precision 10/17; Candidate 2 has 8/14 and 1/13.
  const std::vector<std::vector<std::string>> refs{
      PaperTokens("It is a guide to action that ensures that the military will forever heed Party commands."),
      PaperTokens("It is the guiding principle which guarantees the military forces always being under the "
                  "command of the Party."),
      PaperTokens("It is the practical guide for the army always to heed the directions of the party.")};
  const auto c1 =
      PaperTokens("It is a guide to action which ensures that the military always obeys the commands of the party.");
  const auto c2 = PaperTokens("It is to insure the troops forever hearing the activity guidebook that party direct.");
  auto u1 = ModifiedNgramPrecision(c1, refs, 1), b1 = ModifiedNgramPrecision(c1, refs, 2);
  auto u2 = ModifiedNgramPrecision(c2, refs, 1), b2 = ModifiedNgramPrecision(c2, refs, 2);
  EXPECT_EQ(Fraction(u1), "17/18");
  EXPECT_EQ(Fraction(b1), "10/17");
  EXPECT_EQ(Fraction(u2), "8/14");
  EXPECT_EQ(Fraction(b2), "1/13");
  // One reference at a time (what the BLEU functions pass): clipping uses that reference's counts
  // only. Candidate 1 against Reference 1 ("it is a guide to action that ensures that the military
  // will forever heed party commands": "the" once, "that" twice):
  //   found: it is a guide to action ensures that the military commands party      = 12
  //   not:   which always obeys of, and the 2nd and 3rd "the" (clipped to 1)       =  6
  auto single = ModifiedNgramPrecision(c1, {refs[0]}, 1);
  EXPECT_EQ(single.clipped, 12u);
  EXPECT_EQ(single.total, 18u);
}

TEST(Bleu, SentenceBleuByHand) {
  // cand [cat, sat, on, mat] (c = 4), ref [cat, sat, on, red, mat] (r = 5).
  // p1 = 4/4 (unsmoothed); bigrams: {cat sat, sat on, on mat} vs ref {cat sat, sat on, on red,
  // red mat}: 2 of 3, add-one -> 3/4; trigrams {cat sat on, sat on mat}: 1 of 2 -> 2/3;
  // 4-gram {cat sat on mat}: 0 of 1 -> 1/2. BP = exp(1 - 5/4) = exp(-1/4).
  // BLEU+1 = exp(-1/4) * (1 * 3/4 * 2/3 * 1/2)^(1/4) = exp(-1/4) * 0.25^(1/4) = 0.5506953...
  // 13a keeps case and splits off the period: cand [Cat, sat, on, mat, .] (c = 5 = r, BP = 1):
  // p1 = 3/5; bigrams {Cat sat, sat on, on mat, mat .}: 1 of 4 -> 2/5; trigrams 0 of 3 -> 1/4;
  // 4-grams 0 of 2 -> 1/3. BLEU+1 = (3/5 * 2/5 * 1/4 * 1/3)^(1/4) = 0.02^(1/4).
  EXPECT_NEAR(SentenceBleu("Cat sat on mat.", "cat sat on red mat"), std::pow(0.02, 0.25), 1e-12);
  EXPECT_NEAR(SentenceBleu("cat sat on mat", "cat sat on red mat"), 0.5506953149031838, 1e-12);
  // Identical: every precision 1 and BP 1.
  EXPECT_NEAR(SentenceBleu("one two three four five", "one two three four five"), 1.0, 1e-12);
  // A one-word answer that is right: p1 = 1, p2..p4 = (0+1)/(0+1) = 1, BP = exp(1 - 3/1).
  EXPECT_NEAR(SentenceBleu("paris", "paris is capital"), std::exp(-2.0), 1e-12);
  // Nothing shared: p1 = 0 -> 0. Empty answer -> 0.
  EXPECT_EQ(SentenceBleu("dog", "cat"), 0.0);
  EXPECT_EQ(SentenceBleu("", "cat"), 0.0);
  // A longer candidate has no brevity penalty: cand [x, y, z] vs ref [x, y]:
  // p1 = 2/3, p2 = (1+1)/(2+1) = 2/3, p3 = (0+1)/(1+1) = 1/2, p4 = (0+1)/(0+1) = 1.
  EXPECT_NEAR(SentenceBleu("x y z", "x y"), std::pow(2.0 / 3 * 2.0 / 3 * 0.5, 0.25), 1e-12);
}

TEST(Bleu, CorpusBleuByHand) {
  // Pair 1: "cat sat on mat" = its reference: clipped/total per order 4/4, 3/3, 2/2, 1/1.
  // Pair 2: cand [dog ran to park now], ref [dog ran to big park]:
  //   unigrams 4/5 (not "now"); bigrams {dog ran, ran to, to park, park now}: 2/4;
  //   trigrams {dog ran to, ran to park, to park now}: 1/3; 4-grams: 0/2.
  // Sums: p1 = 8/9, p2 = 5/7, p3 = 3/5, p4 = 1/3; c = 9, r = 9 -> BP = 1.
  // BLEU = (8/9 * 5/7 * 3/5 * 1/3)^(1/4) = (8/63)^(1/4) = 0.5969491...
  std::vector<std::string> cands{"cat sat on mat", "dog ran to park now"};
  std::vector<std::string> refs{"cat sat on mat", "dog ran to big park"};
  EXPECT_NEAR(CorpusBleu(cands, refs), std::pow(8.0 / 63, 0.25), 1e-12);
  EXPECT_NEAR(CorpusBleu(cands, refs), 0.5969491792019646, 1e-12);
  // Unsmoothed: pair 2 alone has no 4-gram match, so its corpus BLEU is 0.
  EXPECT_EQ(CorpusBleu({cands[1]}, {refs[1]}), 0.0);
  EXPECT_EQ(CorpusBleu({}, {}), 0.0);
  EXPECT_EQ(CorpusBleu({"a"}, {}), 0.0);
}

TEST(Refusal, PhrasesNearTheStart) {
  EXPECT_TRUE(LooksLikeRefusal("I'm sorry, but I can't help with that."));
  EXPECT_TRUE(LooksLikeRefusal("As an AI language model, I cannot give financial advice."));
  EXPECT_TRUE(LooksLikeRefusal("I\xE2\x80\x99m unable to share account details."));  // curly apostrophe
  EXPECT_FALSE(LooksLikeRefusal("Your balance is shown in the app under Accounts."));
  EXPECT_FALSE(LooksLikeRefusal("I can't stress enough how easy transfers are."));
  // Only the start counts: a refusal phrase quoted deep in a long answer is not a refusal.
  EXPECT_FALSE(LooksLikeRefusal(std::string(300, 'x') + " I cannot help with that."));
  EXPECT_FALSE(LooksLikeRefusal(""));
  // Whole words only (phrases used to match inside words).
  EXPECT_FALSE(LooksLikeRefusal("The bank has an airline partner for miles."));     // "as an ai"
  EXPECT_FALSE(LooksLikeRefusal("Wasabi can't help but sting."));                  // "i can't help" in "wasabi"
  EXPECT_FALSE(LooksLikeRefusal("Sorry, but its fee is waived."));                  // "sorry, but i" + "ts"
  EXPECT_TRUE(LooksLikeRefusal("Sorry, but I can't share that."));
  EXPECT_TRUE(LooksLikeRefusal("Well... as an AI, I have no account access."));
}

TEST(ScoreAnswer, AppliesWhatTheCaseHas) {
  TestCase c;
  auto only_general = ScoreAnswer(c, "Hello there world");
  EXPECT_EQ(only_general.size(), 2u);
  EXPECT_EQ(only_general.at(kAnswerWords), 3.0);
  EXPECT_EQ(only_general.at(kRefusal), 0.0);

  c.reference = "cat sat on red mat";
  c.keywords = {"mat", "dog"};
  c.format.kind = FormatRule::Kind::kRegex;
  c.format.regex = "[a-z ]+";
  auto m = ScoreAnswer(c, "cat sat on mat");
  EXPECT_EQ(m.at(kKeywordCoverage), 0.5);
  EXPECT_EQ(m.at(kExactMatch), 0.0);
  EXPECT_NEAR(m.at(kTokenF1), 2 * 1.0 * 0.8 / 1.8, 1e-12);  // P = 4/4, R = 4/5
  EXPECT_NEAR(m.at(kRougeL), 2 * 1.0 * 0.8 / 1.8, 1e-12);   // LCS 4: same here
  EXPECT_NEAR(m.at(kBleu), 0.5506953149031838, 1e-12);
  EXPECT_EQ(m.at(kFormatCompliance), 1.0);
  EXPECT_EQ(m.at(kAnswerWords), 4.0);
  EXPECT_EQ(ScoreAnswer(c, "Cat!").at(kFormatCompliance), 0.0);
}

TEST(ScoreAnswer, HostileStrings) {
  static constexpr char kBytes[] = "ref\0erence \xff\xfe text";
  const std::string hostile(kBytes, sizeof kBytes - 1);
  TestCase c;
  c.reference = hostile;
  c.keywords = {std::string(1 << 20, 'k'), std::string("\0", 1), "\xC3"};
  // NUL bytes and invalid UTF-8 are just bytes to the text metrics: found, compared, counted.
  auto m = ScoreAnswer(c, hostile);
  EXPECT_EQ(m.at(kExactMatch), 1.0);
  EXPECT_NEAR(m.at(kKeywordCoverage), 1.0 / 3, 1e-12);  // the NUL keyword is in the answer
  EXPECT_EQ(KeywordHits("caf\xC3", c.keywords), (std::vector<std::string>{"\xC3"}));
  // A 1 MiB answer against a 1 MiB keyword and a long reference: bounded work (the LCS is cut
  // to kMaxLcsTokens a side; n-gram counting is linear).
  std::string big;
  for (int i = 0; big.size() < (1 << 20); ++i) big += "tok" + std::to_string(i % 5000) + " ";
  c.reference = big.substr(0, 200000);
  auto large = ScoreAnswer(c, big);
  EXPECT_GT(large.at(kRougeL), 0.0);
  EXPECT_GT(large.at(kBleu), 0.0);
  EXPECT_EQ(large.at(kKeywordCoverage), 0.0);
}

TEST(MetricNames, Directions) {
  EXPECT_TRUE(HigherIsBetter(kRougeL));
  EXPECT_FALSE(HigherIsBetter(kRefusal));
  EXPECT_FALSE(HigherIsBetter(kLatencyMs));
  EXPECT_FALSE(IsQualityMetric(kAnswerWords));
  EXPECT_TRUE(IsQualityMetric(kFormatCompliance));
}

}  // namespace
}  // namespace lathe::eval
