#include "store/object_index.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "store_backends.h"
#include "test_util.h"

namespace lathe::store {
namespace {

using lathe::testing::TempDir;

// A blob id of the right shape, distinct per n.
std::string BlobId(int n) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032x", n);
  return buf;
}

ObjectVersion Version(const std::string& key, const std::string& version_id, int blob) {
  ObjectVersion v;
  v.bucket = "bkt";
  v.key = key;
  v.version_id = version_id;
  v.blob = BlobId(blob);
  v.size = static_cast<uint64_t>(blob);
  v.etag = "d41d8cd98f00b204e9800998ecf8427e";
  v.modified_ms = 1000 + blob;
  v.doc = {{"ContentType", "text/plain"}, {"n", blob}};
  return v;
}

ObjectVersion Marker(const std::string& key, const std::string& version_id) {
  ObjectVersion v;
  v.bucket = "bkt";
  v.key = key;
  v.version_id = version_id;
  v.delete_marker = true;
  return v;
}

OutboxEvent Event(const std::string& detail_type, const std::string& key) {
  OutboxEvent e;
  e.source = "aws.s3";
  e.detail_type = detail_type;
  e.detail = {{"bucket", {{"name", "bkt"}}}, {"object", {{"key", key}}}};
  return e;
}

std::vector<std::string> Keys(const std::vector<ObjectVersion>& vs) {
  std::vector<std::string> out;
  for (const auto& v : vs) out.push_back(v.key);
  return out;
}

// key/version_id[*] (* = latest, M = delete marker)
std::vector<std::string> Versions(const std::vector<ObjectVersion>& vs) {
  std::vector<std::string> out;
  for (const auto& v : vs)
    out.push_back(v.key + "/" + v.version_id + (v.is_latest ? "*" : "") + (v.delete_marker ? "M" : ""));
  return out;
}

class ObjectIndexTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    auto db = MetadataStore::Open(location());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto index = ObjectIndex::Open(db_.get());
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(*index);
  }
  void Put(const ObjectVersion& v, std::vector<std::string>* freed = nullptr) {
    Status s = index_->Put(v, nullptr, freed);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<std::string> LatestKeys(const std::string& prefix, const std::string& after = "", size_t limit = 1000) {
    auto r = index_->ListLatest("bkt", prefix, after, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Keys(*r) : std::vector<std::string>{};
  }
  std::vector<std::string> AllVersions(const std::string& prefix = "", const std::string& after_key = "",
                                       const std::string& after_version = "", size_t limit = 1000) {
    auto r = index_->ListVersions("bkt", prefix, after_key, after_version, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Versions(*r) : std::vector<std::string>{};
  }
  std::vector<OutboxEvent> Events() {
    auto r = db_->EventsAfter(0, 100);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<OutboxEvent>{};
  }

  std::unique_ptr<MetadataStore> db_;
  std::unique_ptr<ObjectIndex> index_;
};

TEST_P(ObjectIndexTest, PutGetAndReplaceTheNullVersion) {
  EXPECT_EQ(index_->Get("bkt", "a.txt", "").status().code(), Status::Code::kNotFound);
  std::vector<std::string> freed;
  Put(Version("a.txt", kNullVersionId, 1), &freed);
  EXPECT_TRUE(freed.empty());
  auto got = index_->Get("bkt", "a.txt", "");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->version_id, "null");
  EXPECT_TRUE(got->is_latest);
  EXPECT_FALSE(got->delete_marker);
  EXPECT_EQ(got->blob, BlobId(1));
  EXPECT_EQ(got->size, 1u);
  EXPECT_EQ(got->etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(got->modified_ms, 1001);
  EXPECT_EQ(got->doc["ContentType"], "text/plain");

  Put(Version("a.txt", kNullVersionId, 2), &freed);
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(1)});  // the replaced bytes are the caller's to remove
  EXPECT_EQ(index_->Get("bkt", "a.txt", "null")->blob, BlobId(2));
  EXPECT_EQ(AllVersions(), std::vector<std::string>{"a.txt/null*"});
  // Other buckets are other keys.
  EXPECT_EQ(index_->Get("other", "a.txt", "").status().code(), Status::Code::kNotFound);
}

