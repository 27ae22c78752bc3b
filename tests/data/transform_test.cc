// convert (incl. CSV), augment, balance and estimate on small fixtures.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "data/augment.h"
#include "data/balance.h"
#include "data/convert.h"
#include "data/csv.h"
#include "data/estimate.h"
#include "data/validator.h"
#include "test_util.h"

namespace lathe::data {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::TempDir;

std::vector<std::vector<std::string>> ReadCsv(const std::string& path, Status* status) {
  std::unique_ptr<CsvReader> r;
  EXPECT_TRUE(CsvReader::Open(Env::Default(), path, &r).ok());
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  uint64_t line;
  while (r->Next(&fields, &line)) rows.push_back(fields);
  *status = r->status();
  return rows;
}

TEST(Csv, QuotesEscapesNewlinesCrlfAndBom) {
  TempDir tmp;
  std::string f = tmp.Write("a.csv", "\xEF\xBB\xBFprompt,completion\r\n"
                                     "\"Hi, there\",\"She said \"\"hello\"\"\"\r\n"
                                     "\"two\nlines\",plain\n"
                                     "last,\"\"");
  Status s;
  auto rows = ReadCsv(f, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"prompt", "completion"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"Hi, there", "She said \"hello\""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"two\nlines", "plain"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"last", ""}));
}

TEST(Csv, ErrorsNameLineAndColumn) {
  TempDir tmp;
  Status s;
  ReadCsv(tmp.Write("u.csv", "a,b\nx,\"never closed\n"), &s);
  EXPECT_NE(s.message().find("u.csv:2:3: unterminated quoted field"), std::string::npos) << s.message();
  ReadCsv(tmp.Write("q.csv", "a,b\nx,y\"z\n"), &s);
  EXPECT_NE(s.message().find("q.csv:2:4: quote inside an unquoted field"), std::string::npos) << s.message();
  ReadCsv(tmp.Write("c.csv", "a,b\n\"x\"y,z\n"), &s);
  EXPECT_NE(s.message().find("c.csv:2:4: unexpected character after a closing quote"), std::string::npos) << s.message();
}

