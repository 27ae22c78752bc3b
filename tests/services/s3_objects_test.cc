// S3's object semantics without the wire: puts and reads, versions and delete markers, ranges
// and conditions, copies, listings with common prefixes, tags, hostile keys, and what a failed
// upload or a crash leaves behind.
#include "services/s3/objects.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/arn.h"
#include "services/s3/object_events.h"
#include "services/s3/storage.h"
#include "test_util.h"

namespace lathe::s3 {
namespace {

using lathe::testing::TempDir;

constexpr char kAccount[] = "123456789012";
constexpr char kOther[] = "210987654321";

class S3ObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    s3_.reset();
    store_.reset();
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto s3 = OpenS3Storage(store_.get(), Env::Default(), dir_.path() + "/s3");
    ASSERT_TRUE(s3.ok()) << s3.status().message();
    s3_ = std::move(*s3);
    objects_ = s3_->objects.get();
    if (!s3_->buckets->GetBucket(kAccount, "data").ok())
      ASSERT_TRUE(s3_->buckets->CreateBucket({kAccount, "data", "us-east-1", std::nullopt}).ok());
  }
  Requester Me() { return Requester{kAccount, "us-east-1", "req-1", "127.0.0.1"}; }

  Result<ObjectInfo> Put(const std::string& key, const std::string& bytes, PutObjectInput in = {}) {
    in.requester = Me();
    if (in.bucket.empty()) in.bucket = "data";
    in.key = key;
    Status check = objects_->CheckPut(in);
    if (!check.ok()) return check;
    auto body = objects_->NewBody();
    if (!body.ok()) return body.status();
    Status s = (*body)->Append(bytes);
    if (!s.ok()) return s;
    return objects_->PutObject(in, std::move(*body));
  }
  Result<ObjectRead> Get(const std::string& key, GetObjectInput in = {}) {
    in.requester = Me();
    in.bucket = "data";
    in.key = key;
    return objects_->GetObject(in);
  }
  std::string Bytes(const ObjectRead& read) {
    const std::shared_ptr<RandomAccessFile>& file = read.file;
    EXPECT_TRUE(file);
    if (!file) return "<no file>";
    const uint64_t first = read.range ? read.range->first : 0;
    const uint64_t n = read.range ? read.range->length() : read.object.size;
    std::string out(n, '\0');
    if (n) EXPECT_TRUE(file->Read(first, n, out.data()).ok());
    return out;
  }
  std::string Content(const std::string& key, const std::string& version = "") {
    GetObjectInput in;
    in.version_id = version;
    auto r = Get(key, in);
    return r.ok() ? Bytes(*r) : "<" + r.status().aws_code() + ">";
  }
  Result<DeleteObjectOutput> Delete(const std::string& key, const std::string& version = "") {
    return objects_->DeleteObject(DeleteObjectInput{Me(), "data", key, version});
  }
  std::vector<std::string> Keys(const ObjectListing& page) {
    std::vector<std::string> out;
    for (const ObjectInfo& o : page.objects) out.push_back(o.key);
    return out;
  }
  ObjectListing List(const std::string& prefix, const std::string& delimiter, const std::string& after = "",
                     size_t max_keys = kMaxListKeys) {
    auto page = objects_->ListObjects(ListObjectsInput{kAccount, "data", prefix, delimiter, after, max_keys});
    EXPECT_TRUE(page.ok()) << page.status().message();
    return page.ok() ? *page : ObjectListing{};
  }
  static size_t FilesUnder(const std::string& dir) {
    size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<S3Storage> s3_;
  S3Objects* objects_ = nullptr;
};

TEST_F(S3ObjectsTest, PutThenGetReturnsTheBytesWithMd5EtagAndMetadata) {
  PutObjectInput in;
  in.metadata.content_type = "application/jsonl";
  in.metadata.cache_control = "no-cache";
  in.metadata.user = {{"origin", "tutorial"}};
  in.tags = {{"stage", "raw"}};
  auto put = Put("training-data/train.jsonl", "hello", in);
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(put->etag, "5d41402abc4b2a76b9719d911017c592");  // MD5("hello")
  EXPECT_EQ(put->version_id, "null");
  auto got = Get("training-data/train.jsonl");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Bytes(*got), "hello");
  EXPECT_EQ(got->object.size, 5u);
  EXPECT_EQ(got->object.metadata.content_type, "application/jsonl");
  EXPECT_EQ(got->object.metadata.cache_control, "no-cache");
  EXPECT_EQ(got->object.metadata.user.at("origin"), "tutorial");
  ASSERT_EQ(got->object.tags.size(), 1u);
  EXPECT_EQ(got->object.tags[0].second, "raw");