TEST_P(ObjectIndexTest, RejectsVersionsWithoutTheirParts) {
  ObjectVersion v = Version("k", "v1", 1);
  v.blob = "../../etc/passwd";
  EXPECT_EQ(index_->Put(v, nullptr, nullptr).code(), Status::Code::kInvalidArgument);
  v = Version("", "v1", 1);
  EXPECT_EQ(index_->Put(v, nullptr, nullptr).code(), Status::Code::kInvalidArgument);
  v = Version("k", "", 1);
  EXPECT_EQ(index_->Put(v, nullptr, nullptr).code(), Status::Code::kInvalidArgument);
  v = Marker("k", "v1");
  v.blob = BlobId(3);
  EXPECT_EQ(index_->Put(v, nullptr, nullptr).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(*index_->BucketHasContents("bkt"), false);
}

TEST_P(ObjectIndexTest, VersionedPutsKeepOlderVersionsAndRemovingTheLatestPromotesTheNext) {
  Put(Version("k", "v1", 1));
  Put(Version("k", "v2", 2));
  Put(Version("k", "v3", 3));
  EXPECT_EQ(index_->Get("bkt", "k", "")->version_id, "v3");
  EXPECT_FALSE(index_->Get("bkt", "k", "v1")->is_latest);
  EXPECT_EQ(AllVersions(), (std::vector<std::string>{"k/v3*", "k/v2", "k/v1"}));

  std::vector<std::string> freed;
  ASSERT_TRUE(index_->Remove("bkt", "k", "v3", nullptr, &freed).ok());
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(3)});
  EXPECT_EQ(index_->Get("bkt", "k", "")->version_id, "v2");
  EXPECT_EQ(AllVersions(), (std::vector<std::string>{"k/v2*", "k/v1"}));

  // Removing an older version leaves the latest as it is.
  ASSERT_TRUE(index_->Remove("bkt", "k", "v1", nullptr, nullptr).ok());
  EXPECT_EQ(AllVersions(), (std::vector<std::string>{"k/v2*"}));
  EXPECT_EQ(index_->Remove("bkt", "k", "v1", nullptr, nullptr).code(), Status::Code::kNotFound);
  EXPECT_EQ(index_->Get("bkt", "k", "v1").status().code(), Status::Code::kNotFound);

  // "" removes the latest.
  ASSERT_TRUE(index_->Remove("bkt", "k", "", nullptr, nullptr).ok());
  EXPECT_TRUE(AllVersions().empty());
  EXPECT_EQ(index_->Remove("bkt", "k", "", nullptr, nullptr).code(), Status::Code::kNotFound);
}

TEST_P(ObjectIndexTest, SuspendedVersioningReplacesOnlyTheNullVersion) {
  Put(Version("k", kNullVersionId, 1));
  Put(Version("k", "v2", 2));
  std::vector<std::string> freed;
  Put(Version("k", kNullVersionId, 3), &freed);  // newest now, and the old null version is gone
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(1)});
  EXPECT_EQ(AllVersions(), (std::vector<std::string>{"k/null*", "k/v2"}));
}

