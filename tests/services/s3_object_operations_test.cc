// S3's object operations through the rest-xml wire: requests shaped as botocore sends them,
// headers and XML checked as botocore reads them, bodies streamed in and out.
#include <gtest/gtest.h>

#include <filesystem>

#include <pugixml.hpp>

#include "services/s3/service.h"
#include "services/s3/storage.h"
#include "test_util.h"

namespace lathe::s3 {
namespace {

using lathe::testing::TempDir;

struct Answer {
  int status = 0;
  std::string body;  // the XML, or the streamed bytes
  http::Response response;
  pugi::xml_document doc;
  pugi::xml_node root() const { return doc.document_element(); }
  std::string Text(const char* path) const { return root().first_element_by_path(path).text().get(); }
  std::string Header(const char* name) const {
    const std::string* v = response.header(name);
    return v ? *v : "<none>";
  }
};

class S3ObjectOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto s3 = OpenS3Storage(store_.get(), env_, dir_.path() + "/s3");
    ASSERT_TRUE(s3.ok()) << s3.status().message();
    s3_ = std::move(*s3);
    service_ = std::make_unique<S3Service>(s3_->buckets.get(), s3_->objects.get(), s3_->multipart.get());
    ASSERT_EQ(Call("PUT", "/data")->status, 200);
  }

  std::unique_ptr<Answer> Call(const std::string& method, const std::string& target, const std::string& body = "",
                               std::vector<http::Header> headers = {}) {
    aws::RequestContext ctx;
    ctx.request_id = "11111111-2222-3333-4444-555555555555";
    ctx.region = "us-east-1";
    ctx.service = "s3";
    ctx.caller.account = "123456789012";
    http::Request req;
    req.method = method;
    req.target = target;
    req.headers = std::move(headers);
    http::StringBodyReader reader(body);
    req.body = &reader;
    const bool streamed = service_->StreamsBody(req);
    auto a = std::make_unique<Answer>();
    service_->Serve(ctx, req, streamed ? std::string_view() : std::string_view(body), a->response);
    a->status = a->response.status;
    a->body = a->response.body;
    if (a->response.body_stream) {
      a->body.clear();
      if (method != "HEAD")
        for (;;) {
          std::string chunk;
          Result<bool> more = a->response.body_stream(&chunk);
          EXPECT_TRUE(more.ok());
          if (!more.ok() || !*more) break;
          EXPECT_LE(chunk.size(), 1u << 20);  // bounded pieces
          a->body += chunk;
        }
    } else if (!a->body.empty()) {
      EXPECT_TRUE(a->doc.load_string(a->body.c_str())) << a->body;
    }
    return a;
  }

  TempDir dir_;
  Env* env_ = Env::Default();
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<S3Storage> s3_;
  std::unique_ptr<S3Service> service_;
};