TEST(Convert, CsvToJsonlWithColumnsAndErrors) {
  TempDir tmp;
  std::string csv = tmp.Write("faq.csv", "id,question,answer\n1,How do I pay?,\"Use the app, or a branch.\"\n2,Fees?,None.\n");
  auto r = ConvertCsv(Env::Default(), csv, tmp.File("o.jsonl"), {"question", "answer", ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->records, 2u);
  EXPECT_EQ(ReadFile(tmp.File("o.jsonl")),
            "{\"prompt\":\"How do I pay?\",\"completion\":\"Use the app, or a branch.\"}\n"
            "{\"prompt\":\"Fees?\",\"completion\":\"None.\"}\n");
  auto missing = ConvertCsv(Env::Default(), csv, tmp.File("x.jsonl"), {"prompt", "answer", ""});
  EXPECT_NE(missing.status().message().find("no column \"prompt\" in the header (columns: \"id\", \"question\", \"answer\")"),
            std::string::npos) << missing.status().message();
  EXPECT_FALSE(Env::Default()->FileExists(tmp.File("x.jsonl")));  // nothing half-written
  auto ragged = ConvertCsv(Env::Default(), tmp.Write("r.csv", "prompt,completion\na,b\nc\n"), tmp.File("y.jsonl"), {});
  EXPECT_NE(ragged.status().message().find("r.csv:3: 1 fields, but the header has 2"), std::string::npos)
      << ragged.status().message();
  auto pre = ConvertCsv(Env::Default(), tmp.Write("t.csv", "text\nSome prose.\n"), tmp.File("p.jsonl"), {"", "", "text"});
  ASSERT_TRUE(pre.ok());
  EXPECT_EQ(ReadFile(tmp.File("p.jsonl")), "{\"input\":\"Some prose.\"}\n");
}

TEST(Convert, PromptCompletionToChatAndBackIsIdentical) {
  TempDir tmp;
  const std::string pc = "{\"prompt\":\"What's APR?\",\"completion\":\"The yearly cost of borrowing.\"}\n"
                         "{\"prompt\":\"caf\xC3\xA9?\",\"completion\":\"Yes \\\"quoted\\\".\"}\n";
  std::string in = tmp.Write("pc.jsonl", pc);
  ASSERT_TRUE(ConvertFile(Env::Default(), in, tmp.File("chat.jsonl"), {Format::kChat, "", false}).ok());
  ASSERT_TRUE(ConvertFile(Env::Default(), tmp.File("chat.jsonl"), tmp.File("back.jsonl"), {Format::kPromptCompletion, "", false}).ok());
  EXPECT_EQ(ReadFile(tmp.File("back.jsonl")), pc);
  // Every format it writes is valid.
  for (Format f : {Format::kChat, Format::kConversation}) {
    ASSERT_TRUE(ConvertFile(Env::Default(), in, tmp.File("f.jsonl"), {f, "Be kind.", false}).ok());
    ValidateOptions o;
    o.allow_small = true;
    FileReport rep = ValidateFile(Env::Default(), tmp.File("f.jsonl"), o);
    EXPECT_TRUE(rep.ok()) << FormatReport(rep);
    EXPECT_EQ(rep.format, f);
  }
}

TEST(Convert, RefusesToLoseInformationSilently) {
  TempDir tmp;
  std::string multi = tmp.Write("m.jsonl",
      "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},"
      "{\"role\":\"user\",\"content\":\"c\"},{\"role\":\"assistant\",\"content\":\"d\"}]}\n");
  auto r = ConvertFile(Env::Default(), multi, tmp.File("o.jsonl"), {Format::kPromptCompletion, "", false});
  EXPECT_NE(r.status().message().find("m.jsonl:1: cannot convert to prompt-completion: a conversation of 4 messages"),
            std::string::npos) << r.status().message();
  std::string sys = tmp.Write("s.jsonl", "{\"system\":\"S\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                                         "{\"role\":\"assistant\",\"content\":\"b\"}]}\n");
  EXPECT_FALSE(ConvertFile(Env::Default(), sys, tmp.File("o.jsonl"), {Format::kPromptCompletion, "", false}).ok());
  EXPECT_TRUE(ConvertFile(Env::Default(), sys, tmp.File("o.jsonl"), {Format::kPromptCompletion, "", true}).ok());
}

TEST(Augment, RewritesOpeningsKeepsCaseAndWholeWords) {
  EXPECT_EQ(RewritePrompt("How do I pay?"), std::vector<std::string>{"How can I pay?"});
  EXPECT_EQ(RewritePrompt("what is APR?"), std::vector<std::string>{"what's APR?"});
  EXPECT_EQ(RewritePrompt("Can you help?"), std::vector<std::string>{"Could you help?"});
  EXPECT_TRUE(RewritePrompt("Can Iceland cards work?").empty());  // "Can I" is not a whole word here
  EXPECT_TRUE(RewritePrompt("Tell me about fees").empty());
}

TEST(Augment, KeepsOriginalsAndNeverDuplicatesAPrompt) {
  TempDir tmp;
  std::string in = tmp.Write("a.jsonl",
      "{\"prompt\":\"How do I pay?\",\"completion\":\"In the app.\"}\n"
      "{\"prompt\":\"How can I pay?\",\"completion\":\"In the app.\"}\n"  // its rewrite exists already
      "{\"prompt\":\"What is APR?\",\"completion\":\"A yearly rate.\"}\n"
      "{\"prompt\":\"Fees?\",\"completion\":\"None.\"}\n");
  auto r = AugmentFile(Env::Default(), in, tmp.File("o.jsonl"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->original, 4u);
  EXPECT_EQ(r->added, 1u);               // "What's APR?"
  EXPECT_EQ(r->skipped_duplicates, 2u);  // How do I <-> How can I, both exist
  EXPECT_EQ(ReadFile(tmp.File("o.jsonl")),
            ReadFile(in).substr(0, ReadFile(in).find("{\"prompt\":\"Fees?")) +
                "{\"prompt\":\"What's APR?\",\"completion\":\"A yearly rate.\"}\n"
                "{\"prompt\":\"Fees?\",\"completion\":\"None.\"}\n");
}

TEST(Balance, CapsEachCategoryDeterministicallyInSourceOrder) {
  TempDir tmp;
  std::string data;
  for (int i = 0; i < 12; ++i) data += "{\"prompt\":\"How " + std::to_string(i) + "?\",\"completion\":\"x\"}\n";
  for (int i = 0; i < 3; ++i) data += "{\"prompt\":\"Why " + std::to_string(i) + "?\",\"completion\":\"y\"}\n";
  std::string in = tmp.Write("in.jsonl", data);
  auto a = BalanceFile(Env::Default(), in, tmp.File("a.jsonl"), 5, 9);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->before, 15u);
  EXPECT_EQ(a->after, 8u);
  ASSERT_EQ(a->categories.size(), 2u);
  EXPECT_EQ(a->categories[0].category, "how");
  EXPECT_EQ(a->categories[0].after, 5u);
  EXPECT_EQ(a->categories[1].after, 3u);
  ASSERT_TRUE(BalanceFile(Env::Default(), in, tmp.File("b.jsonl"), 5, 9).ok());
  ASSERT_TRUE(BalanceFile(Env::Default(), in, tmp.File("c.jsonl"), 5, 10).ok());
  EXPECT_EQ(ReadFile(tmp.File("a.jsonl")), ReadFile(tmp.File("b.jsonl")));
  EXPECT_NE(ReadFile(tmp.File("a.jsonl")), ReadFile(tmp.File("c.jsonl")));
  // Seed 9 keeps "How" records 3, 8, 9, 10 and 11: the draw computed by an independent Python
  // re-implementation of core/random.h (Fisher-Yates over the 12, first 5 kept).
  std::string want;
  for (int i : {3, 8, 9, 10, 11}) want += "{\"prompt\":\"How " + std::to_string(i) + "?\",\"completion\":\"x\"}\n";
  for (int i : {0, 1, 2}) want += "{\"prompt\":\"Why " + std::to_string(i) + "?\",\"completion\":\"y\"}\n";
  EXPECT_EQ(ReadFile(tmp.File("a.jsonl")), want);  // kept records in source order
  EXPECT_FALSE(BalanceFile(Env::Default(), in, tmp.File("z.jsonl"), 0, 1).ok());
}

TEST(Estimate, TokensTimesEpochsAndPrices) {
  TempDir tmp;
  // AllText = prompt + "\n" + completion: 5 + 1 + 6 = 12 characters -> 2 tokens; 13 -> 3 tokens.
  std::string in = tmp.Write("e.jsonl", "{\"prompt\":\"Hello\",\"completion\":\"World!\"}\n"
                                        "{\"prompt\":\"Hello\",\"completion\":\"World!!\"}\n");
  auto e = CountDatasetTokens(Env::Default(), in, nullptr);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->records, 2u);
  EXPECT_EQ(e->tokens, 5u);
  EXPECT_FALSE(e->exact);
  const PriceTable& t = DefaultPriceTable();
  EXPECT_DOUBLE_EQ(t.models.at("amazon.titan-text-express-v1").training_per_1k_tokens, 0.008);
  EXPECT_DOUBLE_EQ(t.models.at("anthropic.claude-3-haiku-20240307-v1:0").training_per_1k_tokens, 0.012);
  EXPECT_NE(t.source.find("tutorial"), std::string::npos);
  // The tutorial's calculate_breakeven_point: 500 / 0.003 * 1000.
  EXPECT_NEAR(BreakEvenTokensPerMonth(0.003, 500), 166666666.67, 0.01);
}

TEST(Estimate, PriceTablesAreValidated) {
  auto ok = ParsePriceTable(nlohmann::json::parse(R"({"currency":"EUR","models":{"m":{"trainingPer1kTokens":0.5}}})"), "p.json");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->currency, "EUR");
  EXPECT_EQ(ok->models.at("m").name, "m");
  auto bad = ParsePriceTable(nlohmann::json::parse(R"({"models":{"m":{"trainingPer1kTokens":"cheap"}}})"), "p.json");
  EXPECT_NE(bad.status().message().find("p.json: models.\"m\".trainingPer1kTokens must be a non-negative number"),
            std::string::npos) << bad.status().message();
  EXPECT_FALSE(ParsePriceTable(nlohmann::json::parse(R"({"models":{}})"), "p.json").ok());
  // The example shipped in docs/ parses.
  auto shipped = LoadPriceTable(Env::Default(), std::string(LATHE_SOURCE_DIR) + "/docs/prices.example.json");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  EXPECT_EQ(shipped->models.size(), DefaultPriceTable().models.size());
}

}  // namespace
}  // namespace lathe::data