TEST_P(ObjectIndexTest, DeleteMarkersHideAKeyFromListingButNotFromVersions) {
  Put(Version("a", "v1", 1));
  Put(Version("b", "v1", 2));
  std::vector<std::string> freed;
  Put(Marker("a", "m1"), &freed);
  EXPECT_TRUE(freed.empty());  // the old version keeps its bytes
  auto latest = index_->Get("bkt", "a", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_TRUE(latest->delete_marker);
  EXPECT_TRUE(latest->blob.empty());
  EXPECT_EQ(LatestKeys(""), std::vector<std::string>{"b"});
  EXPECT_EQ(AllVersions(), (std::vector<std::string>{"a/m1*M", "a/v1", "b/v1*"}));

  // Removing the marker brings the object back.
  ASSERT_TRUE(index_->Remove("bkt", "a", "m1", nullptr, &freed).ok());
  EXPECT_TRUE(freed.empty());
  EXPECT_EQ(LatestKeys(""), (std::vector<std::string>{"a", "b"}));
}

TEST_P(ObjectIndexTest, ListLatestOrdersKeysAsBytesAndTakesPrefixesLiterally) {
  // S3's order is UTF-8 binary: ' ' < '%' < '.' < '/' < digits < upper < '_' < lower < non-ASCII.
  const std::vector<std::string> keys = {
      "a b",  "a%c",         "a%d",      "a..",        "a.b",          "a//x", "a/..", "a/x",
      "aZ",   "a_",          "a_b",      "aa",         "ab",           "a\x7f",
      "a\xc3\xa9",           // é
      "a\xe2\x82\xac",       // €
      "a\xf0\x9f\x98\x80",   // 😀
      "b",    "%",           "_",        "..",         "//"};
  int n = 1;
  for (const auto& k : keys) Put(Version(k, kNullVersionId, n++));

  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());  // std::string compares bytes as unsigned
  EXPECT_EQ(LatestKeys(""), sorted);
  EXPECT_EQ(sorted.front(), "%");
  EXPECT_EQ(LatestKeys("", "", 3), (std::vector<std::string>{"%", "..", "//"}));

  // "%" and "_" are characters, not wildcards.
  EXPECT_EQ(LatestKeys("a%"), (std::vector<std::string>{"a%c", "a%d"}));
  EXPECT_EQ(LatestKeys("a_"), (std::vector<std::string>{"a_", "a_b"}));
  EXPECT_EQ(LatestKeys("_"), std::vector<std::string>{"_"});
  EXPECT_EQ(LatestKeys("a/"), (std::vector<std::string>{"a/..", "a//x", "a/x"}));  // '.' < '/'
  EXPECT_EQ(LatestKeys("a/."), std::vector<std::string>{"a/.."});
  EXPECT_EQ(LatestKeys("a\xc3"), std::vector<std::string>{"a\xc3\xa9"});
  EXPECT_EQ(LatestKeys("a\xf0\x9f"), std::vector<std::string>{"a\xf0\x9f\x98\x80"});
  EXPECT_TRUE(LatestKeys("zz").empty());
  EXPECT_TRUE(LatestKeys("a b c").empty());
  EXPECT_EQ(LatestKeys("a b"), std::vector<std::string>{"a b"});  // the prefix itself is a key

  // Paging with `after`: exclusive, inside or outside the prefix.
  EXPECT_EQ(LatestKeys("a/", "a/.."), (std::vector<std::string>{"a//x", "a/x"}));
  EXPECT_EQ(LatestKeys("a/", "a/.", 1), std::vector<std::string>{"a/.."});
  EXPECT_EQ(LatestKeys("a/", "a"), (std::vector<std::string>{"a/..", "a//x", "a/x"}));  // before the prefix
  EXPECT_TRUE(LatestKeys("a/", "a0").empty());                                      // past it
  std::vector<std::string> paged;
  std::string after;
  while (true) {
    auto page = LatestKeys("a", after, 4);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 4u);
    paged.insert(paged.end(), page.begin(), page.end());
    after = page.back();
  }
  std::vector<std::string> with_a;
  for (const auto& k : sorted)
    if (k[0] == 'a') with_a.push_back(k);
  EXPECT_EQ(paged, with_a);
  EXPECT_TRUE(LatestKeys("", "", 0).empty());
}

TEST_P(ObjectIndexTest, PrefixesEndingInHighBytesStillBoundTheRange) {
  // 0xFF never appears in UTF-8 but keys are bytes here: the successor of "a\xff" is "b".
  Put(Version("a\xfe", kNullVersionId, 1));
  Put(Version("a\xff", kNullVersionId, 2));
  Put(Version("a\xff\xff", kNullVersionId, 3));
  Put(Version("b", kNullVersionId, 4));
  Put(Version("\xff", kNullVersionId, 5));
  EXPECT_EQ(LatestKeys("a\xff"), (std::vector<std::string>{"a\xff", "a\xff\xff"}));
  EXPECT_EQ(LatestKeys("a\xfe"), std::vector<std::string>{"a\xfe"});
  EXPECT_EQ(LatestKeys("\xff"), std::vector<std::string>{"\xff"});  // no successor: unbounded above
}

