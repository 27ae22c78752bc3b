// JSONPath as Step Functions (Jayway) reads it: AWS's documented examples, the Jayway forms
// (wildcards, unions, slices, recursive descent, filters), ResultPath placement, and bad input.
#include "asl/json_path.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe::asl {
namespace {

using nlohmann::json;

JsonPath P(const std::string& text) {
  Result<JsonPath> path = JsonPath::Parse(text);
  EXPECT_TRUE(path.ok()) << text << ": " << path.status().message();
  return path.ok() ? *path : JsonPath();
}

json Sel(const std::string& path, const json& root) {
  Result<json> r = P(path).Select(root);
  EXPECT_TRUE(r.ok()) << path << ": " << r.status().message();
  return r.ok() ? *r : json("<error>");
}

// The example input of the "Paths" section of AWS's developer guide.
const json kStore = json::parse(R"({
  "foo": 123,
  "bar": ["a", "b", "c"],
  "car": {"cdr": true},
  "store": {"book": [
    {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8.99}
  ], "bicycle": {"color": "red", "price": 19.95}}
})");

TEST(JsonPathTest, DocumentedReferencePaths) {
  EXPECT_EQ(Sel("$.foo", kStore), 123);
  EXPECT_EQ(Sel("$.bar", kStore), json({"a", "b", "c"}));
  EXPECT_EQ(Sel("$.car.cdr", kStore), true);
  EXPECT_EQ(Sel("$", kStore), kStore);
  EXPECT_EQ(Sel("$['store']['bicycle']['color']", kStore), "red");
  EXPECT_EQ(Sel("$[\"store\"].bicycle[\"color\"]", kStore), "red");
  EXPECT_EQ(Sel("$.bar[0]", kStore), "a");
  EXPECT_EQ(Sel("$.bar[-1]", kStore), "c");
  EXPECT_EQ(Sel("$.store.book[2].isbn", kStore), "0-553");
  EXPECT_TRUE(P("$.store.book[2].isbn").is_reference());
  EXPECT_TRUE(P("$.store.book[2].isbn").is_definite());
  EXPECT_FALSE(P("$.bar[-1]").is_reference());
  EXPECT_TRUE(P("$.bar[-1]").is_definite());
}

