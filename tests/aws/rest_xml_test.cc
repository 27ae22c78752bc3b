// The rest-xml protocol base: routing by method, path template and query subresource; answers
// and errors in S3's XML; and through the gateway, S3's request id header and auth errors.
#include "aws/rest_xml.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <stdexcept>

#include "aws/gateway.h"
#include "aws/rest_path.h"
#include "aws/xml.h"

namespace lathe::aws {
namespace {

constexpr std::time_t kNow = 1764600000;  // 2025-12-01
const api::Credentials kKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

class StringBody : public http::BodyReader {
 public:
  explicit StringBody(std::string body) : body_(std::move(body)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, body_.size() - pos_);
    std::copy_n(body_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  int64_t declared_length() const override { return static_cast<int64_t>(body_.size()); }

 private:
  std::string body_;
  size_t pos_ = 0;
};

// Answers each operation with a document naming it and its labels.
RestXmlHandler Echo(std::string op) {
  return [op](const RestXmlInput& in) -> Result<RestXmlOutput> {
    pugi::xml_document doc;
    pugi::xml_node root = AppendS3Root(&doc, "Echo");
    AppendTextElement(root, "Operation", op);
    for (const auto& [k, v] : in.labels) AppendTextElement(root, k.c_str(), v);
    AppendTextElement(root, "Region", in.context->region);
    AppendTextElement(root, "Body", in.body);
    return XmlOutput(doc);
  };
}

class Buckets : public RestXmlService {
 public:
  Buckets() {
    AddSubresourceKeys({"acl", "tagging"});
    Add("GET", "/", "ListBuckets", Echo("ListBuckets"));
    Add("GET", "/{Bucket}", "ListObjects", Echo("ListObjects"));
    Add("GET", "/{Bucket}?location", "GetBucketLocation", Echo("GetBucketLocation"));
    Add("GET", "/{Bucket}?list-type=2", "ListObjectsV2", Echo("ListObjectsV2"));
    Add("PUT", "/{Bucket}", "CreateBucket", Echo("CreateBucket"));
    Add("GET", "/{Bucket}/{Key+}", "GetObject", Echo("GetObject"));
    Add("HEAD", "/{Bucket}", "HeadBucket", [](const RestXmlInput& in) -> Result<RestXmlOutput> {
      return Status::Aws("NoSuchBucket", 404, "The specified bucket does not exist");
    });
    Add("DELETE", "/{Bucket}", "DeleteBucket", [](const RestXmlInput& in) -> Result<RestXmlOutput> {
      if (in.labels.at("Bucket") == "boom") throw std::runtime_error("kaboom");
      return Status::Aws("BucketNotEmpty", 409, "The bucket you tried to delete is not empty");
    });
  }
  std::string_view signing_name() const override { return "s3"; }
  size_t BodyLimit(const http::Request&) const override { return 64; }

 protected:
  XmlErrorDetails ErrorDetails(const Status& error, const RestXmlInput& in) const override {
    auto b = in.labels.find("Bucket");
    if (b == in.labels.end()) return {};
    return {{"BucketName", b->second}, {"Resource", "/" + b->second}};
  }
};

struct Answer {
  http::Response res;
  pugi::xml_document doc;
  std::string Text(const char* path) const { return doc.document_element().first_element_by_path(path).text().get(); }
  std::string Root() const { return doc.document_element().name(); }
};

class RestXmlTest : public ::testing::Test {
 protected:
  RestXmlTest()
      : gateway_(GatewayOptions{}, [](const std::string& id) -> std::optional<AccessKey> {
          if (id != kKey.access_key_id) return std::nullopt;
          return AccessKey{kKey.secret_access_key, Caller{id, "123456789012", "arn:aws:iam::123456789012:root", "123456789012"}};
        }) {
    gateway_.Add(std::make_shared<Buckets>());
    gateway_.set_clock([] { return kNow; });
  }

