// EventBridge event patterns against AWS's documented examples ("Amazon EventBridge event
// patterns", "Content filtering", "Arrays in event patterns"), one row each, then the invalid
// patterns with the reasons AWS gives, hostile inputs, and the automation tutorial's rule.
#include "services/events/event_pattern.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <string>

namespace lathe::events {
namespace {

using json = nlohmann::json;

struct Row {
  const char* name;
  const char* pattern;
  const char* event;
  bool matches;
};

const Row kRows[] = {
    // Exact values; the envelope's fields and nested detail.
    {"exact source", R"({"source": ["aws.ec2"]})", R"({"source": "aws.ec2"})", true},
    {"exact other source", R"({"source": ["aws.ec2"]})", R"({"source": "aws.s3"})", false},
    {"exact is case sensitive", R"({"source": ["aws.ec2"]})", R"({"source": "AWS.EC2"})", false},
    {"nested detail", R"({"source": ["aws.ec2"], "detail": {"state": ["terminated"]}})",
     R"({"source": "aws.ec2", "detail": {"state": "terminated", "instance-id": "i-1"}})", true},
    {"every named field must match", R"({"source": ["aws.ec2"], "detail": {"state": ["terminated"]}})",
     R"({"source": "aws.ec2", "detail": {"state": "running"}})", false},
    {"named field missing", R"({"detail": {"state": ["terminated"]}})", R"({"detail": {}})", false},
    {"any alternative", R"({"detail": {"state": ["running", "terminated"]}})", R"({"detail": {"state": "running"}})",
     true},
    {"empty string", R"({"detail": {"LastName": [""]}})", R"({"detail": {"LastName": ""}})", true},
    {"null", R"({"detail": {"responseElements": [null]}})", R"({"detail": {"responseElements": null}})", true},
    {"null is not the string", R"({"detail": {"x": [null]}})", R"({"detail": {"x": "null"}})", false},
    {"true", R"({"detail": {"ok": [true]}})", R"({"detail": {"ok": true}})", true},
    {"false vs true", R"({"detail": {"ok": [false]}})", R"({"detail": {"ok": true}})", false},
    {"number exact", R"({"detail": {"n": [300]}})", R"({"detail": {"n": 300}})", true},
    {"number compares numerically", R"({"detail": {"n": [300]}})", R"({"detail": {"n": 300.0}})", true},
    {"number exponent", R"({"detail": {"n": [3.0e2]}})", R"({"detail": {"n": 300}})", true},
    {"number is not a string", R"({"detail": {"n": [300]}})", R"({"detail": {"n": "300"}})", false},
    {"string is not a number", R"({"detail": {"n": ["300"]}})", R"({"detail": {"n": 300}})", false},
    {"account-sized integer", R"({"account": [123456789012]})", R"({"account": 123456789012})", true},
    {"pattern object vs event scalar", R"({"detail": {"state": {"code": [16]}}})", R"({"detail": {"state": 16}})",
     false},
    {"pattern leaf vs event object", R"({"detail": {"state": ["x"]}})", R"({"detail": {"state": {"a": "x"}}})", false},
    // Arrays.
    {"resources intersect",
     R"({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                       "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]})",
     R"({"resources": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
                       "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]})",
     true},
    {"resources disjoint", R"({"resources": ["a", "b"]})", R"({"resources": ["c", "d"]})", false},
    {"empty event array", R"({"resources": ["a"]})", R"({"resources": []})", false},
    {"array of objects", R"({"detail": {"items": {"id": [2]}}})", R"({"detail": {"items": [{"id": 1}, {"id": 2}]}})",
     true},
    {"fields from one element", R"({"detail": {"items": {"id": [1], "kind": ["b"]}}})",
     R"({"detail": {"items": [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}]}})", false},
    {"fields from one element (same)", R"({"detail": {"items": {"id": [2], "kind": ["b"]}}})",
     R"({"detail": {"items": [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}]}})", true},
    {"nested arrays", R"({"detail": {"v": [3]}})", R"({"detail": {"v": [[1, 2], [3]]}})", true},
    // Prefix and suffix, also ignoring case.
    {"prefix", R"({"time": [{"prefix": "2017-10-02"}]})", R"({"time": "2017-10-02T18:43:48Z"})", true},
    {"prefix miss", R"({"time": [{"prefix": "2017-10-02"}]})", R"({"time": "2017-10-03T18:43:48Z"})", false},
    {"prefix only strings", R"({"n": [{"prefix": "1"}]})", R"({"n": 12})", false},
    {"prefix ignore case", R"({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}})",
     R"({"detail": {"service": "eventbridge"}})", true},
    {"prefix ignore case upper", R"({"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}})",
     R"({"detail": {"service": "EVENTBRIDGE"}})", true},
    {"suffix", R"({"FileName": [{"suffix": ".png"}]})", R"({"FileName": "image.png"})", true},
    {"suffix miss", R"({"FileName": [{"suffix": ".png"}]})", R"({"FileName": "image.PNG"})", false},
    {"suffix ignore case", R"({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}})",
     R"({"detail": {"FileName": "IMAGE.PNG"}})", true},
    // equals-ignore-case.
    {"equals-ignore-case", R"({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]})",
     R"({"detail-type": "EC2 Instance State-change Notification"})", true},
    {"equals-ignore-case miss", R"({"name": [{"equals-ignore-case": "alice"}]})", R"({"name": "alicia"})", false},
    // anything-but.
    {"anything-but string", R"({"detail": {"state": [{"anything-but": "initializing"}]}})",
     R"({"detail": {"state": "running"}})", true},
    {"anything-but string same", R"({"detail": {"state": [{"anything-but": "initializing"}]}})",
     R"({"detail": {"state": "initializing"}})", false},
    {"anything-but number", R"({"detail": {"x-limit": [{"anything-but": 123}]}})", R"({"detail": {"x-limit": 456}})",
     true},
    {"anything-but number same", R"({"detail": {"x-limit": [{"anything-but": 123}]}})",
     R"({"detail": {"x-limit": 123.0}})", false},
    {"anything-but list", R"({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}})",
     R"({"detail": {"state": "overloaded"}})", false},
    {"anything-but list other", R"({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}})",
     R"({"detail": {"state": "running"}})", true},
    {"anything-but number list", R"({"detail": {"x": [{"anything-but": [100, 200, 300]}]}})",
     R"({"detail": {"x": 200}})", false},
    {"anything-but absent field", R"({"detail": {"state": [{"anything-but": "x"}]}})", R"({"detail": {}})", false},
    {"anything-but prefix", R"({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}})",
     R"({"detail": {"state": "initializing"}})", false},
    {"anything-but prefix other", R"({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}})",
     R"({"detail": {"state": "running"}})", true},
    {"anything-but suffix", R"({"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}})",
     R"({"detail": {"FileName": "notes.txt"}})", false},
    {"anything-but ignore case", R"({"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}})",
     R"({"detail": {"state": "INITIALIZING"}})", false},
    {"anything-but ignore case list",
     R"({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["stopped", "overloaded"]}}]}})",
     R"({"detail": {"state": "Running"}})", true},
    {"anything-but wildcard", R"({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}})",
     R"({"detail": {"FilePath": "/usr/lib/x.so"}})", false},
    {"anything-but wildcard other", R"({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}})",
     R"({"detail": {"FilePath": "/usr/bin/x"}})", true},
    {"anything-but any array element", R"({"detail": {"s": [{"anything-but": "a"}]}})",
     R"({"detail": {"s": ["a", "b"]}})", true},
    // numeric.
    {"numeric range", R"({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}})", R"({"detail": {"c-count": 5}})",
     true},
    {"numeric range low open", R"({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}})",
     R"({"detail": {"c-count": 0}})", false},
    {"numeric lt", R"({"detail": {"d-count": [{"numeric": ["<", 10]}]}})", R"({"detail": {"d-count": 9.99}})", true},
    {"numeric lt equal", R"({"detail": {"d-count": [{"numeric": ["<", 10]}]}})", R"({"detail": {"d-count": 10}})",
     false},
    {"numeric equals exponent", R"({"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}})",
     R"({"detail": {"x-limit": 301.8}})", true},
    {"numeric ge", R"({"n": [{"numeric": [">=", 1.5]}]})", R"({"n": 1.5})", true},
    {"numeric on string", R"({"n": [{"numeric": [">", 0]}]})", R"({"n": "5"})", false},
    {"numeric out of AWS range", R"({"n": [{"numeric": [">", 0]}]})", R"({"n": 6e9})", false},
    {"numeric any element", R"({"n": [{"numeric": [">", 10]}]})", R"({"n": [1, 2, 30]})", true},
    // exists (leaf nodes only).
    {"exists true", R"({"detail": {"state": [{"exists": true}]}})", R"({"detail": {"state": "x"}})", true},
    {"exists true null", R"({"detail": {"state": [{"exists": true}]}})", R"({"detail": {"state": null}})", true},
    {"exists true absent", R"({"detail": {"state": [{"exists": true}]}})", R"({"detail": {}})", false},
    {"exists false absent", R"({"detail": {"state": [{"exists": false}]}})", R"({"detail": {"other": 1}})", true},
    {"exists false present", R"({"detail": {"state": [{"exists": false}]}})", R"({"detail": {"state": "x"}})", false},
    {"exists false no detail", R"({"detail": {"state": [{"exists": false}]}})", R"({"source": "a"})", true},
    {"exists true on object", R"({"detail": {"state": [{"exists": true}]}})",
     R"({"detail": {"state": {"code": 16}}})", false},
    {"exists false on object", R"({"detail": {"state": [{"exists": false}]}})",
     R"({"detail": {"state": {"code": 16}}})", true},
    {"exists true empty array", R"({"detail": {"list": [{"exists": true}]}})", R"({"detail": {"list": []}})", false},
    {"exists false empty array", R"({"detail": {"list": [{"exists": false}]}})", R"({"detail": {"list": []}})", true},
    {"exists true array", R"({"detail": {"list": [{"exists": true}]}})", R"({"detail": {"list": ["a"]}})", true},
    // wildcard.
    {"wildcard", R"({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]})",
     R"({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"})", true},
    {"wildcard miss", R"({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]})",
     R"({"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/default"})", false},
    {"wildcard middle", R"({"k": [{"wildcard": "dir/*.png"}]})", R"({"k": "dir/a/b.png"})", true},
    {"wildcard anchored end", R"({"k": [{"wildcard": "dir/*.png"}]})", R"({"k": "dir/a.png.bak"})", false},
    {"wildcard star alone", R"({"k": [{"wildcard": "*"}]})", R"({"k": ""})", true},
    {"wildcard no star", R"({"k": [{"wildcard": "abc"}]})", R"({"k": "abc"})", true},
    {"wildcard escaped star", R"({"k": [{"wildcard": "a\\*b"}]})", R"({"k": "a*b"})", true},
    {"wildcard escaped star literal", R"({"k": [{"wildcard": "a\\*b"}]})", R"({"k": "axxb"})", false},
    {"wildcard overlap", R"({"k": [{"wildcard": "ab*ba"}]})", R"({"k": "aba"})", false},
    {"prefix and suffix may not overlap", R"({"k": [{"prefix": "ab", "suffix": "ba"}]})", R"({"k": "aba"})", false},
    {"wildcard repeated", R"({"k": [{"wildcard": "*aab*"}]})", R"({"k": "aaab"})", true},
    // cidr.
    {"cidr v4", R"({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})", R"({"detail": {"source-ip": "10.0.0.255"}})",
     true},
    {"cidr v4 out", R"({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}})", R"({"detail": {"source-ip": "10.0.1.1"}})",
     false},
    {"cidr v6", R"({"ip": [{"cidr": "2001:db8::/32"}]})", R"({"ip": "2001:db8:1::5"})", true},
    {"cidr v6 out", R"({"ip": [{"cidr": "2001:db8::/32"}]})", R"({"ip": "2001:db9::5"})", false},
    {"cidr not an ip", R"({"ip": [{"cidr": "10.0.0.0/8"}]})", R"({"ip": "ten"})", false},
    // $or.
    {"or first", R"({"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}})",
     R"({"detail": {"c-count": 3}})", true},
    {"or second", R"({"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}})",
     R"({"detail": {"d-count": 3}})", true},
    {"or neither", R"({"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}})",
     R"({"detail": {"c-count": 30}})", false},
    {"or with top-level and",
     R"({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]})",
     R"({"source": "aws.s3", "namespace": "AWS/EC2"})", false},
    {"or at top level",
     R"({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]})",
     R"({"source": "aws.cloudwatch", "namespace": "AWS/EC2"})", true},
};

class DocumentedExamples : public ::testing::TestWithParam<Row> {};

TEST_P(DocumentedExamples, MatchAsAwsDoes) {
  const Row& row = GetParam();
  auto pattern = EventPattern::Parse(row.pattern);
  ASSERT_TRUE(pattern.ok()) << row.pattern << ": " << pattern.status().message();
  EXPECT_EQ(pattern->Matches(json::parse(row.event)), row.matches) << row.pattern << " vs " << row.event;
}

INSTANTIATE_TEST_SUITE_P(EventPattern, DocumentedExamples, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           std::string name;
                           for (const char* c = info.param.name; *c; ++c)
                             name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
                           return name;
                         });

struct Bad {
  const char* pattern;
  const char* reason;  // what the message must contain
};

const Bad kBad[] = {
    {R"(["aws.ec2"])", "Filter is not an object"},
    {R"({"source": "aws.ec2"})", "\"source\" must be an object or an array"},
    {R"({"detail": {}})", "Empty objects are not allowed"},
    {R"({"source": []})", "Empty arrays are not allowed"},
    {R"({"source": [["a"]]})", "Match value must be String, number, true, false, or null"},
    {R"({"source": [{}]})", "Match expression name not found"},
    {R"({"source": [{"contains": "a"}]})", "Unrecognized match type contains"},
    {R"({"source": [{"prefix": 1}]})", "prefix match pattern must be a string"},
    {R"({"source": [{"prefix": "a", "anything-but": "b"}]})", "Only one key allowed in match expression"},
    {R"({"n": [{"numeric": [">", "a"]}]})", "Value of > must be numeric"},
    {R"({"n": [{"numeric": "5"}]})", "Value of numeric must be an array."},
    {R"({"n": [{"numeric": ["!=", 5]}]})", "Unrecognized numeric range operator: !="},
    {R"({"n": [{"numeric": [">", 5, ">", 6]}]})", "Bad numeric range operator: >"},
    {R"({"n": [{"numeric": ["<", 5, "<", 6]}]})", "Too many elements in numeric expression"},
    {R"({"n": [{"numeric": [">", 5, "<", 1]}]})", "Bottom must be less than top"},
    {R"({"n": [{"numeric": [">", 6e9]}]})", "Value must be between -5.0E9 and 5.0E9, inclusive"},
    {R"({"s": [{"exists": "yes"}]})", "exists match pattern must be either true or false."},
    {R"({"s": [{"anything-but": [1, "a"]}]})", "mixed type is not supported"},
    {R"({"s": [{"anything-but": [null]}]})", "start|null|boolean is not supported"},
    {R"({"s": [{"anything-but": {"prefix": ""}}]})", "Null prefix/suffix not allowed"},
    {R"({"s": [{"anything-but": {"contains": "x"}}]})", "Unsupported anything-but pattern: contains"},
    {R"({"s": [{"anything-but": true}]})", "Value of anything-but must be an array or single string/number value."},
    {R"({"s": [{"wildcard": "a**b"}]})", "Consecutive wildcard characters at pos 1"},
    {R"({"s": [{"wildcard": "a\\b"}]})", "Invalid escape character at pos 1"},
    {R"({"s": [{"cidr": "10.0.0.0/33"}]})", "Nonstandard IP address: 10.0.0.0/33"},
    {R"({"s": [{"cidr": "ten/8"}]})", "Nonstandard IP address"},
    {R"({"$or": [{"a": ["1"]}]})", "There must have at least 2 Objects in $or relationship."},
    {R"({"$or": {"a": ["1"]}})", "It must be an Array followed with $or."},
    {R"({"$or": [{"a": ["1"]}, "b"]})", "Only JSON object is allowed in array of $or relationship."},
    {R"({"$or": [{"a": ["1"]}, {"numeric": [1]}]})", "numeric is Ruler reserved fieldName which cannot be used inside $or."},
    {R"({"source": ["a")", "not valid JSON"},
};

TEST(EventPatternInvalid, AnswersInvalidEventPatternExceptionWithAwsReason) {
  for (const Bad& bad : kBad) {
    auto p = EventPattern::Parse(bad.pattern);
    ASSERT_FALSE(p.ok()) << bad.pattern;
    EXPECT_EQ(p.status().aws_code(), "InvalidEventPatternException") << bad.pattern;
    EXPECT_EQ(p.status().http_status(), 400);
    EXPECT_EQ(p.status().message().rfind("Event pattern is not valid. Reason: ", 0), 0u) << p.status().message();
    EXPECT_NE(p.status().message().find(bad.reason), std::string::npos)
        << bad.pattern << " -> " << p.status().message();
  }
}

TEST(EventPatternBounds, OversizedPatternRefusedBeforeParsing) {
  std::string big = R"({"source": [")" + std::string(kMaxEventPatternBytes, 'a') + R"("]})";
  auto p = EventPattern::Parse(big);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("4096"), std::string::npos);
}

TEST(EventPatternBounds, DeepNestingRefused) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += R"({"a":)";
  deep += R"(["x"])";
  for (int i = 0; i < 40; ++i) deep += "}";
  auto p = EventPattern::Parse(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("nested deeper"), std::string::npos);
  // Unbalanced brackets (invalid JSON) deeper than the bound are refused without parsing too.
  EXPECT_FALSE(EventPattern::Parse(std::string(4000, '[')).ok());
}

TEST(EventPatternBounds, TooManyAlternativesRefused) {
  std::string p = R"({"n": [)";
  for (int i = 0; i < 1001; ++i) p += (i ? ",1" : "1");
  p += "]}";
  ASSERT_LE(p.size(), kMaxEventPatternBytes);
  auto r = EventPattern::Parse(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1000 alternatives"), std::string::npos) << r.status().message();
}

// The automation tutorial's rule (prefix and suffix in one expression), against the S3 event
// lathe emits (src/services/s3/object_events.cc).
const char* kTutorialPattern = R"({
  "source": ["aws.s3"],
  "detail-type": ["Object Created"],
  "detail": {"bucket": {"name": ["my-training-bucket"]},
             "object": {"key": [{"prefix": "training-data/", "suffix": ".jsonl"}]}}})";

json S3ObjectCreated(const std::string& key) {
  return {{"version", "0"},
          {"id", "7bf73129-1428-4cd3-a780-95db273d1602"},
          {"detail-type", "Object Created"},
          {"source", "aws.s3"},
          {"account", "123456789012"},
          {"time", "2026-11-28T12:00:00Z"},
          {"region", "us-east-1"},
          {"resources", {"arn:aws:s3:::my-training-bucket"}},
          {"detail",
           {{"version", "0"},
            {"bucket", {{"name", "my-training-bucket"}}},
            {"object", {{"key", key}, {"size", 1024}, {"etag", "d41d8cd98f00b204e9800998ecf8427e"},
                        {"sequencer", "00000000000000000001"}}},
            {"request-id", "N4N7GDK58NMKJ12R"},
            {"requester", "123456789012"},
            {"source-ip-address", "127.0.0.1"},
            {"reason", "PutObject"}}}};
}

TEST(EventPatternTutorial, PrefixAndSuffixAcceptedWithWarningNamingTheWildcardForm) {
  std::vector<std::string> warnings;
  auto p = EventPattern::Parse(kTutorialPattern, {}, &warnings);
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(R"({"wildcard":"training-data/*.jsonl"})"), std::string::npos) << warnings[0];
  EXPECT_TRUE(p->Matches(S3ObjectCreated("training-data/new_training_data.jsonl")));
  EXPECT_FALSE(p->Matches(S3ObjectCreated("training-data/notes.txt")));
  EXPECT_FALSE(p->Matches(S3ObjectCreated("other/new_training_data.jsonl")));
  EXPECT_TRUE(p->Matches(S3ObjectCreated("training-data/.jsonl")));
  json deleted = S3ObjectCreated("training-data/a.jsonl");
  deleted["detail-type"] = "Object Deleted";
  EXPECT_FALSE(p->Matches(deleted));
}

TEST(EventPatternTutorial, StrictAwsRefusesLikeAws) {
  auto p = EventPattern::Parse(kTutorialPattern, PatternOptions{.strict_aws = true});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().aws_code(), "InvalidEventPatternException");
  EXPECT_NE(p.status().message().find("Only one key allowed in match expression"), std::string::npos);
}

TEST(EventPatternTutorial, WarningEscapesStarsInTheValues) {
  std::vector<std::string> warnings;
  auto p = EventPattern::Parse(R"({"k": [{"prefix": "a*", "suffix": ".b"}]})", {}, &warnings);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(warnings.size(), 1u);
  // The JSON form of a\*\*.b: the escape backslash is itself escaped in JSON text.
  EXPECT_NE(warnings[0].find(R"({"wildcard":"a\\**.b"})"), std::string::npos) << warnings[0];
  // And that wildcard, given to AWS's operator, means the same thing.
  auto w = EventPattern::Parse(R"({"k": [{"wildcard": "a\\**.b"}]})");
  ASSERT_TRUE(w.ok()) << w.status().message();
  for (const char* k : {"a*x.b", "a*.b", "ax.b", "a.b"}) {
    const json e = {{"k", k}};
    EXPECT_EQ(p->Matches(e), w->Matches(e)) << k;
  }
}

TEST(EventPatternTutorial, AwsValidWildcardFormMatchesTheSame) {
  auto p = EventPattern::Parse(R"({"detail": {"object": {"key": [{"wildcard": "training-data/*.jsonl"}]}}})");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Matches(S3ObjectCreated("training-data/new_training_data.jsonl")));
  EXPECT_FALSE(p->Matches(S3ObjectCreated("training-data/x.json")));
}

double Seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Hostile inputs stay linear: a wildcard with many stars against a long string that nearly
// matches (a backtracking matcher takes exponential or quadratic time here), huge arrays, deep
// events. Generous wall-clock ceilings only catch super-linear blow-ups, not speed.
TEST(EventPatternHostile, ManyStarsAgainstLongStringIsLinear) {
  std::string wildcard;
  for (int i = 0; i < 500; ++i) wildcard += "*a";
  wildcard += "*b";  // never present: every segment search must fail fast, not backtrack
  auto p = EventPattern::Parse(R"({"k": [{"wildcard": ")" + wildcard + R"("}]})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const json e = {{"k", std::string(200000, 'a')}};
  bool matched = true;
  EXPECT_LT(Seconds([&] { matched = p->Matches(e); }), 0.5);
  EXPECT_FALSE(matched);
  const json e2 = {{"k", std::string(200000, 'a') + "b"}};
  EXPECT_TRUE(p->Matches(e2));
}

TEST(EventPatternHostile, RepetitiveSegmentsUseNoBacktracking) {
  auto p = EventPattern::Parse(R"({"k": [{"wildcard": "*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab*"}]})");
  ASSERT_TRUE(p.ok());
  const json e = {{"k", std::string(500000, 'a')}};
  EXPECT_LT(Seconds([&] { EXPECT_FALSE(p->Matches(e)); }), 0.5);
}

TEST(EventPatternHostile, HugeArraysAndDeepEvents) {
  auto p = EventPattern::Parse(R"({"detail": {"v": ["needle"], "w": {"x": [1]}}})");
  ASSERT_TRUE(p.ok());
  json arr = json::array();
  for (int i = 0; i < 200000; ++i) arr.push_back("hay");
  json e = {{"detail", {{"v", arr}, {"w", {{"x", 1}}}}}};
  EXPECT_LT(Seconds([&] { EXPECT_FALSE(p->Matches(e)); }), 1.0);
  e["detail"]["v"].push_back("needle");
  EXPECT_TRUE(p->Matches(e));
  // Arrays nested far deeper than any event needs: refused quietly, no stack exhaustion.
  json deep = json::array({"needle"});
  for (int i = 0; i < 10000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  json e2 = {{"detail", {{"v", std::move(deep)}, {"w", {{"x", 1}}}}}};
  EXPECT_FALSE(p->Matches(e2));
}

TEST(EventPattern, MovedPatternStillMatches) {
  auto p = EventPattern::Parse(R"({"source": ["a"]})");
  ASSERT_TRUE(p.ok());
  EventPattern moved = std::move(*p);
  EXPECT_TRUE(moved.Matches(json{{"source", "a"}}));
}

}  // namespace
}  // namespace lathe::events