TEST_F(S3ObjectOperationsTest, PutGetHeadRoundTripHeaders) {
  auto put = Call("PUT", "/data/dir/hello%20world.txt", "hello",
                  {{"Content-Type", "text/plain"},
                   {"Content-Disposition", "attachment"},
                   {"Cache-Control", "max-age=60"},
                   {"Expires", "Thu, 01 Dec 2094 16:00:00 GMT"},
                   {"X-Amz-Meta-Origin", "tutorial"},
                   {"x-amz-tagging", "stage=raw&team=ml"},
                   {"x-amz-checksum-crc32", "NhCmhg=="}});
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(put->Header("ETag"), "\"5d41402abc4b2a76b9719d911017c592\"");
  EXPECT_EQ(put->Header("x-amz-checksum-crc32"), "NhCmhg==");
  EXPECT_EQ(put->Header("x-amz-version-id"), "<none>");

  auto get = Call("GET", "/data/dir/hello%20world.txt");
  ASSERT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
  EXPECT_EQ(get->response.stream_length, 5);
  EXPECT_EQ(get->Header("ETag"), "\"5d41402abc4b2a76b9719d911017c592\"");
  EXPECT_EQ(get->Header("Content-Type"), "text/plain");
  EXPECT_EQ(get->Header("Content-Disposition"), "attachment");
  EXPECT_EQ(get->Header("Cache-Control"), "max-age=60");
  EXPECT_EQ(get->Header("Expires"), "Thu, 01 Dec 2094 16:00:00 GMT");
  EXPECT_EQ(get->Header("x-amz-meta-origin"), "tutorial");
  EXPECT_EQ(get->Header("x-amz-tagging-count"), "2");
  EXPECT_EQ(get->Header("Accept-Ranges"), "bytes");
  EXPECT_EQ(get->Header("Last-Modified").size(), 29u);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(get->Header("x-amz-checksum-crc32"), "<none>");  // only with x-amz-checksum-mode

  auto head = Call("HEAD", "/data/dir/hello%20world.txt", "", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->response.stream_length, 5);
  EXPECT_EQ(head->Header("x-amz-checksum-crc32"), "NhCmhg==");
  auto ranged = Call("GET", "/data/dir/hello%20world.txt", "", {{"x-amz-checksum-mode", "ENABLED"}, {"Range", "bytes=0-1"}});
  EXPECT_EQ(ranged->body, "he");
  EXPECT_EQ(ranged->Header("x-amz-checksum-crc32"), "<none>");  // not the range's checksum

  // A presigned GET may override the answer's headers.
  auto overridden = Call("GET", "/data/dir/hello%20world.txt?response-content-type=application%2Fjson");
  EXPECT_EQ(overridden->Header("Content-Type"), "application/json");
  // Even as text/html, an object never runs scripts on lathe's origin (the dashboard's).
  auto html = Call("GET", "/data/dir/hello%20world.txt?response-content-type=text%2Fhtml");
  EXPECT_EQ(html->Header("Content-Security-Policy"), "sandbox; default-src 'none'");
  EXPECT_EQ(html->Header("X-Content-Type-Options"), "nosniff");

  auto untyped = Call("PUT", "/data/raw", "x");
  EXPECT_EQ(Call("HEAD", "/data/raw")->Header("Content-Type"), "binary/octet-stream");
}

TEST_F(S3ObjectOperationsTest, AWrongChecksumStoresNothing) {
  auto put = Call("PUT", "/data/k", "hello", {{"x-amz-checksum-crc32", "AAAAAA=="}});
  EXPECT_EQ(put->status, 400) << put->body;
  EXPECT_EQ(Call("GET", "/data/k")->Text("Code"), "NoSuchKey");
}

TEST_F(S3ObjectOperationsTest, RangesConditionsAndErrors) {
  ASSERT_EQ(Call("PUT", "/data/r", "0123456789")->status, 200);
  auto part = Call("GET", "/data/r", "", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, "2345");
  EXPECT_EQ(part->Header("Content-Range"), "bytes 2-5/10");
  auto tail = Call("GET", "/data/r", "", {{"Range", "bytes=-2"}});
  EXPECT_EQ(tail->body, "89");
  EXPECT_EQ(tail->Header("Content-Range"), "bytes 8-9/10");
  auto bad = Call("GET", "/data/r", "", {{"Range", "bytes=10-"}});
  EXPECT_EQ(bad->status, 416);
  EXPECT_EQ(bad->Text("Code"), "InvalidRange");

  const std::string etag = Call("HEAD", "/data/r")->Header("ETag");
  auto not_modified = Call("GET", "/data/r", "", {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_TRUE(not_modified->body.empty());
  EXPECT_EQ(not_modified->Header("ETag"), etag);
  EXPECT_EQ(Call("GET", "/data/r", "", {{"If-Match", "\"0000\""}})->status, 412);
  EXPECT_EQ(Call("GET", "/data/r", "", {{"If-Modified-Since", "Sun, 06 Nov 2094 08:49:37 GMT"}})->status, 200)
      << "a date in the future is ignored";
  EXPECT_EQ(Call("GET", "/data/r", "", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}})->status, 412);
  EXPECT_EQ(Call("GET", "/data/r", "", {{"If-Modified-Since", "not a date"}})->status, 200);

  auto missing = Call("GET", "/data/missing%2Fkey");
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->Text("Code"), "NoSuchKey");
  EXPECT_EQ(missing->Text("Key"), "missing/key");
  auto head_missing = Call("HEAD", "/data/missing");
  EXPECT_EQ(head_missing->status, 404);
  EXPECT_TRUE(head_missing->body.empty());
  EXPECT_EQ(Call("PUT", "/data/" + std::string(1025, 'k'), "x")->Text("Code"), "KeyTooLongError");
  EXPECT_EQ(Call("PUT", "/data/bad%FF", "x")->Text("Code"), "InvalidArgument");
  EXPECT_EQ(Call("PUT", "/nobucket/k", "x")->Text("Code"), "NoSuchBucket");
  auto big_meta = Call("PUT", "/data/m", "x", {{"x-amz-meta-big", std::string(2100, 'v')}});
  EXPECT_EQ(big_meta->Text("Code"), "MetadataTooLarge");
  EXPECT_EQ(Call("PUT", "/data/t", "x", {{"x-amz-tagging", "aws%3Ax=1"}})->Text("Code"), "InvalidTag");
}