  // Overwriting an unversioned key replaces it and frees the old blob.
  ASSERT_TRUE(Put("training-data/train.jsonl", "world").ok());
  EXPECT_EQ(Content("training-data/train.jsonl"), "world");
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/blobs"), 1u);
}

TEST_F(S3ObjectsTest, BucketChecksComeFirst) {
  EXPECT_EQ(Put("k", "x", PutObjectInput{{}, "missing-bucket"}).status().aws_code(), "NoSuchBucket");
  ASSERT_TRUE(s3_->buckets->CreateBucket({kOther, "theirs", "us-east-1", std::nullopt}).ok());
  EXPECT_EQ(Put("k", "x", PutObjectInput{{}, "theirs"}).status().aws_code(), "AccessDenied");
  GetObjectInput get;
  get.requester = Me();
  get.bucket = "theirs";
  get.key = "k";
  EXPECT_EQ(objects_->GetObject(get).status().aws_code(), "AccessDenied");
  EXPECT_EQ(Get("absent").status().aws_code(), "NoSuchKey");
  EXPECT_EQ(Get("absent").status().http_status(), 404);
}

TEST_F(S3ObjectsTest, HostileKeysAreJustKeys) {
  const std::vector<std::string> keys = {"../../etc/passwd", "a//b", "%00", std::string("nul\0byte", 8), " lead space",
                                         "/leading-slash", "..", "ключ/データ"};
  for (const std::string& key : keys) {
    ASSERT_TRUE(Put(key, "v:" + key).ok()) << key;
    EXPECT_EQ(Content(key), "v:" + key);
  }
  EXPECT_EQ(List("", "").objects.size(), keys.size());
  // Nothing escaped the blob store: only blob files, named by id, under s3/blobs.
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/blobs"), keys.size());
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3"), keys.size());

  EXPECT_TRUE(Put(std::string(kMaxKeyBytes, 'k'), "x").ok());
  auto too_long = Put(std::string(kMaxKeyBytes + 1, 'k'), "x");
  EXPECT_EQ(too_long.status().aws_code(), "KeyTooLongError");
  EXPECT_EQ(too_long.status().http_status(), 400);
  EXPECT_EQ(Put("bad\xff\xfe", "x").status().aws_code(), "InvalidArgument");
  EXPECT_EQ(Put("overlong\xc0\xaf", "x").status().aws_code(), "InvalidArgument");
}

TEST_F(S3ObjectsTest, MetadataAndTagBounds) {
  PutObjectInput big;
  big.metadata.user = {{"a", std::string(kMaxUserMetadataBytes - 1, 'v')}};
  EXPECT_TRUE(Put("fits", "x", big).ok());
  big.metadata.user = {{"ab", std::string(kMaxUserMetadataBytes - 1, 'v')}};
  EXPECT_EQ(Put("too-big", "x", big).status().aws_code(), "MetadataTooLarge");

  PutObjectInput tags;
  for (int i = 0; i < 11; ++i) tags.tags.emplace_back("k" + std::to_string(i), "v");
  EXPECT_EQ(Put("t", "x", tags).status().aws_code(), "BadRequest");
  tags.tags = {{"k", "1"}, {"k", "2"}};
  EXPECT_EQ(Put("t", "x", tags).status().aws_code(), "InvalidTag");
  tags.tags = {{std::string(kMaxTagKeyChars + 1, 'k'), "v"}};
  EXPECT_EQ(Put("t", "x", tags).status().aws_code(), "InvalidTag");
  tags.tags = {{"k", std::string(kMaxTagValueChars + 1, 'v')}};
  EXPECT_EQ(Put("t", "x", tags).status().aws_code(), "InvalidTag");
  tags.tags = {{"aws:reserved", "v"}};
  EXPECT_EQ(Put("t", "x", tags).status().aws_code(), "InvalidTag");
  // 128 characters of two bytes each: characters count, not bytes.
  std::string wide;
  for (size_t i = 0; i < kMaxTagKeyChars; ++i) wide += "é";
  tags.tags = {{wide, "v"}};
  EXPECT_TRUE(Put("t", "x", tags).ok());
}

