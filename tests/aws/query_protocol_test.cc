#include "aws/query_protocol.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "test_util.h"

namespace lathe::aws {
namespace {

QueryParams MustParse(std::string_view form, std::string_view query = {}) {
  Result<QueryParams> p = QueryParams::Parse(form, query);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : QueryParams();
}

void ExpectMalformed(const Result<QueryParams>& p, std::string_view needle) {
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().aws_code(), "MalformedQueryString");
  EXPECT_EQ(p.status().http_status(), 400);
  EXPECT_NE(p.status().message().find(needle), std::string::npos) << p.status().message();
}

TEST(QueryParams, DecodesPlusPercentAndExtractsActionAndVersion) {
  QueryParams p = MustParse("Action=GetRole&Version=2010-05-08&RoleName=a+b%2Bc%26d%3D&Empty=&Bare");
  EXPECT_EQ(p.action(), "GetRole");
  EXPECT_EQ(p.version(), "2010-05-08");
  ASSERT_NE(p.Get("RoleName"), nullptr);
  EXPECT_EQ(*p.Get("RoleName"), "a b+c&d=");
  EXPECT_EQ(*p.Get("Empty"), "");
  EXPECT_EQ(*p.Get("Bare"), "");
  EXPECT_EQ(p.Get("Missing"), nullptr);
  EXPECT_EQ(p.all().size(), 5u);
}

TEST(QueryParams, MergesTheQueryStringWithTheBody) {
  QueryParams p = MustParse("RoleName=r", "Action=GetRole&Version=2010-05-08");
  EXPECT_EQ(p.action(), "GetRole");
  EXPECT_EQ(*p.Get("RoleName"), "r");
}

TEST(QueryParams, RefusesMalformedEscapes) {
  ExpectMalformed(QueryParams::Parse("RoleName=%"), "percent-encoding");
  ExpectMalformed(QueryParams::Parse("RoleName=%4"), "percent-encoding");
  ExpectMalformed(QueryParams::Parse("RoleName=%zz"), "percent-encoding");
  ExpectMalformed(QueryParams::Parse("Role%g1Name=x"), "percent-encoding");
  // A valid escape of a NUL byte decodes: what it means is the service's business.
  QueryParams p = MustParse("RoleName=a%00b");
  EXPECT_EQ(*p.Get("RoleName"), std::string("a\0b", 3));
}

TEST(QueryParams, RefusesDuplicateNamesEvenAcrossQueryStringAndBody) {
  ExpectMalformed(QueryParams::Parse("A=1&A=2"), "more than once");
  ExpectMalformed(QueryParams::Parse("Action=GetRole", "Action=DeleteRole"), "more than once");
  // The same name spelled with an escape is the same name.
  ExpectMalformed(QueryParams::Parse("RoleName=1&Role%4Eame=2"), "more than once");
}

TEST(QueryParams, BoundsParameterCountAndNameLength) {
  std::string form;
  for (int i = 0; i < 1000; ++i) form += "P" + std::to_string(i) + "=v&";
  EXPECT_TRUE(QueryParams::Parse(form).ok());
  ExpectMalformed(QueryParams::Parse(form + "One=more"), "more than 1000 parameters");
  EXPECT_TRUE(QueryParams::Parse(std::string(256, 'k') + "=v").ok());
  ExpectMalformed(QueryParams::Parse(std::string(257, 'k') + "=v"), "longer than 256 bytes");
  // A long name made of escapes is refused before decoding and after.
  std::string escaped;
  for (int i = 0; i < 300; ++i) escaped += "%41";
  ExpectMalformed(QueryParams::Parse(escaped + "=v"), "longer than 256 bytes");
  ExpectMalformed(QueryParams::Parse(escaped.substr(0, 300) + std::string(200, 'k') + "=v"), "longer than 256 bytes");
  ExpectMalformed(QueryParams::Parse(std::string(1 << 20, 'k') + "=v"), "longer than 256 bytes");
  ExpectMalformed(QueryParams::Parse("=v"), "empty name");
}

TEST(QueryParams, ReadsListsOfScalarsAndStructures) {
  QueryParams p = MustParse(
      "PolicyNames.member.1=a&PolicyNames.member.2=b&PolicyNames.member.10=j&PolicyNames.member.3=c"
      "&PolicyNames.member.4=d&PolicyNames.member.5=e&PolicyNames.member.6=f&PolicyNames.member.7=g"
      "&PolicyNames.member.8=h&PolicyNames.member.9=i"
      "&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2&Tags.member.2.Value=v2&Empty=");
  Result<std::vector<std::string>> names = p.List("PolicyNames");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}));
  Result<size_t> tags = p.ListLength("Tags");
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, 2u);
  EXPECT_EQ(*p.Get("Tags.member.2.Value"), "v2");
  // botocore sends an empty list as `Name=`; an absent list is empty too.
  EXPECT_EQ(*p.ListLength("Empty"), 0u);
  EXPECT_EQ(*p.ListLength("Absent"), 0u);
}