TEST_F(S3ObjectOperationsTest, ListObjectsV2WithPrefixesTokensAndUrlEncoding) {
  for (const char* key : {"a%20b", "logs/1", "logs/2", "logs/sub/3", "z+plus"})
    ASSERT_EQ(Call("PUT", std::string("/data/") + key, "x")->status, 200) << key;
  auto top = Call("GET", "/data?list-type=2&delimiter=%2F&encoding-type=url");
  ASSERT_EQ(top->status, 200) << top->body;
  EXPECT_EQ(top->Text("KeyCount"), "3");
  EXPECT_EQ(top->Text("IsTruncated"), "false");
  EXPECT_EQ(top->Text("EncodingType"), "url");
  EXPECT_EQ(top->Text("Contents/Key"), "a%20b");  // the key "a b"
  EXPECT_EQ(top->root().child("Contents").next_sibling("Contents").child("Key").text().get(), std::string("z%2Bplus"));
  EXPECT_EQ(top->Text("CommonPrefixes/Prefix"), "logs/");
  EXPECT_EQ(top->Text("Delimiter"), "/");  // S3 leaves / as it is in encoded keys

  std::vector<std::string> keys;
  std::string token;
  for (int i = 0; i < 10; ++i) {
    auto page = Call("GET", "/data?list-type=2&prefix=logs%2F&max-keys=2" +
                                (token.empty() ? "" : "&continuation-token=" + token));
    ASSERT_EQ(page->status, 200) << page->body;
    for (pugi::xml_node c : page->root().children("Contents")) keys.push_back(c.child("Key").text().get());
    if (page->Text("IsTruncated") != "true") break;
    token = page->Text("NextContinuationToken");
    ASSERT_FALSE(token.empty());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"logs/1", "logs/2", "logs/sub/3"}));
  EXPECT_EQ(Call("GET", "/data?list-type=2&continuation-token=bogus")->Text("Code"), "InvalidArgument");
  EXPECT_EQ(Call("GET", "/data?list-type=2&max-keys=-1")->Text("Code"), "InvalidArgument");
  EXPECT_EQ(Call("GET", "/data?list-type=2&encoding-type=base64")->Text("Code"), "InvalidArgument");
  EXPECT_EQ(Call("GET", "/data?list-type=2&max-keys=5000")->Text("MaxKeys"), "1000");
  auto after = Call("GET", "/data?list-type=2&start-after=logs%2Fsub%2F3");
  EXPECT_EQ(after->Text("Contents/Key"), "z+plus");
}

TEST_F(S3ObjectOperationsTest, ListObjectsV1NextMarkerOnlyWithDelimiter) {
  for (const char* key : {"a/1", "a/2", "b", "c"}) ASSERT_EQ(Call("PUT", std::string("/data/") + key, "x")->status, 200);
  auto page = Call("GET", "/data?delimiter=%2F&max-keys=1");
  EXPECT_EQ(page->Text("IsTruncated"), "true");
  EXPECT_EQ(page->Text("NextMarker"), "a/");
  EXPECT_EQ(page->Text("CommonPrefixes/Prefix"), "a/");
  EXPECT_FALSE(page->Text("Contents/Owner/ID").empty() && page->root().child("Contents"));
  auto next = Call("GET", "/data?delimiter=%2F&max-keys=1&marker=a%2F");
  EXPECT_EQ(next->Text("Contents/Key"), "b");
  auto plain = Call("GET", "/data?max-keys=1");
  EXPECT_EQ(plain->Text("IsTruncated"), "true");
  EXPECT_FALSE(plain->root().child("NextMarker"));
  EXPECT_EQ(plain->Text("Contents/Key"), "a/1");
  EXPECT_FALSE(plain->Text("Contents/Owner/ID").empty());
}