TEST_P(ObjectIndexTest, ListVersionsByKeyThenNewestFirstWithMarkers) {
  Put(Version("a", "v1", 1));
  Put(Version("b", "v1", 2));
  Put(Version("a", "v2", 3));
  Put(Marker("b", "m1"));
  Put(Version("a", "v3", 4));
  Put(Version("c", "v1", 5));
  EXPECT_EQ(AllVersions(), (std::vector<std::string>{"a/v3*", "a/v2", "a/v1", "b/m1*M", "b/v1", "c/v1*"}));
  EXPECT_EQ(AllVersions("b"), (std::vector<std::string>{"b/m1*M", "b/v1"}));
  // After a version: the rest of its key, then the next keys.
  EXPECT_EQ(AllVersions("", "a", "v3", 3), (std::vector<std::string>{"a/v2", "a/v1", "b/m1*M"}));
  EXPECT_EQ(AllVersions("", "a", "v1"), (std::vector<std::string>{"b/m1*M", "b/v1", "c/v1*"}));
  // A key alone starts at its first version (key + "\0" starts after it).
  EXPECT_EQ(AllVersions("", "b", ""), (std::vector<std::string>{"b/m1*M", "b/v1", "c/v1*"}));
  EXPECT_EQ(AllVersions("", std::string("b\0", 2), ""), std::vector<std::string>{"c/v1*"});
  // A version marker that is gone: continue after its key.
  EXPECT_EQ(AllVersions("", "a", "gone"), (std::vector<std::string>{"b/m1*M", "b/v1", "c/v1*"}));
  // Markers outside the prefix.
  EXPECT_EQ(AllVersions("b", "a", "v2"), (std::vector<std::string>{"b/m1*M", "b/v1"}));
  EXPECT_TRUE(AllVersions("b", "c", "").empty());
  // Paging through everything, two at a time.
  std::vector<std::string> paged;
  std::string key, version;
  while (true) {
    auto r = index_->ListVersions("bkt", "", key, version, 2);
    ASSERT_TRUE(r.ok());
    if (r->empty()) break;
    for (const auto& v : Versions(*r)) paged.push_back(v);
    key = r->back().key;
    version = r->back().version_id;
  }
  EXPECT_EQ(paged, AllVersions());
}

TEST_P(ObjectIndexTest, BucketHasContentsCountsVersionsMarkersAndUploads) {
  EXPECT_FALSE(*index_->BucketHasContents("bkt"));
  Put(Marker("k", "m1"));
  EXPECT_TRUE(*index_->BucketHasContents("bkt"));
  EXPECT_FALSE(*index_->BucketHasContents("other"));
  ASSERT_TRUE(index_->Remove("bkt", "k", "m1", nullptr, nullptr).ok());
  EXPECT_FALSE(*index_->BucketHasContents("bkt"));
  MultipartUpload u;
  u.upload_id = "u1";
  u.bucket = "bkt";
  u.key = "big";
  ASSERT_TRUE(index_->CreateUpload(u).ok());
  EXPECT_TRUE(*index_->BucketHasContents("bkt"));
}

TEST_P(ObjectIndexTest, EventsArePublishedWithTheirChangeOrNotAtAll) {
  OutboxEvent created = Event("Object Created", "k");
  ASSERT_TRUE(index_->Put(Version("k", "v1", 1), &created, nullptr).ok());
  OutboxEvent deleted = Event("Object Deleted", "k");
  EXPECT_EQ(index_->Remove("bkt", "k", "nope", &deleted, nullptr).code(), Status::Code::kNotFound);
  ObjectVersion bad = Version("k", "v2", 2);
  bad.blob = "not a blob";
  EXPECT_FALSE(index_->Put(bad, &created, nullptr).ok());
  EXPECT_EQ(index_->CompleteUpload("gone", Version("k", "v3", 3), &created, nullptr).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(index_->Get("bkt", "k", "v3").status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(index_->Remove("bkt", "k", "v1", &deleted, nullptr).ok());

  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].source, "aws.s3");
  EXPECT_EQ(events[0].detail_type, "Object Created");
  EXPECT_EQ(events[0].detail["object"]["key"], "k");
  EXPECT_EQ(events[1].detail_type, "Object Deleted");
  EXPECT_LT(events[0].seq, events[1].seq);
}