TEST_F(S3ObjectsTest, RangesAsS3ReadsThem) {
  ASSERT_TRUE(Put("r", "0123456789").ok());
  auto range = [&](const std::string& header) {
    GetObjectInput in;
    in.range = header;
    auto r = Get("r", in);
    if (!r.ok()) return "<" + r.status().aws_code() + ">";
    return (r->range ? "206:" : "200:") + Bytes(*r);
  };
  EXPECT_EQ(range("bytes=2-4"), "206:234");
  EXPECT_EQ(range("bytes=7-"), "206:789");
  EXPECT_EQ(range("bytes=-3"), "206:789");
  EXPECT_EQ(range("bytes=-30"), "206:0123456789");
  EXPECT_EQ(range("bytes=5-100"), "206:56789");
  EXPECT_EQ(range("bytes=10-"), "<InvalidRange>");
  EXPECT_EQ(range("bytes=-0"), "<InvalidRange>");
  // What S3 ignores: another unit, several ranges, a reversed range, garbage.
  EXPECT_EQ(range("items=0-1"), "200:0123456789");
  EXPECT_EQ(range("bytes=0-1,4-5"), "200:0123456789");
  EXPECT_EQ(range("bytes=5-2"), "200:0123456789");
  EXPECT_EQ(range("bytes=x-"), "200:0123456789");
  EXPECT_EQ(range("bytes=99999999999999999999-"), "200:0123456789");
  EXPECT_EQ(ResolveRange("bytes=0-", 0).status().aws_code(), "InvalidRange");
  EXPECT_EQ(ResolveRange("bytes=0-0", 1)->value().length(), 1u);
}

TEST_F(S3ObjectsTest, ConditionsAnswer304And412AsS3Does) {
  auto put = Put("c", "abc");
  ASSERT_TRUE(put.ok());
  const std::string etag = "\"" + put->etag + "\"";
  const int64_t modified = put->modified_ms;
  auto verdict = [&](Conditions c) {
    GetObjectInput in;
    in.conditions = c;
    auto r = Get("c", in);
    if (!r.ok()) return std::to_string(r.status().http_status());
    return std::string(r->not_modified ? "304" : "200");
  };
  Conditions c;
  c.if_match = etag;
  EXPECT_EQ(verdict(c), "200");
  c.if_match = "\"other\"";
  EXPECT_EQ(verdict(c), "412");
  c = {};
  c.if_none_match = etag;
  EXPECT_EQ(verdict(c), "304");
  c.if_none_match = "*";
  EXPECT_EQ(verdict(c), "304");
  c = {};
  c.if_modified_since_ms = modified;
  EXPECT_EQ(verdict(c), "304");
  c.if_modified_since_ms = modified - 2000;
  EXPECT_EQ(verdict(c), "200");
  c = {};
  c.if_unmodified_since_ms = modified - 2000;
  EXPECT_EQ(verdict(c), "412");
  // If-Match holds, so If-Unmodified-Since is not asked (S3's documented precedence).
  c.if_match = etag;
  EXPECT_EQ(verdict(c), "200");
  // If-None-Match decides before If-Modified-Since.
  c = {};
  c.if_none_match = "\"other\"";
  c.if_modified_since_ms = modified;
  EXPECT_EQ(verdict(c), "200");

  // Conditional writes.
  PutObjectInput in;
  in.if_none_match_any = true;
  EXPECT_EQ(Put("c", "new", in).status().aws_code(), "PreconditionFailed");
  EXPECT_TRUE(Put("fresh", "new", in).ok());
  EXPECT_EQ(Content("c"), "abc");
}

TEST_F(S3ObjectsTest, DeleteIsIdempotentWhenUnversioned) {
  ASSERT_TRUE(Put("d", "x").ok());
  auto deleted = Delete("d");
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(deleted->delete_marker);
  EXPECT_EQ(Content("d"), "<NoSuchKey>");
  EXPECT_TRUE(Delete("d").ok());
  EXPECT_TRUE(Delete("never-was").ok());
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/blobs"), 0u);
}