TEST_F(S3ObjectOperationsTest, VersioningOnTheWire) {
  auto unset = Call("GET", "/data?versioning");
  EXPECT_EQ(unset->status, 200);
  EXPECT_FALSE(unset->root().child("Status"));
  const std::string enable =
      "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status>"
      "</VersioningConfiguration>";
  ASSERT_EQ(Call("PUT", "/data?versioning", enable)->status, 200);
  EXPECT_EQ(Call("GET", "/data?versioning")->Text("Status"), "Enabled");
  EXPECT_EQ(Call("PUT", "/data?versioning", "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>")
                ->Text("Code"),
            "MalformedXML");

  auto v1 = Call("PUT", "/data/k", "one");
  const std::string id1 = v1->Header("x-amz-version-id");
  EXPECT_EQ(id1.size(), 32u);
  ASSERT_EQ(Call("PUT", "/data/k", "two")->status, 200);
  EXPECT_EQ(Call("GET", "/data/k?versionId=" + id1)->body, "one");
  auto del = Call("DELETE", "/data/k");
  EXPECT_EQ(del->status, 204);
  EXPECT_EQ(del->Header("x-amz-delete-marker"), "true");
  const std::string marker = del->Header("x-amz-version-id");
  auto gone = Call("GET", "/data/k");
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(gone->Header("x-amz-delete-marker"), "true");
  EXPECT_EQ(gone->Header("x-amz-version-id"), marker);
  EXPECT_EQ(gone->Text("Code"), "NoSuchKey");
  auto head_marker = Call("HEAD", "/data/k?versionId=" + marker);
  EXPECT_EQ(head_marker->status, 405);
  EXPECT_EQ(head_marker->Header("x-amz-delete-marker"), "true");
  EXPECT_EQ(Call("GET", "/data/k?versionId=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")->Text("Code"), "NoSuchVersion");

  auto versions = Call("GET", "/data?versions");
  ASSERT_EQ(versions->status, 200) << versions->body;
  EXPECT_EQ(versions->Text("DeleteMarker/VersionId"), marker);
  EXPECT_EQ(versions->Text("DeleteMarker/IsLatest"), "true");
  int n = 0;
  for (pugi::xml_node v : versions->root().children("Version")) {
    ++n;
    EXPECT_EQ(std::string(v.child("IsLatest").text().get()), "false");
  }
  EXPECT_EQ(n, 2);
}

TEST_F(S3ObjectOperationsTest, CopyObjectFromAnEncodedSource) {
  ASSERT_EQ(Call("PUT", "/data/src%20key", "payload", {{"x-amz-meta-a", "1"}})->status, 200);
  auto copy = Call("PUT", "/data/dst", "", {{"x-amz-copy-source", "/data/src%20key"}});
  ASSERT_EQ(copy->status, 200) << copy->body;
  EXPECT_EQ(copy->root().name(), std::string("CopyObjectResult"));
  EXPECT_EQ(copy->Text("ETag"), "\"321c3cf486ed509164edec1e1981fec8\"");
  EXPECT_FALSE(copy->Text("LastModified").empty());
  auto dst = Call("GET", "/data/dst");
  EXPECT_EQ(dst->body, "payload");
  EXPECT_EQ(dst->Header("x-amz-meta-a"), "1");

  auto replaced = Call("PUT", "/data/dst", "",
                       {{"x-amz-copy-source", "data/dst"}, {"x-amz-metadata-directive", "REPLACE"},
                        {"x-amz-meta-b", "2"}});
  ASSERT_EQ(replaced->status, 200) << replaced->body;
  EXPECT_EQ(Call("HEAD", "/data/dst")->Header("x-amz-meta-b"), "2");
  EXPECT_EQ(Call("HEAD", "/data/dst")->Header("x-amz-meta-a"), "<none>");
  EXPECT_EQ(Call("PUT", "/data/dst", "", {{"x-amz-copy-source", "data/dst"}})->Text("Code"), "InvalidRequest");
  EXPECT_EQ(Call("PUT", "/data/x", "", {{"x-amz-copy-source", "data/dst"}, {"x-amz-metadata-directive", "MOVE"}})
                ->Text("Code"),
            "InvalidArgument");
  EXPECT_EQ(Call("PUT", "/data/x", "", {{"x-amz-copy-source", "data/dst?versionId=%2E%2E"}})->Text("Code"),
            "InvalidArgument");
  EXPECT_EQ(Call("PUT", "/data/x", "", {{"x-amz-copy-source", "nobucket/dst"}})->Text("Code"), "NoSuchBucket");
}