TEST(QueryParams, RefusesListsWithGapsOrBadIndexes) {
  Result<size_t> gap = MustParse("L.member.1=a&L.member.3=c").ListLength("L");
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().aws_code(), "ValidationError");
  EXPECT_FALSE(MustParse("L.member.0=a").ListLength("L").ok());
  EXPECT_FALSE(MustParse("L.member.01=a").ListLength("L").ok());
  EXPECT_FALSE(MustParse("L.member.x=a").ListLength("L").ok());
  EXPECT_FALSE(MustParse("L.member.99999=a").ListLength("L").ok());
  // A list of scalars whose element is a structure is refused, not half read.
  EXPECT_FALSE(MustParse("L.member.1.Key=a").List("L").ok());
}

TEST(QueryParams, ReadsMapsAsBotocoreWritesThem) {
  QueryParams p = MustParse("Attributes.entry.1.key=Policy&Attributes.entry.1.value=%7B%7D"
                            "&Attributes.entry.2.key=DisplayName&Attributes.entry.2.value=n+1");
  Result<std::map<std::string, std::string>> m = p.Map("Attributes");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, (std::map<std::string, std::string>{{"Policy", "{}"}, {"DisplayName", "n 1"}}));
  EXPECT_FALSE(MustParse("M.entry.1.key=a").Map("M").ok());
  EXPECT_FALSE(MustParse("M.entry.1.key=a&M.entry.1.value=1&M.entry.2.key=a&M.entry.2.value=2").Map("M").ok());
}

TEST(QueryParams, ReadsBooleansAndBoundedIntegers) {
  QueryParams p = MustParse("T=true&F=False&X=yes&N=7200&Big=99999999999999999999999&Neg=-5");
  EXPECT_EQ(**p.Bool("T"), true);
  EXPECT_EQ(**p.Bool("F"), false);
  EXPECT_FALSE(p.Bool("Absent")->has_value());
  EXPECT_EQ(p.Bool("X").status().aws_code(), "ValidationError");
  EXPECT_EQ(**p.Int("N", 3600, 43200), 7200);
  EXPECT_FALSE(p.Int("N", 1, 1000).ok());
  EXPECT_FALSE(p.Int("Big", 0, 10).ok());
  EXPECT_FALSE(p.Int("Neg", 0, 10).ok());
  Result<std::string> missing = p.Required("RoleName");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().aws_code(), "ValidationError");
  EXPECT_NE(missing.status().message().find("Value null at 'roleName'"), std::string::npos);
}