TEST(JsonPathTest, SpecReferencePathSyntax) {
  // The States Language spec's examples of acceptable reference paths: a backslash takes the
  // next character as part of the name.
  json doc = json::parse(R"({"store.book": 1, "store": {"book": {"title": "T"}}, "foo@bar": {"baz[[": {"?pretty": 2}},
                             "&Ж中": {"x": 3}, "ledgers": [[0, [1, 2, {"foo": "deep"}]]]})");
  EXPECT_EQ(Sel("$.store\\.book", doc), 1);
  EXPECT_EQ(Sel("$.\\stor\\e.boo\\k.title", doc), "T");
  EXPECT_EQ(Sel("$.foo\\@bar.baz\\[\\[.\\?pretty", doc), 2);
  EXPECT_EQ(Sel("$.&Ж中.x", doc), 3);
  EXPECT_EQ(Sel("$.ledgers[0][1][2].foo", doc), "deep");
  EXPECT_EQ(Sel("$['store'][\"book\"]['title']", doc), "T");
  for (const char* ref : {"$.store\\.book", "$.ledgers[0][1][2].foo", "$['store']['book']"})
    EXPECT_TRUE(P(ref).is_reference()) << ref;
}

TEST(JsonPathTest, IndefinitePathsAnswerArrays) {
  EXPECT_EQ(Sel("$.bar[*]", kStore), json({"a", "b", "c"}));
  EXPECT_EQ(Sel("$.car.*", kStore), json({true}));
  EXPECT_EQ(Sel("$.bar[0,2]", kStore), json({"a", "c"}));
  EXPECT_EQ(Sel("$.bar[1:]", kStore), json({"b", "c"}));
  EXPECT_EQ(Sel("$.bar[:2]", kStore), json({"a", "b"}));
  EXPECT_EQ(Sel("$.bar[-2:]", kStore), json({"b", "c"}));
  EXPECT_EQ(Sel("$.bar[5:9]", kStore), json::array());
  EXPECT_EQ(Sel("$.store.book[*].author", kStore), json({"Nigel Rees", "Evelyn Waugh", "Herman Melville"}));
  EXPECT_EQ(Sel("$..author", kStore), json({"Nigel Rees", "Evelyn Waugh", "Herman Melville"}));
  EXPECT_EQ(Sel("$..isbn", kStore), json({"0-553"}));
  EXPECT_EQ(Sel("$..nothing", kStore), json::array());
  EXPECT_EQ(Sel("$.store..price", kStore), json({19.95, 8.95, 12.99, 8.99}));  // keys in order
  EXPECT_EQ(Sel("$..book[1].title", kStore), json({"Sword"}));
  EXPECT_FALSE(P("$..author").is_definite());
  EXPECT_FALSE(P("$.bar[*]").is_reference());
}

TEST(JsonPathTest, LeafUnionOfNamesIsOneObject) {
  // Jayway merges a leaf union of names into one object (and calls the path definite).
  EXPECT_EQ(Sel("$['foo','car','missing']", kStore), json({{"foo", 123}, {"car", {{"cdr", true}}}}));
  EXPECT_TRUE(P("$['foo','car']").is_definite());
  EXPECT_FALSE(P("$['foo','car']").is_reference());
  EXPECT_EQ(Sel("$['store','car'].bicycle.color", kStore), json({"red"}));
}

TEST(JsonPathTest, Filters) {
  EXPECT_EQ(Sel("$.store.book[?(@.price < 10)].title", kStore), json({"Sayings", "Moby Dick"}));
  EXPECT_EQ(Sel("$.store.book[?(@.isbn)].title", kStore), json({"Moby Dick"}));
  EXPECT_EQ(Sel("$.store.book[?(@.category == 'fiction' && @.price > 10)].title", kStore), json({"Sword"}));
  EXPECT_EQ(Sel("$.store.book[?(@.category==\"reference\" || @.price>=12.99)].title", kStore),
            json({"Sayings", "Sword"}));
  EXPECT_EQ(Sel("$.store.book[?(@.category != 'fiction')].price", kStore), json({8.95}));
  EXPECT_EQ(Sel("$.store.book[?(!(@.price <= 9))].title", kStore), json({"Sword"}));
  EXPECT_EQ(Sel("$.store.book[?(@.price < $.store.bicycle.price && @.title == 'Sword')].author", kStore),
            json({"Evelyn Waugh"}));
  // Different types are never equal; a missing member is unequal to everything.
  EXPECT_EQ(Sel("$.store.book[?(@.price == '8.95')]", kStore), json::array());
  EXPECT_EQ(Sel("$.store.book[?(@.isbn != '0-553')].title", kStore), json({"Sayings", "Sword"}));
  EXPECT_EQ(Sel("$[?(@.foo == 123)].foo", kStore), json({123}));  // an object tests itself
  json items = json::parse(R"([{"a": 1}, {"a": 1.0}, {"a": true}, {"a": null}, {"a": "1"}])");
  EXPECT_EQ(Sel("$[?(@.a == 1)]", items).size(), 2u);
  EXPECT_EQ(Sel("$[?(@.a == null)]", items), json::parse(R"([{"a": null}])"));
  EXPECT_EQ(Sel("$[?(@.a == true)]", items), json::parse(R"([{"a": true}])"));
}

TEST(JsonPathTest, MissingDefinitePathFailsWithAwsCause) {
  Result<json> r = P("$.a.b").Select(json::parse(R"({"a": {}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().aws_code(), "States.Runtime");
  EXPECT_EQ(r.status().message(), "Invalid path '$.a.b' : No results for path: $['a']['b']");
  r = P("$.bar[7].x").Select(kStore);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Invalid path '$.bar[7].x' : No results for path: $['bar'][7]['x']");
  EXPECT_FALSE(P("$.foo.x").Select(kStore).ok());  // a name on a number
  EXPECT_FALSE(P("$[0]").Select(kStore).ok());     // an index on an object
  // An out-of-range index as the last step answers null (Jayway over Jackson).
  EXPECT_EQ(Sel("$.bar[7]", kStore), nullptr);
}

TEST(JsonPathTest, Exists) {
  EXPECT_TRUE(P("$.car.cdr").Exists(kStore));
  EXPECT_FALSE(P("$.car.nope").Exists(kStore));
  EXPECT_FALSE(P("$.bar[7]").Exists(kStore));
  EXPECT_TRUE(P("$.bar[2]").Exists(kStore));
  EXPECT_TRUE(P("$..isbn").Exists(kStore));
  EXPECT_FALSE(P("$..nope").Exists(kStore));
  EXPECT_TRUE(P("$.x").Exists(json::parse(R"({"x": null})")));
}

TEST(JsonPathTest, ContextPaths) {
  JsonPath p = P("$$.Execution.Id");
  EXPECT_TRUE(p.is_context());
  EXPECT_EQ(p.text(), "$$.Execution.Id");
  json context = {{"Execution", {{"Id", "arn:x"}}}, {"Map", {{"Item", {{"Index", 2}}}}}};
  EXPECT_EQ(*p.Select(context), "arn:x");
  EXPECT_EQ(Sel("$$.Map.Item.Index", context), 2);
  EXPECT_EQ(Sel("$$", context), context);
  EXPECT_FALSE(P("$.x").is_context());
}

TEST(JsonPathTest, ResultPathPlacesTheResult) {
  // The ResultPath examples of AWS's guide.
  json input = json::parse(R"({"comment": "An input comment.", "data": {"val1": 23, "val2": 17},
                               "extra": "foo", "lambda": {"who": "AWS Step Functions", "where": "Seattle"}})");
  json out = *PutAt(P("$.lambda.data"), input, "Hello, AWS Step Functions from Seattle!");
  EXPECT_EQ(out["lambda"]["data"], "Hello, AWS Step Functions from Seattle!");
  EXPECT_EQ(out["lambda"]["who"], "AWS Step Functions");
  EXPECT_EQ(*PutAt(P("$"), input, 42), 42);
  out = *PutAt(P("$.new.deeper.still"), input, json::array({1}));
  EXPECT_EQ(out["new"], json::parse(R"({"deeper": {"still": [1]}})"));
  out = *PutAt(P("$.data.val1"), input, "replaced");
  EXPECT_EQ(out["data"], json::parse(R"({"val1": "replaced", "val2": 17})"));
  out = *PutAt(P("$.list[1]"), json::parse(R"({"list": [1, 2, 3]})"), "two");
  EXPECT_EQ(out["list"], json::parse(R"([1, "two", 3])"));
}

TEST(JsonPathTest, ResultPathMatchFailure) {
  auto expect_failure = [](const std::string& path, const json& input) {
    Result<json> r = PutAt(P(path), input, 1);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().aws_code(), "States.ResultPathMatchFailure");
    EXPECT_EQ(r.status().message(), "Unable to apply ReferencePath " + path + " to input " + input.dump());
  };
  expect_failure("$.a", json("a string"));
  expect_failure("$.a", json::array({1, 2}));
  expect_failure("$.a.b", json::parse(R"({"a": "text"})"));
  expect_failure("$.a.b", json::parse(R"({"a": null})"));
  expect_failure("$.list[3]", json::parse(R"({"list": [1]})"));
  expect_failure("$.missing[0]", json::parse(R"({"x": 1})"));
  expect_failure("$.a[*]", json::parse(R"({"a": [1]})"));
}

TEST(JsonPathTest, RejectsBadPaths) {
  for (const char* bad : {"", "a.b", "$.", "$..", "$[", "$[']", "$['a'", "$[abc]", "$.a b", "$.list.length()",
                          "$[?(@.a ==)]", "$[?(@.a == 1]", "$[?(1)]", "$[1:x]", "$]", "$.a)", "$[99999999999]",
                          "$[?(@.a == 'x)]", "$.*x", "$$$"}) {
    Result<JsonPath> r = JsonPath::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
}

TEST(JsonPathTest, HostilePathsAreBounded) {
  std::string long_path = "$";
  while (long_path.size() <= kMaxPathLength) long_path += ".a";
  EXPECT_FALSE(JsonPath::Parse(long_path).ok());
  // Filters nested past kMaxExpressionDepth are refused at parse, not run.
  std::string nested = "$";
  for (size_t i = 0; i < kMaxExpressionDepth + 1; ++i) nested += "[?(@";
  for (size_t i = 0; i < kMaxExpressionDepth + 1; ++i) nested += ")]";
  EXPECT_FALSE(JsonPath::Parse(nested).ok());
  std::string parens = "$[?(" + std::string(200, '(') + "@.a" + std::string(200, ')') + ")]";
  EXPECT_FALSE(JsonPath::Parse(parens).ok());
  std::string nots = "$[?(" + std::string(500, '!') + "@.a)]";
  EXPECT_FALSE(JsonPath::Parse(nots).ok());
  // A repeated recursive descent over a wide, deep input stops with an error instead of running
  // away.
  json wide = json::array();
  json chain = 1;
  for (int d = 0; d < 12; ++d) chain = json::array({chain, chain});
  for (int i = 0; i < 5; ++i) wide.push_back(chain);
  Result<json> r = P("$..*..*..*..*").Select(wide);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().aws_code(), "States.Runtime");
}

}  // namespace
}  // namespace lathe::asl
