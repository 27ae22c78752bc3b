// Per-answer metrics, pure functions of text. Each is checked against an independent reference
// in tests/eval/metrics_test.cc (the ROUGE and BLEU papers' worked examples, SQuAD's evaluation
// script's normalisation). Inputs are bounded by the caller (answers by max tokens, references by
// the test set's line limit); the quadratic LCS is further bounded by kMaxLcsTokens.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/test_set.h"

namespace lathe::eval {

// Metric keys, as they appear in report.json, CaseResult::metrics and the reports' tables.
// Scores in [0, 1] unless said otherwise; "higher is better" unless said otherwise.
inline constexpr const char* kKeywordCoverage = "keywordCoverage";    // cases with keywords
inline constexpr const char* kExactMatch = "exactMatch";              // cases with a reference
inline constexpr const char* kTokenF1 = "tokenF1";                    // cases with a reference
inline constexpr const char* kRougeL = "rougeL";                      // cases with a reference
inline constexpr const char* kBleu = "bleu";                          // cases with a reference
inline constexpr const char* kFormatCompliance = "formatCompliance";  // cases with a format
inline constexpr const char* kRefusal = "refusal";                    // every case; lower is better
inline constexpr const char* kAnswerWords = "answerWords";            // every case; neutral
inline constexpr const char* kLatencyMs = "latencyMs";                // every case; lower is better
inline constexpr const char* kTokensPerSecond = "tokensPerSecond";    // every case
inline constexpr const char* kReferenceLoss = "referenceLoss";        // local models, with a reference; lower
inline constexpr const char* kReferencePerplexity = "referencePerplexity";  // exp(loss); lower
inline constexpr const char* kJudgeScore = "judgeScore";              // with --judge: rubric mean, 1..5
inline constexpr const char* kHumanScore = "humanScore";              // after review: rubric mean, 1..5
// A comparison's primary metric (Comparison::by_metric only): each case's mean of its [0, 1]
// quality metrics (refusal as 1 - refusal), failed answers at their worst; the headline verdict.
inline constexpr const char* kOverallScore = "overallScore";

// Whether a larger value of the metric is better (false for refusal, latency, loss, perplexity),
// and whether it is a quality score that comparisons and overallScore use at all (answerWords,
// latencyMs and tokensPerSecond are reported, never judged).
bool HigherIsBetter(std::string_view metric);
bool IsQualityMetric(std::string_view metric);

inline constexpr size_t kMaxLcsTokens = 4096;  // ROUGE-L truncates both sides to this many tokens

// SQuAD's normalisation (its evaluate-v2.0.py): lower case, punctuation removed, the articles
// a/an/the removed, whitespace collapsed; then split on whitespace. ASCII case folding; other
// UTF-8 is kept as is.
std::vector<std::string> NormalizedTokens(std::string_view text);

// The keywords (from the case, in order) the answer contains, case-insensitively as the guide's
// ModelEvaluator tests `kw.lower() in response.lower()`; coverage = hits / keywords.
std::vector<std::string> KeywordHits(std::string_view answer, const std::vector<std::string>& keywords);
// Where the keywords occur, by the same rule ([begin, end) bytes, keyword's index; every
// non-overlapping occurrence of each, an empty keyword none): the report's highlighting and
// KeywordHits both come from it.
struct KeywordOccurrence {
  size_t begin = 0, end = 0, keyword = 0;
};
std::vector<KeywordOccurrence> KeywordOccurrences(std::string_view answer, const std::vector<std::string>& keywords);
double KeywordCoverage(std::string_view answer, const std::vector<std::string>& keywords);

double ExactMatch(std::string_view answer, std::string_view reference);  // 1 or 0, normalised
double TokenF1(std::string_view answer, std::string_view reference);     // SQuAD's F1 over tokens

// rouge_score's default tokenizer (google-research/rouge, rouge_score/tokenize.py, no stemmer):
// lower case, every run of characters other than a-z 0-9 a separator (so non-ASCII letters
// separate too), split.
std::vector<std::string> RougeTokens(std::string_view text);
// sacrebleu's default "13a" tokenizer (mjpost/sacrebleu, tokenizers/tokenizer_13a.py, the
// mteval-v13a.pl rules): <skipped> and "-\n" dropped, HTML's four entities unescaped, ASCII
// punctuation but ' - . , split off, then . and , split off unless between digits, - after a
// digit split off. Case is kept, as sacrebleu's default does.
std::vector<std::string> Bleu13aTokens(std::string_view text);

// ROUGE-L F-measure (Lin 2004, section 3.1) with beta = 1, on RougeTokens: the number
// rouge_score's RougeScorer(["rougeL"]).score(reference, candidate).fmeasure gives.
double RougeL(std::string_view candidate, std::string_view reference);
// The same F-measure on tokens as given.
double RougeLOfTokens(const std::vector<std::string>& candidate, const std::vector<std::string>& reference);

// Sentence BLEU (Papineni et al. 2002): geometric mean of modified 1..4-gram precisions times the
// brevity penalty, on Bleu13aTokens, with Lin & Och's (2004) add-one smoothing of the 2..4-gram
// precisions so a short answer does not score 0 for lacking one 4-gram ("BLEU+1"): sacrebleu's
// sentence_bleu(c, [r], smooth_method="add-k", smooth_value=1).score / 100.
double SentenceBleu(std::string_view candidate, std::string_view reference);
// Papineni et al.'s modified n-gram precision, as its two counts: every n-gram of the candidate
// (total), and how many of them count once clipped to the most times the n-gram occurs in any one
// reference (clipped). The BLEU functions use it with one reference; more are accepted so the
// paper's own multi-reference examples can check it. Tokens are taken as given.
struct NgramCounts {
  size_t clipped = 0, total = 0;
};
NgramCounts ModifiedNgramPrecision(const std::vector<std::string>& candidate,
                                   const std::vector<std::vector<std::string>>& references, int n);
// Corpus BLEU of the same definition without smoothing (clipped counts and lengths summed over
// the pairs first), on Bleu13aTokens: the number BLEU's paper reports for a test set, and
// sacrebleu's corpus_bleu(cands, [refs], smooth_method="none").score / 100.
double CorpusBleu(const std::vector<std::string>& candidates, const std::vector<std::string>& references);

// Whether the answer satisfies the case's format rule: a regex (PCRE2, DFA matching: time linear
// in the answer, no backtracking, whole answer anchored) or a JSON Schema subset: type, enum,
// const, properties, required, additionalProperties (bool), items, minItems, maxItems, minLength,
// maxLength, minimum, maximum, pattern (same DFA regex). Depth-bounded by kMaxSchemaDepth.
// A rule that cannot be compiled is reported by the test set's validation, not here (false).
bool SatisfiesFormat(std::string_view answer, const FormatRule& rule);
// The same, nullopt when the matcher's bounds stopped it before it could decide (a rule whose
// active states outgrow the DFA workspace on this answer): the case then has no
// formatCompliance (ModelResult::format_undecided counts them) instead of a false "no".
// Compiled patterns are cached per thread, so a run compiles each rule once, not per answer.
std::optional<bool> CheckFormat(std::string_view answer, const FormatRule& rule);
// The checks ParseTestSet runs on a rule: "" when usable, else what is wrong with it.
std::string FormatRuleProblem(const FormatRule& rule);

// Whether the answer declines rather than answers ("I can't help with that", "As an AI language
// model, I cannot ..."): a fixed list of English refusal phrases near the start of the answer.
bool LooksLikeRefusal(std::string_view answer);

// Every metric that applies to this case and answer (keys above), without latency, throughput,
// loss or judge scores, which the run adds.
std::map<std::string, double> ScoreAnswer(const TestCase& c, std::string_view answer);

}  // namespace lathe::eval