TEST_F(S3ObjectsTest, VersionsAndDeleteMarkers) {
  ASSERT_TRUE(Put("v", "unversioned").ok());
  ASSERT_TRUE(s3_->buckets->SetVersioning(kAccount, "data", "Enabled").ok());
  auto v1 = Put("v", "one");
  auto v2 = Put("v", "two");
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_TRUE(IsVersionId(v1->version_id));
  EXPECT_NE(v1->version_id, v2->version_id);
  EXPECT_EQ(v1->version_id.size(), 32u);
  EXPECT_EQ(Content("v"), "two");
  EXPECT_EQ(Content("v", v1->version_id), "one");
  EXPECT_EQ(Content("v", "null"), "unversioned");
  EXPECT_EQ(Content("v", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "<NoSuchVersion>");
  EXPECT_EQ(Content("v", "not/a/version"), "<InvalidArgument>");

  auto marker = Delete("v");
  ASSERT_TRUE(marker.ok());
  EXPECT_TRUE(marker->delete_marker);
  EXPECT_TRUE(IsVersionId(marker->version_id));
  ObjectInfo seen;
  GetObjectInput in;
  in.requester = Me();
  in.bucket = "data";
  in.key = "v";
  EXPECT_EQ(objects_->GetObject(in, &seen).status().aws_code(), "NoSuchKey");
  EXPECT_TRUE(seen.delete_marker);
  EXPECT_EQ(seen.version_id, marker->version_id);
  in.version_id = marker->version_id;
  EXPECT_EQ(objects_->GetObject(in).status().http_status(), 405);
  EXPECT_TRUE(List("", "").objects.empty());

  auto versions = objects_->ListObjectVersions(ListVersionsInput{kAccount, "data", "", "", "", "", 1000});
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->versions.size(), 4u);  // marker, two, one, null
  EXPECT_TRUE(versions->versions[0].delete_marker);
  EXPECT_TRUE(versions->versions[0].is_latest);
  EXPECT_EQ(versions->versions[1].version_id, v2->version_id);
  EXPECT_EQ(versions->versions[3].version_id, "null");

  // Removing the marker brings the object back; removing a version is for good.
  auto removed = Delete("v", marker->version_id);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->delete_marker);
  EXPECT_EQ(Content("v"), "two");
  ASSERT_TRUE(Delete("v", v2->version_id).ok());
  EXPECT_EQ(Content("v"), "one");
  EXPECT_TRUE(Delete("v", v2->version_id).ok());  // again: still 204

  // Suspended: new writes and markers are the null version, replacing it.
  ASSERT_TRUE(s3_->buckets->SetVersioning(kAccount, "data", "Suspended").ok());
  ASSERT_TRUE(Put("v", "suspended").ok());
  EXPECT_EQ(Content("v", "null"), "suspended");
  EXPECT_EQ(Content("v", v1->version_id), "one");
  auto suspended_marker = Delete("v");
  ASSERT_TRUE(suspended_marker.ok());
  EXPECT_EQ(suspended_marker->version_id, "null");
  EXPECT_EQ(Content("v", "null"), "<MethodNotAllowed>");
}

TEST_F(S3ObjectsTest, VersionListingPagesAndPrefixes) {
  ASSERT_TRUE(s3_->buckets->SetVersioning(kAccount, "data", "Enabled").ok());
  for (const char* key : {"a", "b", "dir/x", "dir/y"})
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(Put(key, "x").ok());
  std::vector<std::string> seen;
  ListVersionsInput in{kAccount, "data", "", "/", "", "", 3};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = objects_->ListObjectVersions(in);
    ASSERT_TRUE(page.ok()) << page.status().message();
    for (const ObjectInfo& v : page->versions) seen.push_back(v.key);
    for (const std::string& p : page->common_prefixes) seen.push_back(p);
    if (!page->truncated) break;
    in.key_marker = page->next_key_marker;
    in.version_id_marker = page->next_version_id_marker;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "a", "b", "b", "dir/"}));
  in = ListVersionsInput{kAccount, "data", "", "", "a", "", 1000};
  auto after_a = objects_->ListObjectVersions(in);
  ASSERT_TRUE(after_a.ok());
  EXPECT_EQ(after_a->versions.size(), 6u);  // every version of every key after "a"
  in.version_id_marker = "v";
  EXPECT_EQ(objects_->ListObjectVersions(in).status().aws_code(), "InvalidArgument");
}

