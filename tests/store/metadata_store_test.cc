#include "store/metadata_store.h"

#include <gtest/gtest.h>

#include "store_backends.h"
#include "test_util.h"

namespace lathe::store {
namespace {

class MetadataStoreTest : public StoreBackendTest {};

using lathe::testing::TempDir;

ResourceRow Job(const std::string& id, const std::string& name, int64_t created) {
  ResourceRow r;
  r.kind = "job";
  r.id = id;
  r.name = name;
  r.arn = "arn:aws:bedrock:us-east-1:000000000000:model-customization-job/" + id;
  r.status = "InProgress";
  r.created_ms = created;
  r.doc = {{"hyperParameters", {{"epochCount", "2"}}}};
  return r;
}

TEST_P(MetadataStoreTest, RowsSurviveReopeningAndAreFoundByIdNameOrArn) {
  const std::string path = location();
  {
    auto db = MetadataStore::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Insert(Job("b2", "second", 20)).ok());
    ASSERT_TRUE((*db)->Insert(Job("a1", "first", 10)).ok());
  }
  auto db = MetadataStore::Open(path);
  ASSERT_TRUE(db.ok());
  for (const std::string key : {"a1", "first", "arn:aws:bedrock:us-east-1:000000000000:model-customization-job/a1"}) {
    auto r = (*db)->Find("job", key);
    ASSERT_TRUE(r.ok()) << key;
    EXPECT_EQ(r->id, "a1");
    EXPECT_EQ(r->doc["hyperParameters"]["epochCount"], "2");
  }
  EXPECT_EQ((*db)->Find("job", "nope").status().code(), Status::Code::kNotFound);
  EXPECT_EQ((*db)->Find("custom-model", "a1").status().code(), Status::Code::kNotFound);
  auto all = (*db)->List("job");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "first");  // oldest first
}

TEST_P(MetadataStoreTest, NamesAreUniquePerKindAndUpdatesAndDeletesApply) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Insert(Job("a1", "same", 1)).ok());
  Status dup = (*db)->Insert(Job("a2", "same", 2));
  EXPECT_EQ(dup.code(), Status::Code::kAlreadyExists);
  EXPECT_NE(dup.message().find("same"), std::string::npos);
  ResourceRow other = Job("a2", "same", 2);
  other.kind = "custom-model";
  EXPECT_TRUE((*db)->Insert(other).ok());

  ResourceRow changed = Job("a1", "same", 1);
  changed.status = "Completed";
  changed.doc["outputModelArn"] = "x";
  ASSERT_TRUE((*db)->Update(changed).ok());
  EXPECT_EQ((*db)->Find("job", "a1")->status, "Completed");
  EXPECT_EQ((*db)->Find("job", "a1")->doc["outputModelArn"], "x");
  ASSERT_TRUE((*db)->Delete("job", "a1").ok());
  EXPECT_EQ((*db)->Find("job", "a1").status().code(), Status::Code::kNotFound);
  EXPECT_EQ((*db)->Update(changed).code(), Status::Code::kNotFound);
}

TEST_P(MetadataStoreTest, TagsAndIdempotencyTokens) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->SetTags("arn:x", {{"team", "ml"}, {"env", "dev"}}).ok());
  ASSERT_TRUE((*db)->SetTags("arn:x", {{"env", "prod"}}).ok());
  ASSERT_TRUE((*db)->RemoveTags("arn:x", {"team", "absent"}).ok());
  auto tags = (*db)->Tags("arn:x");
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, (std::map<std::string, std::string>{{"env", "prod"}}));
  EXPECT_TRUE((*db)->Tags("arn:y")->empty());

  EXPECT_EQ(*(*db)->RememberToken("job", "tok", "first"), "first");
  EXPECT_EQ(*(*db)->RememberToken("job", "tok", "second"), "first");
  EXPECT_EQ(*(*db)->RememberToken("model", "tok", "third"), "third");
}

TEST_P(MetadataStoreTest, UpdateIfWritesOnlyFromTheExpectedStatusAndSurvivesInvalidUtf8) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Insert(Job("a1", "one", 1)).ok());
  ResourceRow stopping = Job("a1", "one", 1);
  stopping.status = "Stopping";
  ASSERT_TRUE((*db)->UpdateIf(stopping, "InProgress").ok());
  ResourceRow late = Job("a1", "one", 1);
  late.status = "Completed";
  Status s = (*db)->UpdateIf(late, "InProgress");  // the row moved on: the stale writer loses
  EXPECT_EQ(s.code(), Status::Code::kConflict);
  EXPECT_NE(s.message().find("is Stopping"), std::string::npos) << s.message();
  EXPECT_EQ((*db)->Find("job", "a1")->status, "Stopping");
  ResourceRow gone = Job("zz", "none", 1);
  EXPECT_EQ((*db)->UpdateIf(gone, "InProgress").code(), Status::Code::kNotFound);

  ResourceRow odd = Job("a1", "one", 1);
  odd.doc["failureMessage"] = std::string("bad byte \xff in a log line");
  ASSERT_TRUE((*db)->Update(odd).ok());
  EXPECT_NE((*db)->Find("job", "a1")->doc["failureMessage"].get<std::string>().find("bad byte"), std::string::npos);
}