TEST(QueryParams, ParsesTheBodiesBotocoreSerialises) {
  const std::string dir = std::string(LATHE_SOURCE_DIR) + "/tests/aws/data/";
  QueryParams create = MustParse(testing::ReadFile(dir + "iam_create_role.txt"));
  EXPECT_EQ(create.action(), "CreateRole");
  EXPECT_EQ(create.version(), "2010-05-08");
  EXPECT_EQ(*create.Get("RoleName"), "BedrockFineTuningRole");
  EXPECT_EQ(*create.Get("Path"), "/service/");
  EXPECT_EQ(*create.Get("Description"), "Bedrock fine-tuning + S3 & more");
  EXPECT_EQ(**create.Int("MaxSessionDuration", 3600, 43200), 7200);
  const std::string& trust = *create.Get("AssumeRolePolicyDocument");
  EXPECT_EQ(trust.substr(0, 6), "{\n    ");  // json.dumps(indent=4): newlines and spaces survive
  EXPECT_NE(trust.find("\"Service\": \"bedrock.amazonaws.com\""), std::string::npos);
  EXPECT_EQ(*create.ListLength("Tags"), 2u);
  EXPECT_EQ(*create.Get("Tags.member.1.Value"), "ml ops");
  EXPECT_EQ(*create.Get("Tags.member.2.Key"), "cost:center");

  QueryParams put = MustParse(testing::ReadFile(dir + "iam_put_role_policy.txt"));
  EXPECT_EQ(put.action(), "PutRolePolicy");
  EXPECT_NE(put.Get("PolicyDocument")->find("\"arn:aws:s3:::bedrock-finetuning-bucket/*\""), std::string::npos);

  QueryParams list = MustParse(testing::ReadFile(dir + "iam_list_roles.txt"));
  EXPECT_EQ(*list.Get("Marker"), "bedrockfinetuningrole");
  EXPECT_EQ(**list.Int("MaxItems", 1, 1000), 2);

  QueryParams sts = MustParse(testing::ReadFile(dir + "sts_get_caller_identity.txt"));
  EXPECT_EQ(sts.action(), "GetCallerIdentity");
  EXPECT_EQ(sts.version(), "2011-06-15");
  EXPECT_EQ(sts.all().size(), 2u);
}

// The error document, parsed back: the shape botocore's QueryParser reads.
struct ParsedError {
  int status = 0;
  std::string root, xmlns, type, code, message, request_id, content_type;
};

ParsedError Parse(const http::Response& r) {
  ParsedError e;
  e.status = r.status;
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(r.body.c_str())) << r.body;
  pugi::xml_node root = doc.document_element();
  e.root = root.name();
  e.xmlns = root.attribute("xmlns").value();
  e.type = root.child("Error").child_value("Type");
  e.code = root.child("Error").child_value("Code");
  e.message = root.child("Error").child_value("Message");
  e.request_id = root.child_value("RequestId");
  for (const http::Header& h : r.headers)
    if (h.name == "Content-Type") e.content_type = h.value;
  return e;
}

TEST(WriteQueryError, WritesErrorResponseWithTypeCodeMessageAndRequestId) {
  RequestContext ctx;
  ctx.request_id = "req-1";
  ctx.service = "iam";
  http::Response r;
  WriteError(Protocol::kQuery, Status::Aws("NoSuchEntity", 404, "The role with name x <&> cannot be found."), ctx, &r);
  ParsedError e = Parse(r);
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.root, "ErrorResponse");
  EXPECT_EQ(e.xmlns, "https://iam.amazonaws.com/doc/2010-05-08/");
  EXPECT_EQ(e.type, "Sender");
  EXPECT_EQ(e.code, "NoSuchEntity");
  EXPECT_EQ(e.message, "The role with name x <&> cannot be found.");
  EXPECT_EQ(e.request_id, "req-1");
  EXPECT_EQ(e.content_type, "text/xml");
  EXPECT_EQ(r.body.find("<?xml"), std::string::npos);
}

TEST(WriteQueryError, ServerFaultsAreReceiverAndGenericStatusesGetTheUsualNames) {
  RequestContext ctx;
  ctx.request_id = "req-2";
  ctx.service = "sts";
  http::Response r;
  WriteQueryError(Status::Internal("disk gone"), ctx, "ns", &r);
  ParsedError e = Parse(r);
  EXPECT_EQ(e.status, 500);
  EXPECT_EQ(e.type, "Receiver");
  EXPECT_EQ(e.code, "InternalFailure");
  http::Response bad;
  WriteQueryError(Status::InvalidArgument("nope"), ctx, "ns", &bad);
  EXPECT_EQ(Parse(bad).status, 400);
  EXPECT_EQ(Parse(bad).code, "ValidationError");
  EXPECT_EQ(Parse(bad).type, "Sender");
}