TEST_F(S3ObjectsTest, ListingsWithDelimitersMarkersAndPages) {
  for (const char* key : {"a.txt", "photos/2024/jan.jpg", "photos/2024/feb.jpg", "photos/2025/mar.jpg",
                          "photos/index.html", "videos/v.mp4", "z"})
    ASSERT_TRUE(Put(key, "x").ok());
  ObjectListing top = List("", "/");
  EXPECT_EQ(Keys(top), (std::vector<std::string>{"a.txt", "z"}));
  EXPECT_EQ(top.common_prefixes, (std::vector<std::string>{"photos/", "videos/"}));
  ObjectListing photos = List("photos/", "/");
  EXPECT_EQ(Keys(photos), (std::vector<std::string>{"photos/index.html"}));
  EXPECT_EQ(photos.common_prefixes, (std::vector<std::string>{"photos/2024/", "photos/2025/"}));
  EXPECT_EQ(List("photos/2024/", "").objects.size(), 2u);
  EXPECT_EQ(Keys(List("", "", "photos/2025/mar.jpg")),
            (std::vector<std::string>{"photos/index.html", "videos/v.mp4", "z"}));

  // One entry per page, prefixes counting as entries, resumed from `last`: nothing repeats.
  std::vector<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 20; ++pages) {
    ObjectListing page = List("", "/", after, 1);
    for (const ObjectInfo& o : page.objects) seen.push_back(o.key);
    for (const std::string& p : page.common_prefixes) seen.push_back(p);
    if (!page.truncated) break;
    after = page.last;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a.txt", "photos/", "videos/", "z"}));
  // A marker inside a prefix does not list the prefix again.
  EXPECT_EQ(List("", "/", "photos/2024/feb.jpg").common_prefixes, (std::vector<std::string>{"videos/"}));
  ObjectListing none = List("", "", "", 0);
  EXPECT_TRUE(none.objects.empty());
  EXPECT_FALSE(none.truncated);
  EXPECT_EQ(objects_->ListObjects(ListObjectsInput{kAccount, "data", "", "", "", 1001}).status().aws_code(),
            "InvalidArgument");
}

TEST_F(S3ObjectsTest, CopySharesTheBlobAndAppliesDirectives) {
  PutObjectInput in;
  in.metadata.content_type = "text/plain";
  in.metadata.user = {{"a", "1"}};
  in.tags = {{"t", "1"}};
  ASSERT_TRUE(Put("src", "payload", in).ok());
  CopyObjectInput copy;
  copy.requester = Me();
  copy.source_bucket = copy.bucket = "data";
  copy.source_key = "src";
  copy.key = "dst";
  auto copied = objects_->CopyObject(copy);
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  EXPECT_EQ(copied->object.etag, "321c3cf486ed509164edec1e1981fec8");  // MD5("payload")
  auto dst = Get("dst");
  ASSERT_TRUE(dst.ok());
  EXPECT_EQ(dst->object.metadata.user.at("a"), "1");
  EXPECT_EQ(dst->object.tags.size(), 1u);
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/blobs"), 1u);  // shared, not copied
  ASSERT_TRUE(Delete("src").ok());
  EXPECT_EQ(Content("dst"), "payload");  // the blob lives while a row refers to it

  // Onto itself without REPLACE is refused; with REPLACE it rewrites the metadata.
  copy.source_key = "dst";
  EXPECT_EQ(objects_->CopyObject(copy).status().aws_code(), "InvalidRequest");
  copy.replace_metadata = true;
  copy.metadata.content_type = "application/json";
  copy.replace_tags = true;
  ASSERT_TRUE(objects_->CopyObject(copy).ok());
  dst = Get("dst");
  EXPECT_EQ(dst->object.metadata.content_type, "application/json");
  EXPECT_TRUE(dst->object.metadata.user.empty());
  EXPECT_TRUE(dst->object.tags.empty());

  copy.source_key = "missing";
  EXPECT_EQ(objects_->CopyObject(copy).status().aws_code(), "NoSuchKey");
  copy.source_key = "dst";
  copy.source_conditions.if_match = "\"nope\"";
  EXPECT_EQ(objects_->CopyObject(copy).status().aws_code(), "PreconditionFailed");
}

TEST_F(S3ObjectsTest, DeleteObjectsReportsEachKey) {
  ASSERT_TRUE(Put("one", "1").ok());
  ASSERT_TRUE(Put("two", "2").ok());
  auto result = objects_->DeleteObjects(Me(), "data",
                                        {{"one", ""}, {"missing", ""}, {std::string(1025, 'k'), ""}, {"two", "bad id"}});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->size(), 4u);
  EXPECT_TRUE((*result)[0].error.ok());
  EXPECT_TRUE((*result)[1].error.ok());
  EXPECT_EQ((*result)[2].error.aws_code(), "KeyTooLongError");
  EXPECT_EQ((*result)[3].error.aws_code(), "InvalidArgument");
  EXPECT_EQ(Content("one"), "<NoSuchKey>");
  EXPECT_EQ(Content("two"), "2");
  std::vector<ObjectIdentifier> too_many(kMaxDeleteObjects + 1, ObjectIdentifier{"k", ""});
  EXPECT_EQ(objects_->DeleteObjects(Me(), "data", too_many).status().aws_code(), "MalformedXML");
}