TEST_P(ObjectIndexTest, UploadsAndParts) {
  MultipartUpload u;
  u.upload_id = "u1";
  u.bucket = "bkt";
  u.key = "big/file";
  u.initiated_ms = 5;
  u.doc = {{"ContentType", "application/octet-stream"}};
  ASSERT_TRUE(index_->CreateUpload(u).ok());
  EXPECT_EQ(index_->CreateUpload(u).code(), Status::Code::kAlreadyExists);
  auto got = index_->GetUpload("u1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key, "big/file");
  EXPECT_EQ(got->initiated_ms, 5);
  EXPECT_EQ(got->doc["ContentType"], "application/octet-stream");
  EXPECT_EQ(index_->GetUpload("u2").status().code(), Status::Code::kNotFound);

  auto part = [](int number, int blob) {
    UploadPart p;
    p.upload_id = "u1";
    p.part_number = number;
    p.blob = BlobId(blob);
    p.size = 5u << 20;
    p.etag = "0123456789abcdef0123456789abcdef";
    return p;
  };
  std::vector<std::string> freed;
  ASSERT_TRUE(index_->PutPart(part(2, 12), &freed).ok());
  ASSERT_TRUE(index_->PutPart(part(1, 11), &freed).ok());
  ASSERT_TRUE(index_->PutPart(part(3, 13), &freed).ok());
  EXPECT_TRUE(freed.empty());
  ASSERT_TRUE(index_->PutPart(part(2, 22), &freed).ok());  // uploaded again
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(12)});
  freed.clear();
  EXPECT_EQ(index_->PutPart(part(0, 30), nullptr).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(index_->PutPart(part(10001, 30), nullptr).code(), Status::Code::kInvalidArgument);
  UploadPart stray = part(1, 31);
  stray.upload_id = "gone";
  EXPECT_EQ(index_->PutPart(stray, nullptr).code(), Status::Code::kNotFound);

  auto parts = index_->ListParts("u1", 0, 1000);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].part_number, 1);
  EXPECT_EQ((*parts)[1].blob, BlobId(22));
  EXPECT_EQ((*parts)[2].size, 5u << 20);
  parts = index_->ListParts("u1", 1, 1);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].part_number, 2);
  EXPECT_EQ(index_->ListParts("gone", 0, 10).status().code(), Status::Code::kNotFound);

  auto live = index_->LiveBlobs();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, (std::set<std::string>{BlobId(11), BlobId(22), BlobId(13)}));

  // Completing: the object appears, the upload and its parts go, their blobs are freed.
  ObjectVersion whole = Version("big/file", kNullVersionId, 40);
  whole.etag = "0123456789abcdef0123456789abcdef-3";
  ObjectVersion wrong_key = whole;
  wrong_key.key = "elsewhere";
  EXPECT_EQ(index_->CompleteUpload("u1", wrong_key, nullptr, &freed).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(freed.empty());
  OutboxEvent created = Event("Object Created", "big/file");
  ASSERT_TRUE(index_->CompleteUpload("u1", whole, &created, &freed).ok());
  std::sort(freed.begin(), freed.end());
  EXPECT_EQ(freed, (std::vector<std::string>{BlobId(11), BlobId(13), BlobId(22)}));
  EXPECT_EQ(index_->Get("bkt", "big/file", "")->etag, "0123456789abcdef0123456789abcdef-3");
  EXPECT_EQ(index_->GetUpload("u1").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(index_->ListParts("u1", 0, 10).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(index_->CompleteUpload("u1", whole, nullptr, nullptr).code(), Status::Code::kNotFound);
  EXPECT_EQ(*index_->LiveBlobs(), std::set<std::string>{BlobId(40)});
  ASSERT_EQ(Events().size(), 1u);
}

TEST_P(ObjectIndexTest, AbortFreesThePartsAndCompletingReplacesAnObject) {
  Put(Version("k", kNullVersionId, 1));
  for (const char* id : {"u1", "u2"}) {
    MultipartUpload u;
    u.upload_id = id;
    u.bucket = "bkt";
    u.key = "k";
    ASSERT_TRUE(index_->CreateUpload(u).ok());
    UploadPart p;
    p.upload_id = id;
    p.part_number = 1;
    p.blob = BlobId(id == std::string("u1") ? 2 : 3);
    ASSERT_TRUE(index_->PutPart(p, nullptr).ok());
  }
  std::vector<std::string> freed;
  ASSERT_TRUE(index_->AbortUpload("u1", &freed).ok());
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(2)});
  EXPECT_EQ(index_->AbortUpload("u1", nullptr).code(), Status::Code::kNotFound);
  freed.clear();
  // The single part's blob becomes the object's: still referenced, so not freed; the old object's is.
  ObjectVersion whole = Version("k", kNullVersionId, 3);
  ASSERT_TRUE(index_->CompleteUpload("u2", whole, nullptr, &freed).ok());
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(1)});
  EXPECT_EQ(*index_->LiveBlobs(), std::set<std::string>{BlobId(3)});
  EXPECT_FALSE(*index_->BucketHasContents("other"));
}