TEST_F(S3ObjectOperationsTest, DeleteObjectsQuietAndLoud) {
  for (const char* key : {"a", "b"}) ASSERT_EQ(Call("PUT", std::string("/data/") + key, "x")->status, 200);
  const std::string body =
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a</Key></Object>"
      "<Object><Key>missing</Key></Object><Object><Key>b</Key><VersionId>bad</VersionId></Object></Delete>";
  auto loud = Call("POST", "/data?delete", body);
  ASSERT_EQ(loud->status, 200) << loud->body;
  int deleted = 0;
  for (pugi::xml_node d : loud->root().children("Deleted")) ++deleted, (void)d;
  EXPECT_EQ(deleted, 2);
  EXPECT_EQ(loud->Text("Error/Key"), "b");
  EXPECT_EQ(loud->Text("Error/Code"), "InvalidArgument");

  const std::string quiet = "<Delete><Quiet>true</Quiet><Object><Key>b</Key></Object></Delete>";
  auto q = Call("POST", "/data?delete", quiet);
  ASSERT_EQ(q->status, 200);
  EXPECT_FALSE(q->root().child("Deleted"));
  EXPECT_EQ(Call("GET", "/data/b")->status, 404);

  EXPECT_EQ(Call("POST", "/data?delete", "<Delete></Delete>")->Text("Code"), "MalformedXML");
  EXPECT_EQ(Call("POST", "/data?delete", "<Delete><Object/></Delete>")->Text("Code"), "MalformedXML");
  EXPECT_EQ(Call("POST", "/data?delete", "not xml")->Text("Code"), "MalformedXML");
  std::string many = "<Delete>";
  for (int i = 0; i < 1001; ++i) many += "<Object><Key>k</Key></Object>";
  many += "</Delete>";
  EXPECT_EQ(Call("POST", "/data?delete", many)->Text("Code"), "MalformedXML");
}

TEST_F(S3ObjectOperationsTest, ObjectTagging) {
  ASSERT_EQ(Call("PUT", "/data/t", "x")->status, 200);
  const std::string tagging =
      "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>stage</Key><Value>clean</Value>"
      "</Tag></TagSet></Tagging>";
  ASSERT_EQ(Call("PUT", "/data/t?tagging", tagging)->status, 200);
  auto got = Call("GET", "/data/t?tagging");
  EXPECT_EQ(got->Text("TagSet/Tag/Key"), "stage");
  EXPECT_EQ(got->Text("TagSet/Tag/Value"), "clean");
  EXPECT_EQ(Call("PUT", "/data/t?tagging", "<Tagging/>")->Text("Code"), "MalformedXML");
  std::string eleven = "<Tagging><TagSet>";
  for (int i = 0; i < 11; ++i) eleven += "<Tag><Key>k" + std::to_string(i) + "</Key><Value>v</Value></Tag>";
  eleven += "</TagSet></Tagging>";
  EXPECT_EQ(Call("PUT", "/data/t?tagging", eleven)->Text("Code"), "BadRequest");
  EXPECT_EQ(Call("GET", "/data/missing?tagging")->Text("Code"), "NoSuchKey");
}

