// Intrinsic functions: each one on AWS's documented example, then its argument rules and bad
// input (wrong types, huge ranges, long data, invalid UTF-8, deep nesting, hostile text).
#include "asl/intrinsics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "asl/errors.h"

namespace lathe::asl {
namespace {

using nlohmann::json;

json Eval(const std::string& text, const json& input = json::object(), const json& context = json::object()) {
  Result<Intrinsic> f = Intrinsic::Parse(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status().message();
  if (!f.ok()) return "<parse error>";
  Result<json> r = f->Evaluate(input, context);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : json("<error>");
}

// The evaluation fails with `error` (States.IntrinsicFailure by default), naming the function.
void ExpectFailure(const std::string& text, const json& input = json::object(),
                   const std::string& error = "States.IntrinsicFailure") {
  Result<Intrinsic> f = Intrinsic::Parse(text);
  ASSERT_TRUE(f.ok()) << text << ": " << f.status().message();
  Result<json> r = f->Evaluate(input, json::object());
  ASSERT_FALSE(r.ok()) << text << " gave " << r->dump();
  EXPECT_EQ(r.status().aws_code(), error) << text << ": " << r.status().message();
  if (error == "States.IntrinsicFailure") {
    std::string function = text.substr(0, text.find('('));
    EXPECT_NE(r.status().message().find(function), std::string::npos) << r.status().message();
  }
}

void ExpectParseError(const std::string& text) {
  Result<Intrinsic> f = Intrinsic::Parse(text);
  EXPECT_FALSE(f.ok()) << text;
  if (!f.ok()) {
    EXPECT_EQ(f.status().code(), Status::Code::kInvalidArgument) << text;
  }
}

TEST(IntrinsicsTest, LooksLikeIntrinsic) {
  EXPECT_TRUE(LooksLikeIntrinsic("States.Format('x')"));
  EXPECT_TRUE(LooksLikeIntrinsic("States.UUID()"));
  EXPECT_FALSE(LooksLikeIntrinsic("$.a"));
  EXPECT_FALSE(LooksLikeIntrinsic("States."));
  EXPECT_FALSE(LooksLikeIntrinsic("States.Format"));
  EXPECT_FALSE(LooksLikeIntrinsic("Format('x')"));
}

TEST(IntrinsicsTest, FormatAsDocumented) {
  EXPECT_EQ(Eval("States.Format('Your name is {}, we are in the year {}', $.name, 2020)", {{"name", "Foo"}}),
            "Your name is Foo, we are in the year 2020");
  EXPECT_EQ(Eval("States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)",
                 {{"firstName", "John"}, {"lastName", "Doe"}}),
            "Welcome to John Doe's playlist.");
  EXPECT_EQ(Eval("States.Format('Today is {}', $$.DayOfWeek)", json::object(), {{"DayOfWeek", "TUESDAY"}}),
            "Today is TUESDAY");
  // Escaped braces are text, not placeholders; scalars in their natural form.
  EXPECT_EQ(Eval("States.Format('\\{\\} {} {} {} {}', true, null, 1.5, 'a\\\\b')"), "{} true null 1.5 a\\b");
  EXPECT_EQ(Eval("States.Format($.t, $.v)", {{"t", "v={}"}, {"v", 7}}), "v=7");
  // Arrays and objects as Step Functions writes them.
  EXPECT_EQ(Eval("States.Format('{} {}', $.a, $.o)", json::parse(R"({"a": [1, "x"], "o": {"k": "v"}})")),
            "[1, x] {k=v}");
  ExpectParseError("States.Format('{} {}', 1)");
  ExpectParseError("States.Format('{}')");
  ExpectParseError("States.Format(1, 2)");
  ExpectFailure("States.Format($.t, 1, 2)", {{"t", "{}"}});
  ExpectFailure("States.Format($.t)", {{"t", 5}});
}

TEST(IntrinsicsTest, JsonConversions) {
  EXPECT_EQ(Eval("States.StringToJson($.someString)", {{"someString", "{\"number\": 20}"}}), json({{"number", 20}}));
  EXPECT_EQ(Eval("States.JsonToString($.someJson)", json::parse(R"({"someJson": {"name": "Foo", "year": 2020}})")),
            "{\"name\":\"Foo\",\"year\":2020}");
  EXPECT_EQ(Eval("States.StringToJson('')"), nullptr);
  ExpectFailure("States.StringToJson('{not json')");
  ExpectFailure("States.StringToJson($.n)", {{"n", 5}});
  // Nesting is measured before parsing: a hostile string cannot exhaust the stack.
  ExpectFailure("States.StringToJson($.s)", {{"s", std::string(100000, '[')}});
}

TEST(IntrinsicsTest, Arrays) {
  json input = json::parse(R"({"someJson": {"random": "abcdefg"}, "inputArray": [1,2,3,4,5,6,7,8,9],
                               "lookingFor": 5, "index": 5, "dups": [1,2,3,3,3,3,3,3,4]})");
  EXPECT_EQ(Eval("States.Array('Foo', 2020, $.someJson, null)", input),
            json::parse(R"(["Foo", 2020, {"random": "abcdefg"}, null])"));
  EXPECT_EQ(Eval("States.Array()"), json::array());
  EXPECT_EQ(Eval("States.ArrayPartition($.inputArray,4)", input), json::parse("[[1,2,3,4],[5,6,7,8],[9]]"));
  EXPECT_EQ(Eval("States.ArrayContains($.inputArray, $.lookingFor)", input), true);
  EXPECT_EQ(Eval("States.ArrayContains($.inputArray, 'x')", input), false);
  EXPECT_EQ(Eval("States.ArrayRange(1, 9, 2)"), json::parse("[1,3,5,7,9]"));
  EXPECT_EQ(Eval("States.ArrayRange(5, 1, -2)"), json::parse("[5,3,1]"));
  EXPECT_EQ(Eval("States.ArrayRange(5, 1, 2)"), json::array());
  EXPECT_EQ(Eval("States.ArrayRange(0, 999, 1)").size(), 1000u);
  EXPECT_EQ(Eval("States.ArrayGetItem($.inputArray, $.index)", input), 6);
  EXPECT_EQ(Eval("States.ArrayLength($.inputArray)", input), 9);
  EXPECT_EQ(Eval("States.ArrayUnique($.dups)", input), json::parse("[1,2,3,4]"));
  EXPECT_EQ(Eval("States.ArrayUnique($.m)", json::parse(R"({"m": [{"a": 1}, "x", {"a": 1}, 2, 2.0]})")),
            json::parse(R"([{"a": 1}, "x", 2])"));
  ExpectFailure("States.ArrayRange(1, 1001, 1)");  // 1000 items is the most
  ExpectFailure("States.ArrayRange(-2147483648, 2147483647, 1)");
  ExpectFailure("States.ArrayRange(1, 9, 0)");
  ExpectFailure("States.ArrayRange('1', 9, 1)");
  ExpectFailure("States.ArrayPartition($.inputArray, 0)", input);
  ExpectFailure("States.ArrayPartition($.lookingFor, 2)", input);
  ExpectFailure("States.ArrayGetItem($.inputArray, 9)", input);
  ExpectFailure("States.ArrayGetItem($.inputArray, -1)", input);
  ExpectFailure("States.ArrayGetItem($.inputArray, 1.5)", input);
  ExpectFailure("States.ArrayLength($.someJson)", input);
  ExpectFailure("States.ArrayContains('abc', 'a')");
  ExpectFailure("States.ArrayUnique(3)");
}

TEST(IntrinsicsTest, Base64) {
  EXPECT_EQ(Eval("States.Base64Encode($.input)", {{"input", "Data to encode"}}), "RGF0YSB0byBlbmNvZGU=");
  EXPECT_EQ(Eval("States.Base64Decode($.base64)", {{"base64", "RGF0YSB0byBlbmNvZGU="}}), "Data to encode");
  EXPECT_EQ(Eval("States.Base64Encode($.s)", {{"s", std::string(10000, 'a')}}).get<std::string>().size(), 13336u);
  ExpectFailure("States.Base64Encode($.s)", {{"s", std::string(10001, 'a')}});
  ExpectFailure("States.Base64Decode($.s)", {{"s", std::string(10004, 'A')}});
  ExpectFailure("States.Base64Decode('not base64!')");
  ExpectFailure("States.Base64Decode('/w==')");  // 0xFF: not UTF-8 text
  ExpectFailure("States.Base64Encode(12)");
  // Bytes that are not UTF-8 still encode (the input's bytes as they are).
  EXPECT_EQ(Eval("States.Base64Encode($.s)", {{"s", std::string("\xff\xfe", 2)}}), "//4=");
}

TEST(IntrinsicsTest, Hash) {
  EXPECT_EQ(Eval("States.Hash('abc', 'MD5')"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Eval("States.Hash('abc', 'SHA-1')"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Eval("States.Hash('abc', 'SHA-256')"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Eval("States.Hash('abc', 'SHA-384')"),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Eval("States.Hash($.Data, $.Algorithm)", {{"Data", "abc"}, {"Algorithm", "SHA-512"}}),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  // Anything else is hashed as its JSON text.
  EXPECT_EQ(Eval("States.Hash($.o, 'MD5')", {{"o", {{"a", 1}}}}), Eval("States.Hash('{\"a\":1}', 'MD5')"));
  ExpectFailure("States.Hash('abc', 'SHA256')");
  ExpectFailure("States.Hash('abc', 1)");
  ExpectFailure("States.Hash($.s, 'MD5')", {{"s", std::string(10001, 'x')}});
}

TEST(IntrinsicsTest, JsonMerge) {
  json input = json::parse(R"({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}})");
  EXPECT_EQ(Eval("States.JsonMerge($.json1, $.json2, false)", input),
            json::parse(R"({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})"));
  ExpectFailure("States.JsonMerge($.json1, $.json2, true)", input);  // AWS: shallow only
  ExpectFailure("States.JsonMerge($.json1, $.json2, 'false')", input);
  ExpectFailure("States.JsonMerge($.json1, States.Array(), false)", input);
}

TEST(IntrinsicsTest, Math) {
  EXPECT_EQ(Eval("States.MathAdd($.value1, $.step)", {{"value1", 111}, {"step", -1}}), 110);
  EXPECT_EQ(Eval("States.MathAdd(1.5, 2)"), 4);  // rounded, as AWS does
  ExpectFailure("States.MathAdd('1', 2)");
  ExpectFailure("States.MathAdd(2147483648, 1)");
  for (int i = 0; i < 50; ++i) {
    int64_t r = Eval("States.MathRandom($.start, $.end)", {{"start", 1}, {"end", 999}}).get<int64_t>();
    EXPECT_GE(r, 1);
    EXPECT_LE(r, 999);
  }
  // The same seed gives the same number.
  EXPECT_EQ(Eval("States.MathRandom(1, 1000000, 42)"), Eval("States.MathRandom(1, 1000000, 42)"));
  EXPECT_EQ(Eval("States.MathRandom(7, 7)"), 7);
  ExpectFailure("States.MathRandom(10, 1)");
  ExpectFailure("States.MathRandom('a', 1)");
  ExpectFailure("States.MathRandom(1, 5, 'seed')");
}

TEST(IntrinsicsTest, StringSplitAndUuid) {
  EXPECT_EQ(Eval("States.StringSplit($.inputString, $.splitter)", {{"inputString", "1,2,3,4,5"}, {"splitter", ","}}),
            json::parse(R"(["1","2","3","4","5"])"));
  EXPECT_EQ(Eval("States.StringSplit('This.is+a,test=string', '.+,=')"),
            json::parse(R"(["This","is","a","test","string"])"));
  EXPECT_EQ(Eval("States.StringSplit(',,a,,b,', ',')"), json::parse(R"(["a","b"])"));
  // Delimiters are characters, not bytes: "é" does not split "è" (they share a lead byte).
  EXPECT_EQ(Eval("States.StringSplit('aèbéc', 'é')"), json::parse(R"(["aèb","c"])"));
  ExpectFailure("States.StringSplit(1, ',')");
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    std::string uuid = Eval("States.UUID()").get<std::string>();
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[14], '4');
    EXPECT_NE(std::string("89ab").find(uuid[19]), std::string::npos);
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST(IntrinsicsTest, NestedCallsAsDocumented) {
  // The developer guide's nine nested calls (its template has a third {} without an argument,
  // which fails: the count of {} must match).
  json input = {{"ImageRecipe", {{"Arn", "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my.recipe.name/1.0.0"}}}};
  EXPECT_EQ(Eval("States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
                 "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem(States.StringSplit("
                 "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
                 input),
            "1.0");
  EXPECT_EQ(Eval("States.ArrayLength(States.StringSplit('a b c', ' '))"), 3);
  EXPECT_EQ(Eval("States.Array($.a[?(@ > 1)], $['x,y'])", json::parse(R"({"a": [1, 2, 3], "x,y": "q"})")),
            json::parse(R"([[2, 3], "q"])"));
}

TEST(IntrinsicsTest, PathsThatNameNothingFailAsPathsDo) {
  ExpectFailure("States.Format('{}', $.missing)", json::object(), "States.Runtime");
}

TEST(IntrinsicsTest, RejectsBadText) {
  for (const char* bad : {"States.Nope()", "States.Format", "States.Format('x'", "States.Format('x)", "States.UUID(1)",
                          "States.ArrayRange(1, 2)", "States.Array(1,)", "States.Array(,1)", "States.Array(1 2)",
                          "States.Array('\\n')", "States.Array($.)", "States.Array(foo)", "States.Array(1) x",
                          "States.MathAdd(1, 2, 3)", "States.Array(--1)", "States.Array(1e999999)"}) {
    ExpectParseError(bad);
  }
  std::string deep;
  for (int i = 0; i < 11; ++i) deep += "States.Array(";
  deep += std::string(11, ')');
  ExpectParseError(deep);
  std::string ten;
  for (int i = 0; i < 10; ++i) ten += "States.Array(";
  ten += std::string(10, ')');
  EXPECT_TRUE(Intrinsic::Parse(ten).ok());
  std::string long_text = "States.Format('" + std::string(kMaxPathLength, 'x') + "')";
  ExpectParseError(long_text);
}

TEST(IntrinsicsTest, ResultsAreBounded) {
  // Many copies of a large input cannot be built.
  json input = {{"big", std::string(200 * 1024, 'x')}};
  ExpectFailure("States.Array($.big, $.big)", input);
  ExpectFailure("States.Format('{}{}', $.big, $.big)", input);
  EXPECT_EQ(Eval("States.ArrayLength(States.Array($.big))", input), 1);
}

}  // namespace
}  // namespace lathe::asl
