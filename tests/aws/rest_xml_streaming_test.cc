// The rest-xml plumbing object operations stand on, through the gateway: uploads that stream
// their bodies (BodyLimit 0, checked by S3UploadBody), downloads that stream their answers,
// HEAD answers with the object's Content-Length, and virtual-hosted-style addressing.
#include <gtest/gtest.h>

#include <map>

#include "aws/gateway.h"
#include "aws/rest_xml.h"
#include "aws/s3_upload_body.h"
#include "aws/xml.h"
#include "core/checksum.h"

namespace lathe::aws {
namespace {

constexpr std::time_t kNow = 1764600000;
const api::Credentials kKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

// A body that counts what was read from it: the gateway must read nothing of a streamed one.
class CountingBody : public http::BodyReader {
 public:
  explicit CountingBody(std::string body) : body_(std::move(body)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, body_.size() - pos_);
    std::copy_n(body_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  int64_t declared_length() const override { return static_cast<int64_t>(body_.size()); }
  size_t pos_ = 0;

 private:
  std::string body_;
};

// A toy object store on the plumbing: what PutObject/GetObject/HeadObject will look like.
class Objects : public RestXmlService {
 public:
  Objects() {
    SetVirtualHostBases({"s3.localhost", "localhost"});
    AddSubresourceKeys({"acl", "tagging", "uploadId"});
    auto put = [this](const RestXmlInput& in) -> Result<RestXmlOutput> {
      buffered_seen = in.body.size();
      auto body = S3UploadBody::Open(*in.request, *in.context);
      if (!body.ok()) return body.status();
      std::string temp;  // a temporary file in the real store
      auto digests = (*body)->ReadAll([&](std::string_view piece) {
        temp.append(piece);
        return Status::Ok();
      });
      if (!digests.ok()) return digests.status();  // nothing committed
      objects[in.labels.at("Bucket") + "/" + in.labels.at("Key")] = temp;
      RestXmlOutput out;
      out.headers.push_back({"ETag", digests->ETag()});
      if (auto [name, value] = digests->ChecksumHeader(); !name.empty()) out.headers.push_back({name, value});
      return out;
    };
    Add("PUT", "/{Bucket}/{Key+}", "PutObject", put, RequestBody::kStreamed);
    Add("PUT", "/{Bucket}/{Key+}?uploadId", "UploadPart", put, RequestBody::kStreamed);
    Add("PUT", "/{Bucket}/{Key+}?tagging", "PutObjectTagging", Echo("PutObjectTagging"));
    Add("PUT", "/{Bucket}", "CreateBucket", Echo("CreateBucket"));
    Add("GET", "/", "ListBuckets", Echo("ListBuckets"));
    Add("GET", "/{Bucket}", "ListObjects", Echo("ListObjects"));
    Add("GET", "/{Bucket}/{Key+}", "GetObject", [this](const RestXmlInput& in) -> Result<RestXmlOutput> {
      auto it = objects.find(in.labels.at("Bucket") + "/" + in.labels.at("Key"));
      if (it == objects.end()) return Status::Aws("NoSuchKey", 404, "The specified key does not exist.");
      RestXmlOutput out;
      out.content_length = static_cast<int64_t>(it->second.size());
      out.headers.push_back({"Content-Type", "application/octet-stream"});
      out.body_stream = [data = it->second, at = size_t{0}](std::string* chunk) mutable -> Result<bool> {
        chunk->append(data.substr(at, 3));  // small pieces: the server sends each as it comes
        at += 3;
        return at < data.size();
      };
      return out;
    });
    Add("HEAD", "/{Bucket}/{Key+}", "HeadObject", [this](const RestXmlInput& in) -> Result<RestXmlOutput> {
      auto it = objects.find(in.labels.at("Bucket") + "/" + in.labels.at("Key"));
      if (it == objects.end()) return Status::Aws("NoSuchKey", 404, "The specified key does not exist.");
      RestXmlOutput out;
      out.content_length = static_cast<int64_t>(it->second.size());
      return out;
    });
  }
  std::string_view signing_name() const override { return "s3"; }
  size_t BodyLimit(const http::Request& request) const override { return StreamsBody(request) ? 0 : 64; }

  static RestXmlHandler Echo(std::string op) {
    return [op](const RestXmlInput& in) -> Result<RestXmlOutput> {
      pugi::xml_document doc;
      pugi::xml_node root = AppendS3Root(&doc, "Echo");
      AppendTextElement(root, "Operation", op);
      for (const auto& [k, v] : in.labels) AppendTextElement(root, k.c_str(), v);
      return XmlOutput(doc);
    };
  }