TEST_F(S3ObjectOperationsTest, DeleteBucketWaitsForItsObjects) {
  ASSERT_EQ(Call("PUT", "/data/k", "x")->status, 200);
  EXPECT_EQ(Call("DELETE", "/data")->Text("Code"), "BucketNotEmpty");
  EXPECT_EQ(Call("DELETE", "/data/k")->status, 204);
  EXPECT_EQ(Call("DELETE", "/data/k")->status, 204);
  EXPECT_EQ(Call("DELETE", "/data")->status, 204);
}

TEST_F(S3ObjectOperationsTest, EventBridgeNotificationsPublishObjectChangesOnTheBus) {
  // Without a notification configuration nothing is published.
  ASSERT_EQ(Call("PUT", "/data/training-data/a.jsonl", "{}")->status, 200);
  auto none = store_->EventsAfter(0, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // The automation tutorial: put_bucket_notification_configuration(EventBridgeConfiguration={}).
  const std::string config =
      "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><EventBridgeConfiguration/>"
      "</NotificationConfiguration>";
  ASSERT_EQ(Call("PUT", "/data?notification", config)->status, 200);
  auto got = Call("GET", "/data?notification");
  ASSERT_EQ(got->status, 200);
  EXPECT_TRUE(got->root().child("EventBridgeConfiguration")) << got->body;

  ASSERT_EQ(Call("PUT", "/data/training-data/b.jsonl", "{\"prompt\":\"x\"}")->status, 200);
  ASSERT_EQ(Call("DELETE", "/data/training-data/a.jsonl")->status, 204);
  auto events = store_->EventsAfter(0, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  const store::OutboxEvent& created = (*events)[0];
  EXPECT_EQ(created.source, "aws.s3");
  EXPECT_EQ(created.detail_type, "Object Created");
  EXPECT_EQ(created.detail["bucket"]["name"], "data");
  EXPECT_EQ(created.detail["object"]["key"], "training-data/b.jsonl");
  EXPECT_EQ(created.detail["object"]["size"], 14);
  EXPECT_EQ(created.detail["reason"], "PutObject");
  EXPECT_EQ((*events)[1].detail_type, "Object Deleted");
  EXPECT_EQ((*events)[1].detail["object"]["key"], "training-data/a.jsonl");

  // Turning it off again (an empty configuration) stops the events.
  ASSERT_EQ(Call("PUT", "/data?notification", "<NotificationConfiguration/>")->status, 200);
  ASSERT_EQ(Call("PUT", "/data/training-data/c.jsonl", "{}")->status, 200);
  auto after = store_->EventsAfter((*events)[1].seq, 100);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  // A malformed configuration is refused and changes nothing.
  EXPECT_EQ(Call("PUT", "/data?notification", "<NotificationConfiguration><Bogus/></NotificationConfiguration>")->status, 400);
}

// The disk fills up during an upload: S3's 500 InternalError, and nothing of it stays.
class S3FullDiskTest : public S3ObjectOperationsTest {
 protected:
  void SetUp() override {
    env_ = &full_;
    S3ObjectOperationsTest::SetUp();
  }
  lathe::testing::FullDiskEnv full_{dir_.path() + "/s3/tmp/", 3u << 20};  // 3 MiB left for uploads
};

TEST_F(S3FullDiskTest, AnUploadThatFillsTheDiskAnswers500AndStoresNothing) {
  ASSERT_EQ(Call("PUT", "/data/small", std::string(1 << 20, 's'))->status, 200);
  auto put = Call("PUT", "/data/big", std::string(5 << 20, 'b'));
  EXPECT_EQ(put->status, 500) << put->body;
  EXPECT_EQ(put->Text("Code"), "InternalError");
  EXPECT_EQ(Call("GET", "/data/big")->status, 404);
  // An existing key being replaced keeps its old bytes.
  auto over = Call("PUT", "/data/small", std::string(5 << 20, 'o'));
  EXPECT_EQ(over->status, 500);
  auto small = Call("GET", "/data/small");
  ASSERT_EQ(small->status, 200);
  EXPECT_EQ(small->body, std::string(1 << 20, 's'));
  // No temporary file is left, and the only blob is the small object's.
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() + "/s3/tmp"));
  size_t blobs = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path() + "/s3/blobs"))
    blobs += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(blobs, 1u);
}

}  // namespace
}  // namespace lathe::s3