TEST_P(ObjectIndexTest, ListUploadsByKeyThenInitiation) {
  auto create = [&](const std::string& id, const std::string& key, int64_t at) {
    MultipartUpload u;
    u.upload_id = id;
    u.bucket = "bkt";
    u.key = key;
    u.initiated_ms = at;
    ASSERT_TRUE(index_->CreateUpload(u).ok());
  };
  create("u3", "b", 1);
  create("u1", "a", 20);
  create("u2", "a", 10);
  create("u4", "a%", 5);
  create("u5", "c", 1);
  auto ids = [&](const std::string& prefix, const std::string& after_key, const std::string& after_id, size_t limit) {
    std::vector<std::string> out;
    auto r = index_->ListUploads("bkt", prefix, after_key, after_id, limit);
    EXPECT_TRUE(r.ok());
    if (r.ok())
      for (const auto& u : *r) out.push_back(u.upload_id);
    return out;
  };
  EXPECT_EQ(ids("", "", "", 100), (std::vector<std::string>{"u2", "u1", "u4", "u3", "u5"}));
  EXPECT_EQ(ids("a", "", "", 100), (std::vector<std::string>{"u2", "u1", "u4"}));
  EXPECT_EQ(ids("a%", "", "", 100), std::vector<std::string>{"u4"});
  EXPECT_EQ(ids("", "a", "u2", 2), (std::vector<std::string>{"u1", "u4"}));
  EXPECT_EQ(ids("", "a", "u1", 100), (std::vector<std::string>{"u4", "u3", "u5"}));
  EXPECT_EQ(ids("", "b", "", 100), (std::vector<std::string>{"u3", "u5"}));
  EXPECT_EQ(ids("", "", "", 0), std::vector<std::string>{});
  EXPECT_TRUE(index_->ListUploads("other", "", "", "", 100)->empty());
}

TEST_P(ObjectIndexTest, BlobsSharedByRowsAreFreedOnlyWithTheLastRow) {
  // A copy may share its source's blob: removing one row must not free bytes the other still has.
  ObjectVersion a = Version("a", kNullVersionId, 7), b = Version("b", kNullVersionId, 7);
  Put(a);
  Put(b);
  std::vector<std::string> freed;
  ASSERT_TRUE(index_->Remove("bkt", "a", "null", nullptr, &freed).ok());
  EXPECT_TRUE(freed.empty());
  ASSERT_TRUE(index_->Remove("bkt", "b", "null", nullptr, &freed).ok());
  EXPECT_EQ(freed, std::vector<std::string>{BlobId(7)});
}

TEST_P(ObjectIndexTest, RowsSurviveReopening) {
  Put(Version("k", "v1", 1));
  Put(Version("k", "v2", 2));
  index_.reset();
  db_.reset();
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  auto index = ObjectIndex::Open(db->get());
  ASSERT_TRUE(index.ok());
  auto r = (*index)->ListVersions("bkt", "", "", "", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Versions(*r), (std::vector<std::string>{"k/v2*", "k/v1"}));
  EXPECT_EQ((*r)[0].doc["n"], 2);
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
LATHE_ON_BOTH_STORES(ObjectIndexTest);
}  // namespace lathe::store