TEST(MetadataStore, AnUnwritableLocationIsAnErrorNamingThePath) {
  auto db = MetadataStore::Open("/nonexistent-dir/sub/lathe.db");
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("/nonexistent-dir/sub/lathe.db"), std::string::npos);
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
namespace {

TEST_P(MetadataStoreTest, InsertAllWritesEveryRowOrNone) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->InsertAll({Job("a", "a", 1), Job("b", "b", 2)}).ok());
  // "c" is new but "a" exists: the whole batch is refused and "c" is not written.
  EXPECT_FALSE((*db)->InsertAll({Job("c", "c", 3), Job("a", "a", 4)}).ok());
  EXPECT_FALSE((*db)->Find("job", "c").ok());
  EXPECT_EQ((*db)->List("job")->size(), 2u);
}

TEST_P(MetadataStoreTest, CountFindsWhatListWouldWithoutPaging) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  ResourceRow done = Job("c", "c", 3);
  done.status = "Completed";
  done.doc["region"] = "eu-west-1";
  ASSERT_TRUE((*db)->InsertAll({Job("a", "a", 1), Job("b", "b", 2), done}).ok());
  EXPECT_EQ(*(*db)->Count("job", {}), 3u);
  EXPECT_EQ(*(*db)->Count("other", {}), 0u);
  MetadataStore::ListFilter f;
  f.statuses = {"InProgress"};
  f.limit = 1;  // paging is ignored: the count is of every match
  EXPECT_EQ(*(*db)->Count("job", f), 2u);
  MetadataStore::ListFilter by_doc;
  by_doc.doc_equals = {{"region", "eu-west-1"}};
  EXPECT_EQ(*(*db)->Count("job", by_doc), 1u);
  by_doc.created_before = 3;
  EXPECT_EQ(*(*db)->Count("job", by_doc), 0u);
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
LATHE_ON_BOTH_STORES(MetadataStoreTest);
}  // namespace lathe::store

namespace lathe::store {
namespace {

class MetadataListTest : public StoreBackendTest {};

// Filtering, ordering and paging happen in SQL: the same answers from both databases.
TEST_P(MetadataListTest, FiltersOrderAndPagesAlike) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  std::vector<ResourceRow> rows;
  for (int i = 0; i < 6; ++i) {
    ResourceRow r = Job("id" + std::to_string(i), i % 2 ? "tuning-run-" + std::to_string(i) : "other-" + std::to_string(i),
                        100 + i / 2);  // two rows per creation time: the id breaks the tie
    r.doc["team"] = i < 3 ? "ml" : "ops";
    rows.push_back(r);
  }
  ASSERT_TRUE((*db)->InsertAll(rows).ok());
  auto ids = [](const Result<std::vector<ResourceRow>>& r) {
    std::vector<std::string> out;
    if (r.ok())
      for (const auto& row : *r) out.push_back(row.id);
    return out;
  };
  MetadataStore::ListFilter f;
  f.descending = true;
  f.offset = 1;
  f.limit = 3;
  EXPECT_EQ(ids((*db)->List("job", f)), (std::vector<std::string>{"id4", "id3", "id2"}));
  f = {};
  f.offset = 4;  // an offset without a limit
  EXPECT_EQ(ids((*db)->List("job", f)), (std::vector<std::string>{"id4", "id5"}));
  f = {};
  f.name_contains = "tuning-run";
  f.doc_equals = {{"team", "ml"}};
  EXPECT_EQ(ids((*db)->List("job", f)), (std::vector<std::string>{"id1"}));
  f = {};
  f.created_after = 100;
  f.created_before = 102;
  EXPECT_EQ(ids((*db)->List("job", f)), (std::vector<std::string>{"id2", "id3"}));
  f = {};
  f.name_contains = "%' OR '1'='1";  // data, never SQL; no LIKE wildcards either
  EXPECT_TRUE((*db)->List("job", f)->empty());
  f = {};
  f.doc_equals = {{"te\"am", "ml"}};  // a hostile document key matches nothing
  EXPECT_TRUE((*db)->List("job", f)->empty());
}

}  // namespace

LATHE_ON_BOTH_STORES(MetadataListTest);

}  // namespace lathe::store