TEST(WriteQueryError, MessagesWithControlBytesOrInvalidUtf8StayWellFormedXml) {
  RequestContext ctx;
  http::Response r;
  WriteQueryError(Status::Aws("ValidationError", 400, std::string("bad \x01\x1f name \xff\xfe", 14)), ctx, "ns", &r);
  EXPECT_EQ(r.body.find("&#"), std::string::npos) << r.body;  // XML 1.0 forbids &#1;
  ParsedError e = Parse(r);
  EXPECT_EQ(e.message, "bad \xEF\xBF\xBD\xEF\xBF\xBD name \xEF\xBF\xBD\xEF\xBF\xBD");
}

// A two-operation service to test the envelope.
class EchoService : public QueryService {
 public:
  EchoService() : QueryService("iam", "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/") {
    Register("Echo", [](const RequestContext&, const QueryParams& p, pugi::xml_node result) {
      Result<std::string> v = p.Required("Value");
      if (!v.ok()) return v.status();
      result.append_child("Value").text().set(v->c_str());
      return Status::Ok();
    });
    Register("Forget", [](const RequestContext&, const QueryParams&, pugi::xml_node) { return Status::Ok(); }, false);
  }
};

TEST(QueryService, WrapsResultsInTheActionsResponseWithResponseMetadata) {
  EchoService service;
  RequestContext ctx;
  ctx.request_id = "rid";
  http::Response r;
  service.ServeForm(ctx, "", "Action=Echo&Version=2010-05-08&Value=a%3Cb", &r);
  ASSERT_EQ(r.status, 200) << r.body;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.body.c_str()));
  pugi::xml_node root = doc.document_element();
  EXPECT_STREQ(root.name(), "EchoResponse");
  EXPECT_STREQ(root.attribute("xmlns").value(), "https://iam.amazonaws.com/doc/2010-05-08/");
  EXPECT_STREQ(root.child("EchoResult").child_value("Value"), "a<b");
  EXPECT_STREQ(root.child("ResponseMetadata").child_value("RequestId"), "rid");

  http::Response none;
  service.ServeForm(ctx, "", "Action=Forget&Version=2010-05-08", &none);
  ASSERT_EQ(none.status, 200);
  ASSERT_TRUE(doc.load_string(none.body.c_str()));
  EXPECT_FALSE(doc.document_element().child("ForgetResult"));
  EXPECT_TRUE(doc.document_element().child("ResponseMetadata"));
}

TEST(QueryService, AnswersUnknownMissingOrWrongVersionActionsAsAws) {
  EchoService service;
  RequestContext ctx;
  http::Response unknown, missing, version, param, malformed;
  service.ServeForm(ctx, "", "Action=Nope&Version=2010-05-08", &unknown);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(Parse(unknown).code, "InvalidAction");
  EXPECT_EQ(Parse(unknown).message, "Could not find operation Nope for version 2010-05-08");
  service.ServeForm(ctx, "", "Version=2010-05-08", &missing);
  EXPECT_EQ(Parse(missing).code, "MissingAction");
  service.ServeForm(ctx, "", "Action=Echo&Version=2011-06-15&Value=x", &version);
  EXPECT_EQ(Parse(version).code, "InvalidAction");
  service.ServeForm(ctx, "", "Action=Echo&Version=2010-05-08", &param);
  EXPECT_EQ(Parse(param).code, "ValidationError");
  service.ServeForm(ctx, "", "Action=Echo&Value=%G0", &malformed);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Parse(malformed).code, "MalformedQueryString");
}

TEST(QueryService, ServeTakesTheQueryStringFromTheRequestTarget) {
  EchoService service;
  RequestContext ctx;
  http::Request request;
  request.method = "POST";
  request.target = "/?Action=Echo&Version=2010-05-08";
  http::Response r;
  service.Serve(ctx, request, "Value=v", r);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("<Value>v</Value>"), std::string::npos);
}

}  // namespace
}  // namespace lathe::aws