  // Signed as botocore's S3SigV4Auth signs (x-amz-content-sha256 of the body), unless told not to.
  std::unique_ptr<Answer> Send(std::string method, std::string target, std::string body = "",
                               const api::Credentials& key = kKey, bool sign = true) {
    api::SignedRequest sr{method, target, {{"Host", "127.0.0.1:8080"}}, body};
    if (sign) api::SignSigV4(&sr, "ap-south-1", "s3", key, kNow);
    http::Request req;
    req.method = method;
    req.target = target;
    for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
    StringBody reader(body);
    req.body = &reader;
    auto a = std::make_unique<Answer>();
    gateway_.Handle(req, a->res);
    if (!a->res.body.empty()) {
      EXPECT_TRUE(a->doc.load_string(a->res.body.c_str())) << a->res.body;
    }
    return a;
  }

  Gateway gateway_;
};

TEST(PathTemplateTest, MatchesSegmentsLabelsAndGreedyRests) {
  std::map<std::string, std::string> labels;
  EXPECT_TRUE(PathTemplate("/").Match("/", &labels));
  EXPECT_FALSE(PathTemplate("/").Match("/b", &labels));
  EXPECT_TRUE(PathTemplate("/{Bucket}").Match("/my-bucket", &labels));
  EXPECT_EQ(labels.at("Bucket"), "my-bucket");
  EXPECT_FALSE(PathTemplate("/{Bucket}").Match("/", &labels));  // a label is never empty
  EXPECT_FALSE(PathTemplate("/{Bucket}").Match("/a/b", &labels));
  ASSERT_TRUE(PathTemplate("/{Bucket}/{Key+}").Match("/b/dir/sub%20dir/file%2B1.txt", &labels));
  EXPECT_EQ(labels.at("Key"), "dir/sub dir/file+1.txt");  // '+' stays '+' in a path
  ASSERT_TRUE(PathTemplate("/{Bucket}/{Key+}").Match("/b/dir/", &labels));
  EXPECT_EQ(labels.at("Key"), "dir/");
  EXPECT_FALSE(PathTemplate("/{Bucket}/{Key+}").Match("/b/", &labels));
  EXPECT_TRUE(PathTemplate("/model/{id}/invoke").Match("/model/a%3Ab/invoke", &labels));
  EXPECT_EQ(labels.at("id"), "a:b");
  EXPECT_FALSE(PathTemplate("/model/{id}/invoke").Match("/model/a/converse", &labels));
}

TEST_F(RestXmlTest, SubresourcesNameTheirOperation) {
  auto a = Send("GET", "/my-bucket?location");
  ASSERT_EQ(a->res.status, 200) << a->res.body;
  EXPECT_EQ(a->Text("Operation"), "GetBucketLocation");
  EXPECT_EQ(a->Text("Bucket"), "my-bucket");
  EXPECT_EQ(a->Text("Region"), "ap-south-1");  // the signature's region
  EXPECT_EQ(*a->res.header("Content-Type"), "application/xml");
  EXPECT_EQ(a->res.body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_STREQ(a->doc.document_element().attribute("xmlns").value(), kS3XmlNamespace);

  EXPECT_EQ(Send("GET", "/my-bucket?list-type=2&prefix=a")->Text("Operation"), "ListObjectsV2");
  EXPECT_EQ(Send("GET", "/my-bucket?list-type=1")->res.status, 501);  // the route's key, another value
  EXPECT_EQ(Send("GET", "/my-bucket?prefix=a")->Text("Operation"), "ListObjects");
  EXPECT_EQ(Send("GET", "/my-bucket")->Text("Operation"), "ListObjects");
  EXPECT_EQ(Send("GET", "/?max-buckets=5&bucket-region=ap-south-1")->Text("Operation"), "ListBuckets");
  a = Send("GET", "/my-bucket/a/b%20c");
  EXPECT_EQ(a->Text("Operation"), "GetObject");
  EXPECT_EQ(a->Text("Key"), "a/b c");
  // "/bucket/" is the bucket, as S3 treats it.
  a = Send("PUT", "/my-bucket/", "<x/>");
  EXPECT_EQ(a->Text("Operation"), "CreateBucket");
  EXPECT_EQ(a->Text("Body"), "<x/>");
}

TEST_F(RestXmlTest, ErrorsAreS3sErrorDocumentWithTheRequestIdHeader) {
  auto a = Send("DELETE", "/full-bucket");
  EXPECT_EQ(a->res.status, 409);
  EXPECT_EQ(a->Root(), "Error");
  EXPECT_EQ(a->Text("Code"), "BucketNotEmpty");
  EXPECT_EQ(a->Text("Message"), "The bucket you tried to delete is not empty");
  EXPECT_EQ(a->Text("BucketName"), "full-bucket");
  EXPECT_EQ(a->Text("Resource"), "/full-bucket");
  const std::string* id = a->res.header("x-amz-request-id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(a->Text("RequestId"), *id);
  EXPECT_EQ(a->res.header("x-amzn-RequestId"), nullptr);
  // Code, Message, the details, then RequestId: S3's order.
  std::vector<std::string> order;
  for (pugi::xml_node n : a->doc.document_element().children()) order.push_back(n.name());
  EXPECT_EQ(order, (std::vector<std::string>{"Code", "Message", "BucketName", "Resource", "RequestId"}));

  // A handler's bug is S3's InternalError, not a crash.
  a = Send("DELETE", "/boom");
  EXPECT_EQ(a->res.status, 500);
  EXPECT_EQ(a->Text("Code"), "InternalError");
}

TEST_F(RestXmlTest, HeadErrorsAreTheStatusAlone) {
  auto a = Send("HEAD", "/missing");
  EXPECT_EQ(a->res.status, 404);
  EXPECT_TRUE(a->res.body.empty());
  EXPECT_NE(a->res.header("x-amz-request-id"), nullptr);
}

TEST_F(RestXmlTest, UnroutedRequestsAreNotImplementedOrMethodNotAllowed) {
  // A subresource this service lacks is never answered by the plain operation of that path.
  auto a = Send("GET", "/my-bucket/a/b?acl");
  EXPECT_EQ(a->res.status, 501);
  EXPECT_EQ(a->Text("Code"), "NotImplemented");
  EXPECT_NE(a->Text("Message").find("GET /my-bucket/a/b?acl"), std::string::npos);
  EXPECT_EQ(Send("GET", "/my-bucket?tagging")->res.status, 501);
  // Ordinary parameters are not subresources; a route's own key is one.
  EXPECT_EQ(Send("GET", "/my-bucket/a/b?versionId=3")->Text("Operation"), "GetObject");
  EXPECT_EQ(Send("GET", "/my-bucket/a/b?location")->res.status, 501);
  a = Send("POST", "/my-bucket");
  EXPECT_EQ(a->res.status, 405);
  EXPECT_EQ(a->Text("Code"), "MethodNotAllowed");
  a = Send("DELETE", "/my-bucket/key");
  EXPECT_EQ(a->res.status, 405);
  a = Send("PUT", "/my-bucket/some/key");
  EXPECT_EQ(a->res.status, 405);
  a = Send("PUT", "/");
  EXPECT_EQ(a->res.status, 405);
}

TEST_F(RestXmlTest, AuthFailuresAreS3s) {
  auto a = Send("PUT", "/my-bucket", "", kKey, /*sign=*/false);
  EXPECT_EQ(a->res.status, 403);
  EXPECT_EQ(a->Text("Code"), "AccessDenied");
  EXPECT_NE(a->res.header("x-amz-request-id"), nullptr);

  a = Send("PUT", "/my-bucket", "", api::Credentials{kKey.access_key_id, "forged-secret"});
  EXPECT_EQ(a->res.status, 403);
  EXPECT_EQ(a->Text("Code"), "SignatureDoesNotMatch");

  a = Send("PUT", "/my-bucket", "", api::Credentials{"AKIDUNKNOWN", "x"});
  EXPECT_EQ(a->res.status, 403);
  EXPECT_EQ(a->Text("Code"), "InvalidAccessKeyId");

  // A body over the service's bound.
  a = Send("PUT", "/my-bucket", std::string(65, 'x'));
  EXPECT_EQ(a->res.status, 413);
  EXPECT_EQ(a->Text("Code"), "EntityTooLarge");
}

}  // namespace
}  // namespace lathe::aws