  std::map<std::string, std::string> objects;
  size_t buffered_seen = 99;
};

GatewayOptions MakeOptions(bool no_auth) {
  GatewayOptions options;
  options.no_auth = no_auth;
  return options;
}

struct Answer {
  http::Response res;
  size_t body_bytes_read = 0;
  std::string Streamed() {  // what the server would send
    std::string all, chunk;
    while (true) {
      chunk.clear();
      Result<bool> more = res.body_stream(&chunk);
      EXPECT_TRUE(more.ok());
      all += chunk;
      if (!more.ok() || !*more) return all;
    }
  }
};

class RestXmlStreamingTest : public ::testing::Test {
 protected:
  explicit RestXmlStreamingTest(bool no_auth = false)
      : gateway_(MakeOptions(no_auth), [](const std::string& id) -> std::optional<AccessKey> {
          if (id != kKey.access_key_id) return std::nullopt;
          return AccessKey{kKey.secret_access_key, Caller{id, "123456789012", "arn:aws:iam::123456789012:root", "123456789012"}};
        }) {
    gateway_.Add(objects_);
    gateway_.set_clock([] { return kNow; });
  }

  Answer Send(std::string method, std::string target, std::string body = "", std::vector<http::Header> headers = {},
              std::string host = "127.0.0.1:8080", bool sign = true) {
    api::SignedRequest sr{method, target, {{"Host", host}}, body};
    for (const auto& h : headers) sr.headers.emplace_back(h.name, h.value);
    if (sign) api::SignSigV4(&sr, "us-east-1", "s3", kKey, kNow);
    http::Request req;
    req.method = method;
    req.target = target;
    for (auto& [n, v] : sr.headers) req.headers.push_back({n, v});
    CountingBody reader(body);
    req.body = &reader;
    Answer a;
    gateway_.Handle(req, a.res);
    a.body_bytes_read = reader.pos_;
    return a;
  }

  std::shared_ptr<Objects> objects_ = std::make_shared<Objects>();
  Gateway gateway_;
};

class RestXmlNoAuthTest : public RestXmlStreamingTest {
 protected:
  RestXmlNoAuthTest() : RestXmlStreamingTest(/*no_auth=*/true) {}
};

http::Request Bare(std::string method, std::string target, std::string host = "127.0.0.1") {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers.push_back({"Host", std::move(host)});
  return r;
}

TEST_F(RestXmlStreamingTest, OnlyStreamedOperationsHaveNoBodyLimit) {
  EXPECT_TRUE(objects_->StreamsBody(Bare("PUT", "/b/k")));
  EXPECT_TRUE(objects_->StreamsBody(Bare("PUT", "/b/dir/k?partNumber=2&uploadId=abc")));
  EXPECT_FALSE(objects_->StreamsBody(Bare("PUT", "/b/k?tagging")));
  EXPECT_FALSE(objects_->StreamsBody(Bare("PUT", "/b")));
  EXPECT_FALSE(objects_->StreamsBody(Bare("GET", "/b/k")));
  EXPECT_FALSE(objects_->StreamsBody(Bare("PUT", "/b/k?acl")));  // not routed: NotImplemented, buffered
  EXPECT_EQ(objects_->BodyLimit(Bare("PUT", "/b/k")), 0u);
  EXPECT_EQ(objects_->BodyLimit(Bare("PUT", "/b/k?tagging")), 64u);
}

TEST_F(RestXmlStreamingTest, ASignedUploadStreamsPastTheXmlBoundAndIsChecked) {
  const std::string data(100000, 'q');  // far over the service's buffered bound of 64
  Answer a = Send("PUT", "/b/big%20file", data, {{"x-amz-checksum-crc32", Base64Encode(ChecksumOf(ChecksumAlgorithm::kCrc32, data))}});
  ASSERT_EQ(a.res.status, 200) << a.res.body;
  EXPECT_EQ(objects_->buffered_seen, 0u);  // the gateway buffered nothing
  EXPECT_EQ(objects_->objects.at("b/big file"), data);
  EXPECT_EQ(*a.res.header("ETag"), "\"" + HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, data)) + "\"");
  EXPECT_NE(a.res.header("x-amz-checksum-crc32"), nullptr);

  // Signed for another body: refused after reading, nothing stored.
  a = Send("PUT", "/b/other", data, {{"x-amz-content-sha256", Sha256Hex("not this")}});
  EXPECT_EQ(a.res.status, 400);
  EXPECT_NE(a.res.body.find("<Code>XAmzContentSHA256Mismatch</Code>"), std::string::npos) << a.res.body;
  EXPECT_EQ(objects_->objects.count("b/other"), 0u);

