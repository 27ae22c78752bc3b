// S3's bucket operations through the rest-xml wire: botocore's request shapes in, S3's XML (and
// headers) out, errors as <Error> documents read back here.
#include "services/s3/service.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "services/s3/shapes.h"
#include "services/s3/storage.h"
#include "test_util.h"

namespace lathe::s3 {
namespace {

using lathe::testing::TempDir;

constexpr char kNs[] = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr char kSouthConfig[] =
    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>ap-south-1"
    "</LocationConstraint></CreateBucketConfiguration>";

struct Answer {
  int status = 0;
  std::string body;
  http::Response response;
  pugi::xml_document doc;
  pugi::xml_node root() const { return doc.document_element(); }
  std::string Text(const char* path) const { return root().first_element_by_path(path).text().get(); }
  const std::string* Header(const char* name) const { return response.header(name); }
};

class S3ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto s3 = OpenS3Storage(store_.get(), Env::Default(), dir_.path() + "/s3");
    ASSERT_TRUE(s3.ok()) << s3.status().message();
    s3_ = std::move(*s3);
    backend_ = s3_->buckets.get();
    service_ = std::make_unique<S3Service>(s3_->buckets.get(), s3_->objects.get(), s3_->multipart.get());
  }

  std::unique_ptr<Answer> Call(const std::string& method, const std::string& target, const std::string& body = "",
                               const std::string& region = "us-east-1", std::vector<http::Header> headers = {}) {
    aws::RequestContext ctx;
    ctx.request_id = "11111111-2222-3333-4444-555555555555";
    ctx.region = region;
    ctx.service = "s3";
    ctx.caller.account = "123456789012";
    http::Request req;
    req.method = method;
    req.target = target;
    req.headers = std::move(headers);
    auto a = std::make_unique<Answer>();
    service_->Serve(ctx, req, body, a->response);
    a->status = a->response.status;
    a->body = a->response.body;
    if (!a->body.empty()) {
      EXPECT_TRUE(a->doc.load_string(a->body.c_str())) << a->body;
    }
    return a;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<S3Storage> s3_;
  S3Backend* backend_ = nullptr;
  std::unique_ptr<S3Service> service_;
};

TEST_F(S3ServiceTest, TheTutorialsBucketFromBotocoresRequests) {
  // aws s3 mb s3://bedrock-finetuning-your-unique-name --region ap-south-1
  auto a = Call("PUT", "/bedrock-finetuning-your-unique-name", kSouthConfig, "ap-south-1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_TRUE(a->body.empty());
  ASSERT_NE(a->Header("Location"), nullptr);
  EXPECT_EQ(*a->Header("Location"), "/bedrock-finetuning-your-unique-name");

  a = Call("HEAD", "/bedrock-finetuning-your-unique-name", "", "ap-south-1");
  EXPECT_EQ(a->status, 200);
  ASSERT_NE(a->Header("x-amz-bucket-region"), nullptr);
  EXPECT_EQ(*a->Header("x-amz-bucket-region"), "ap-south-1");

  a = Call("GET", "/bedrock-finetuning-your-unique-name?location", "", "ap-south-1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(std::string(a->root().name()), "LocationConstraint");
  EXPECT_EQ(std::string(a->root().attribute("xmlns").value()), kNs);
  EXPECT_EQ(std::string(a->root().text().get()), "ap-south-1");
  EXPECT_EQ(*a->response.header("Content-Type"), "application/xml");

  // The list botocore's list_buckets() reads.
  ASSERT_EQ(Call("PUT", "/another-bucket")->status, 200);
  a = Call("GET", "/");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(std::string(a->root().name()), "ListAllMyBucketsResult");
  EXPECT_EQ(std::string(a->root().attribute("xmlns").value()), kNs);
  EXPECT_EQ(a->Text("Owner/ID"), OwnerOf("123456789012").id);
  EXPECT_EQ(a->Text("Owner/ID").size(), 64u);
  EXPECT_EQ(a->Text("Owner/DisplayName"), "123456789012");
  std::vector<std::string> names;
  for (pugi::xml_node b : a->root().child("Buckets").children("Bucket")) {
    names.push_back(b.child("Name").text().get());
    EXPECT_EQ(std::string(b.child("CreationDate").text().get()).size(), 24u) << "2026-01-01T00:00:00.000Z";
    EXPECT_FALSE(b.child("BucketRegion")) << "AWS adds it only when a parameter is sent";
  }
  EXPECT_EQ(names, (std::vector<std::string>{"another-bucket", "bedrock-finetuning-your-unique-name"}));

  // A us-east-1 bucket's location is the empty element.
  a = Call("GET", "/another-bucket?location");
  EXPECT_EQ(std::string(a->root().text().get()), "");

  // aws s3 rb
  a = Call("DELETE", "/bedrock-finetuning-your-unique-name", "", "ap-south-1");
  EXPECT_EQ(a->status, 204);
  EXPECT_TRUE(a->body.empty());
  EXPECT_EQ(Call("HEAD", "/bedrock-finetuning-your-unique-name")->status, 404);
}

TEST_F(S3ServiceTest, ListBucketsAcceptsItsQueryParameters) {
  for (const char* n : {"one-bucket", "two-bucket", "three-bucket"}) ASSERT_EQ(Call("PUT", std::string("/") + n)->status, 200);
  auto a = Call("GET", "/?max-buckets=2&prefix=t&bucket-region=us-east-1");
  ASSERT_EQ(a->status, 200) << a->body;
  EXPECT_EQ(a->Text("Prefix"), "t");
  EXPECT_EQ(a->Text("Buckets/Bucket/Name"), "three-bucket");
  EXPECT_EQ(a->Text("Buckets/Bucket/BucketRegion"), "us-east-1");
  EXPECT_EQ(a->Text("ContinuationToken"), "");  // two of two: no next page

  a = Call("GET", "/?max-buckets=1");
  ASSERT_EQ(a->status, 200);
  const std::string token = a->Text("ContinuationToken");
  ASSERT_FALSE(token.empty());
  a = Call("GET", "/?max-buckets=5&continuation-token=" + token);
  EXPECT_EQ(a->Text("Buckets/Bucket/Name"), "three-bucket");
  // Tokens are opaque: a bucket name, or a token of another list, is not one.
  for (const std::string& forged : {std::string("one-bucket"), token.substr(0, token.size() - 1), std::string("-1")}) {
    a = Call("GET", "/?continuation-token=" + forged);
    EXPECT_EQ(a->status, 400) << forged;
    EXPECT_EQ(a->Text("Code"), "InvalidArgument") << forged;
  }

  for (const char* bad : {"0", "10001", "x", "-1", "99999999999999999999"}) {
    a = Call("GET", std::string("/?max-buckets=") + bad);
    EXPECT_EQ(a->status, 400) << bad;
    EXPECT_EQ(a->Text("Code"), "InvalidArgument") << bad;
  }
}

TEST_F(S3ServiceTest, ErrorsAreS3sErrorDocument) {
  auto a = Call("GET", "/missing-bucket?location");
  ASSERT_EQ(a->status, 404);
  EXPECT_EQ(std::string(a->root().name()), "Error");
  EXPECT_EQ(a->Text("Code"), "NoSuchBucket");
  EXPECT_EQ(a->Text("Message"), "The specified bucket does not exist");
  EXPECT_EQ(a->Text("BucketName"), "missing-bucket");
  EXPECT_EQ(a->Text("RequestId"), "11111111-2222-3333-4444-555555555555");

  ASSERT_EQ(Call("PUT", "/owned-twice", kSouthConfig, "ap-south-1")->status, 200);
  a = Call("PUT", "/owned-twice", kSouthConfig, "ap-south-1");
  EXPECT_EQ(a->status, 409);
  EXPECT_EQ(a->Text("Code"), "BucketAlreadyOwnedByYou");
  EXPECT_EQ(a->Text("BucketName"), "owned-twice");

  a = Call("PUT", "/Not_Valid");
  EXPECT_EQ(a->status, 400);
  EXPECT_EQ(a->Text("Code"), "InvalidBucketName");
  EXPECT_EQ(a->Text("BucketName"), "Not_Valid");

  // Location errors carry no bucket name.
  a = Call("PUT", "/needs-constraint", "", "ap-south-1");
  EXPECT_EQ(a->status, 400);
  EXPECT_EQ(a->Text("Code"), "IllegalLocationConstraintException");
  EXPECT_FALSE(a->root().child("BucketName"));
}

TEST_F(S3ServiceTest, HeadErrorsHaveNoBody) {
  auto a = Call("HEAD", "/never-made");
  EXPECT_EQ(a->status, 404);
  EXPECT_TRUE(a->body.empty());
  EXPECT_EQ(a->response.header("Content-Type"), nullptr);
  a = Call("HEAD", "/Bad_Name");
  EXPECT_EQ(a->status, 400);
  EXPECT_TRUE(a->body.empty());
}

TEST_F(S3ServiceTest, CreateBucketConfigurationIsParsedWithinBounds) {
  // Malformed: unclosed, wrong root, unknown member, two constraints, a DOCTYPE, too deep.
  const std::string bad[] = {
      "<CreateBucketConfiguration><LocationConstraint>ap-south-1</LocationConstraint>",
      "<Nope><LocationConstraint>ap-south-1</LocationConstraint></Nope>",
      "<CreateBucketConfiguration><Color>blue</Color></CreateBucketConfiguration>",
      "<CreateBucketConfiguration><LocationConstraint>ap-south-1</LocationConstraint>"
      "<LocationConstraint>ap-south-1</LocationConstraint></CreateBucketConfiguration>",
      "<!DOCTYPE x [<!ENTITY a \"b\">]><CreateBucketConfiguration/>",
      "<CreateBucketConfiguration>" + std::string(20, '<') + "</CreateBucketConfiguration>",
      "<CreateBucketConfiguration><a><b><c><d><e><f><g><h>x</h></g></f></e></d></c></b></a>"
      "</CreateBucketConfiguration>",
      "   ",
  };
  for (const std::string& body : bad) {
    auto a = Call("PUT", "/malformed-body", body, "ap-south-1");
    EXPECT_EQ(a->status, 400) << body;
    EXPECT_EQ(a->Text("Code"), "MalformedXML") << body << " -> " << a->body;
  }
  // Directory-bucket and tag members: honest about not doing them.
  auto a = Call("PUT", "/with-tags", "<CreateBucketConfiguration><Tags/></CreateBucketConfiguration>");
  EXPECT_EQ(a->status, 501);
  EXPECT_EQ(a->Text("Code"), "NotImplemented");
  // Longer than the bound: refused before parsing.
  a = Call("PUT", "/too-long", "<CreateBucketConfiguration>" + std::string(kMaxRequestXmlBytes, ' ') +
                                   "</CreateBucketConfiguration>");
  EXPECT_EQ(a->status, 400);
  EXPECT_EQ(a->Text("Code"), "MaxMessageLengthExceeded");
  // An empty constraint element is no constraint; whitespace around a region is not part of it.
  EXPECT_EQ(Call("PUT", "/empty-constraint", "<CreateBucketConfiguration><LocationConstraint/>"
                                              "</CreateBucketConfiguration>")->status, 200);
  EXPECT_EQ(Call("PUT", "/spaced-constraint", "<CreateBucketConfiguration><LocationConstraint>\n ap-south-1 \n"
                                               "</LocationConstraint></CreateBucketConfiguration>", "ap-south-1")
                ->status, 200);
  // Nothing malformed was created.
  EXPECT_EQ(Call("HEAD", "/malformed-body")->status, 404);
}

TEST_F(S3ServiceTest, TheExpectedOwnerHeaderIsChecked) {
  ASSERT_EQ(Call("PUT", "/owner-checked")->status, 200);
  EXPECT_EQ(Call("HEAD", "/owner-checked", "", "us-east-1", {{"x-amz-expected-bucket-owner", "123456789012"}})->status,
            200);
  EXPECT_EQ(Call("HEAD", "/owner-checked", "", "us-east-1", {{"x-amz-expected-bucket-owner", "999999999999"}})->status,
            403);
  auto a = Call("DELETE", "/owner-checked", "", "us-east-1", {{"x-amz-expected-bucket-owner", "999999999999"}});
  EXPECT_EQ(a->Text("Code"), "AccessDenied");
  EXPECT_EQ(Call("HEAD", "/owner-checked")->status, 200);
}

TEST_F(S3ServiceTest, OperationsNotYetImplementedSaySo) {
  ASSERT_EQ(Call("PUT", "/has-objects-later")->status, 200);
  auto a = Call("GET", "/has-objects-later?acl");
  EXPECT_EQ(a->status, 501);
  EXPECT_EQ(a->Text("Code"), "NotImplemented");
  EXPECT_NE(a->Text("Message").find("GET /has-objects-later?acl"), std::string::npos);
  a = Call("GET", "/has-objects-later/some/key.txt?acl");
  EXPECT_EQ(a->status, 501);
  a = Call("PATCH", "/has-objects-later");
  EXPECT_EQ(a->status, 405);
  EXPECT_EQ(a->Text("Code"), "MethodNotAllowed");
}

TEST_F(S3ServiceTest, BodiesAreBoundedExceptUploads) {
  for (const std::string target : {"/bound-bucket", "/bound-bucket?versioning", "/bound-bucket/key?tagging"}) {
    http::Request req;
    req.method = "PUT";
    req.target = target;
    EXPECT_EQ(service_->BodyLimit(req), 64u << 10) << target;
  }
  http::Request upload;
  upload.method = "PUT";
  upload.target = "/bound-bucket/key";
  EXPECT_EQ(service_->BodyLimit(upload), 0u);  // streamed through S3UploadBody
  http::Request delete_objects;
  delete_objects.method = "POST";
  delete_objects.target = "/bound-bucket?delete";
  EXPECT_EQ(service_->BodyLimit(delete_objects), 2u << 20);  // 1000 keys of 1024 bytes
}

// A bucket of the config's externalBuckets is answered 301 PermanentRedirect, as S3 answers for a
// bucket another endpoint serves: never served from, nor created in, the local store.
TEST_F(S3ServiceTest, ExternalBucketsArePermanentRedirectsNotLocalBuckets) {
  service_ = std::make_unique<S3Service>(s3_->buckets.get(), s3_->objects.get(), s3_->multipart.get(),
                                         std::map<std::string, ExternalBucketLocation>{
                                             {"team-data", {"http://minio.internal:9000", "eu-west-3"}}});
  auto a = Call("GET", "/team-data/train.jsonl");
  EXPECT_EQ(a->status, 301);
  EXPECT_EQ(a->Text("Code"), "PermanentRedirect");
  EXPECT_EQ(a->Text("Key"), "train.jsonl");
  EXPECT_EQ(a->Text("Bucket"), "team-data");
  EXPECT_EQ(a->Text("Endpoint"), "http://minio.internal:9000");
  ASSERT_NE(a->Header("x-amz-bucket-region"), nullptr);
  EXPECT_EQ(*a->Header("x-amz-bucket-region"), "eu-west-3");
  // Nothing made locally, and HEAD answers without a body.
  EXPECT_EQ(Call("PUT", "/team-data")->status, 301);
  EXPECT_FALSE(backend_->GetBucket("123456789012", "team-data").ok());
  a = Call("HEAD", "/team-data");
  EXPECT_EQ(a->status, 301);
  EXPECT_TRUE(a->body.empty());
  // Other buckets and ListBuckets are served as before.
  EXPECT_EQ(Call("PUT", "/local-data")->status, 200);
  EXPECT_EQ(Call("GET", "/")->status, 200);
}

}  // namespace
}  // namespace lathe::s3