TEST_F(S3ObjectsTest, TaggingReplacesTheLatestVersionsTags) {
  ASSERT_TRUE(Put("t", "x").ok());
  auto version = objects_->PutObjectTagging(Me(), "data", "t", "", {{"k", "v"}});
  ASSERT_TRUE(version.ok());
  auto tagged = objects_->GetObjectTagging(Me(), "data", "t", "");
  ASSERT_TRUE(tagged.ok());
  ASSERT_EQ(tagged->tags.size(), 1u);
  EXPECT_EQ(tagged->tags[0].first, "k");
  EXPECT_EQ(Content("t"), "x");
  EXPECT_EQ(objects_->PutObjectTagging(Me(), "data", "missing", "", {}).status().aws_code(), "NoSuchKey");
}

TEST_F(S3ObjectsTest, BucketWithObjectsCannotBeDeleted) {
  ASSERT_TRUE(Put("k", "x").ok());
  EXPECT_EQ(s3_->buckets->DeleteBucket(kAccount, "data").aws_code(), "BucketNotEmpty");
  ASSERT_TRUE(Delete("k").ok());
  EXPECT_TRUE(s3_->buckets->DeleteBucket(kAccount, "data").ok());
}

TEST_F(S3ObjectsTest, AnAbandonedUploadStoresNothingAndOrphansGoAtStartUp) {
  {
    auto body = objects_->NewBody();
    ASSERT_TRUE(body.ok());
    ASSERT_TRUE((*body)->Append(std::string(1 << 20, 'x')).ok());
    EXPECT_EQ(FilesUnder(dir_.path() + "/s3/tmp"), 1u);
  }  // dropped: the client's body failed its checksum, say
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/tmp"), 0u);
  EXPECT_EQ(Content("k"), "<NoSuchKey>");

  // A blob committed but never recorded (a crash between the two) is removed at the next start.
  ASSERT_TRUE(Put("kept", "x").ok());
  auto writer = s3_->blobs->Create();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("orphan").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/blobs"), 2u);
  Open();
  EXPECT_EQ(s3_->orphans_removed, 1u);
  EXPECT_EQ(FilesUnder(dir_.path() + "/s3/blobs"), 1u);
  EXPECT_EQ(Content("kept"), "x");
}

TEST_F(S3ObjectsTest, EventsGoToTheOutboxOnlyWhenTheBucketAsks) {
  ASSERT_TRUE(Put("quiet", "x").ok());
  auto none = store_->EventsAfter(0, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  objects_->set_event_bridge_check([](const Bucket& b) { return b.name == "data"; });
  ASSERT_TRUE(Put("training-data/new.jsonl", "hello").ok());
  ASSERT_TRUE(Delete("training-data/new.jsonl").ok());
  auto events = store_->EventsAfter(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  const store::OutboxEvent& created = (*events)[0];
  EXPECT_EQ(created.source, "aws.s3");
  EXPECT_EQ(created.detail_type, "Object Created");
  EXPECT_EQ(created.resources, std::vector<std::string>{"arn:aws:s3:::data"});
  EXPECT_EQ(created.detail["bucket"]["name"], "data");
  EXPECT_EQ(created.detail["object"]["key"], "training-data/new.jsonl");
  EXPECT_EQ(created.detail["object"]["size"], 5);
  EXPECT_EQ(created.detail["object"]["etag"], "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(created.detail["reason"], "PutObject");
  EXPECT_EQ(created.detail["requester"], kAccount);
  const store::OutboxEvent& deleted = (*events)[1];
  EXPECT_EQ(deleted.detail_type, "Object Deleted");
  EXPECT_EQ(deleted.detail["deletion-type"], "Permanently Deleted");
  EXPECT_EQ(deleted.detail["reason"], "DeleteObject");
}

TEST_F(S3ObjectsTest, AReadStartedBeforeAnOverwriteGetsTheOldBytesWhole) {
  // GetObject opens the version's blob before a later write can free it: a download that is
  // still streaming when the key is replaced (and the old blob removed) finishes with the old bytes.
  ASSERT_TRUE(Put("k", std::string(3000, 'o')).ok());
  auto read = Get("k");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(Put("k", std::string(10, 'n')).ok());
  EXPECT_EQ(Bytes(*read), std::string(3000, 'o'));
  EXPECT_EQ(Content("k"), std::string(10, 'n'));
}

}  // namespace
}  // namespace lathe::s3