  // A buffered operation keeps its bound.
  a = Send("PUT", "/b/k?tagging", std::string(1000, 'x'));
  EXPECT_EQ(a.res.status, 413);
  EXPECT_EQ(a.body_bytes_read, 0u);
}

TEST_F(RestXmlNoAuthTest, UnsignedUploadsStreamToo) {
  Answer a = Send("PUT", "/b/k?partNumber=1&uploadId=u1", std::string(5000, 'z'), {}, "127.0.0.1", /*sign=*/false);
  ASSERT_EQ(a.res.status, 200) << a.res.body;
  EXPECT_EQ(objects_->objects.at("b/k"), std::string(5000, 'z'));
  a = Send("PUT", "/b/k2", "abc", {{"Content-MD5", Base64Encode(ChecksumOf(ChecksumAlgorithm::kMd5, "xyz"))}},
           "127.0.0.1", false);
  EXPECT_EQ(a.res.status, 400);
  EXPECT_NE(a.res.body.find("<Code>BadDigest</Code>"), std::string::npos);
  EXPECT_EQ(objects_->objects.count("b/k2"), 0u);
}

TEST_F(RestXmlStreamingTest, DownloadsStreamAndHeadCarriesTheLengthWithoutABody) {
  objects_->objects["b/k"] = "0123456789";
  Answer get = Send("GET", "/b/k");
  ASSERT_EQ(get.res.status, 200);
  ASSERT_TRUE(get.res.body_stream);
  EXPECT_EQ(get.res.stream_length, 10);
  EXPECT_EQ(*get.res.header("Content-Type"), "application/octet-stream");  // the object's, not XML's
  EXPECT_EQ(get.Streamed(), "0123456789");

  Answer head = Send("HEAD", "/b/k");
  ASSERT_EQ(head.res.status, 200);
  EXPECT_EQ(head.res.stream_length, 10);  // the http layer's Content-Length; HEAD sends no bytes
  EXPECT_TRUE(head.res.body.empty());
  EXPECT_EQ(head.res.header("Content-Type"), nullptr);

  Answer missing = Send("HEAD", "/b/nope");
  EXPECT_EQ(missing.res.status, 404);
  EXPECT_TRUE(missing.res.body.empty());
  EXPECT_FALSE(missing.res.body_stream);
}

TEST_F(RestXmlStreamingTest, VirtualHostedAddressingTakesTheBucketFromTheHost) {
  EXPECT_EQ(objects_->RoutedPath(Bare("GET", "/k", "my-bucket.localhost:9000")), "/my-bucket/k");
  EXPECT_EQ(objects_->RoutedPath(Bare("GET", "/a/b?x=1", "My.Bucket.S3.localhost")), "/my.bucket/a/b");
  EXPECT_EQ(objects_->RoutedPath(Bare("GET", "/", "b.localhost")), "/b/");
  for (const char* path_style : {"localhost:9000", "s3.localhost", "127.0.0.1:9000", "[::1]:9000", "example.com",
                                 "b_x.localhost", ".localhost", "localhost.evil.com"})
    EXPECT_EQ(objects_->RoutedPath(Bare("GET", "/b/k", path_style)), "/b/k") << path_style;

  // Through the gateway, signed over the Host as sent.
  Answer a = Send("PUT", "/", "", {}, "new-bucket.localhost:9000");
  ASSERT_EQ(a.res.status, 200) << a.res.body;
  EXPECT_NE(a.res.body.find("<Operation>CreateBucket</Operation><Bucket>new-bucket</Bucket>"), std::string::npos)
      << a.res.body;
  a = Send("PUT", "/dir/file%20name.txt", "hello", {}, "b.localhost:9000");
  ASSERT_EQ(a.res.status, 200) << a.res.body;
  EXPECT_EQ(objects_->objects.at("b/dir/file name.txt"), "hello");
  a = Send("GET", "/", "", {}, "b.s3.localhost:9000");
  EXPECT_NE(a.res.body.find("<Operation>ListObjects</Operation><Bucket>b</Bucket>"), std::string::npos) << a.res.body;
  a = Send("GET", "/", "", {}, "s3.localhost:9000");
  EXPECT_NE(a.res.body.find("<Operation>ListBuckets</Operation>"), std::string::npos) << a.res.body;
}

}  // namespace
}  // namespace lathe::aws
