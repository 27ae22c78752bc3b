#include <gtest/gtest.h>

#include <filesystem>

#include "store/metadata_store.h"
#include "store_backends.h"
#include "test_util.h"

namespace lathe::store {
namespace {

class EventOutboxTest : public StoreBackendTest {};

ResourceRow Job(const std::string& id, const std::string& status) {
  ResourceRow r;
  r.kind = "job";
  r.id = id;
  r.name = "name-" + id;
  r.arn = "arn:aws:bedrock:ap-south-1:123456789012:model-customization-job/x/" + id;
  r.status = status;
  r.created_ms = 1;
  return r;
}

OutboxEvent Changed(const ResourceRow& r) {
  OutboxEvent e;
  e.source = "aws.bedrock";
  e.detail_type = "Model Customization Job State Change";
  e.account = "123456789012";
  e.region = "ap-south-1";
  e.resources = {r.arn};
  e.detail = {{"jobStatus", r.status}, {"jobArn", r.arn}};
  e.time_ms = 5;
  return e;
}

TEST_P(EventOutboxTest, EventsArePublishedWithTheirStateChangeAndSurviveReopening) {
  const std::string path = location();
  {
    auto db = MetadataStore::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ResourceRow job = Job("a", "InProgress");
    ASSERT_TRUE((*db)->InsertAndPublish(job, Changed(job)).ok());
    job.status = "Completed";
    ASSERT_TRUE((*db)->UpdateAndPublish(job, Changed(job)).ok());
    // A failed state change publishes nothing: the row does not exist.
    ResourceRow ghost = Job("ghost", "Failed");
    EXPECT_FALSE((*db)->UpdateAndPublish(ghost, Changed(ghost)).ok());
    // Nor does an insert that collides.
    EXPECT_FALSE((*db)->InsertAndPublish(Job("a", "InProgress"), Changed(ghost)).ok());
  }
  auto db = MetadataStore::Open(path);
  ASSERT_TRUE(db.ok());
  auto events = (*db)->EventsAfter(0, 100);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].detail["jobStatus"], "InProgress");
  EXPECT_EQ((*events)[1].detail["jobStatus"], "Completed");
  EXPECT_LT((*events)[0].seq, (*events)[1].seq);
  EXPECT_EQ((*events)[1].source, "aws.bedrock");
  EXPECT_EQ((*events)[1].region, "ap-south-1");
  ASSERT_EQ((*events)[1].resources.size(), 1u);
  auto row = (*db)->Find("job", "a");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "Completed");
}

TEST_P(EventOutboxTest, ConsumersResumeFromTheirCursor) {
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  for (int i = 0; i < 5; ++i) {
    ResourceRow job = Job(std::to_string(i), "InProgress");
    ASSERT_TRUE((*db)->InsertAndPublish(job, Changed(job)).ok());
  }
  auto cursor = (*db)->Cursor("events");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, 0);
  auto first = (*db)->EventsAfter(*cursor, 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  ASSERT_TRUE((*db)->SetCursor("events", first->back().seq).ok());
  auto rest = (*db)->EventsAfter(*(*db)->Cursor("events"), 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ(rest->front().seq, first->back().seq + 1);
  EXPECT_EQ(*(*db)->Cursor("other"), 0);  // cursors are per consumer
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
namespace {

TEST_P(EventOutboxTest, RowsEventsAndTheCursorCommitTogetherOrNotAtAll) {
  auto store = MetadataStore::Open(location());
  ASSERT_TRUE(store.ok());
  ResourceRow row;
  row.kind = "k";
  row.id = row.name = row.arn = "a";
  row.status = "s";
  OutboxEvent event;
  event.source = "my.app";
  event.id = "event-1";
  event.event_bus = "pipeline";
  WriteBatch batch;
  batch.inserts.push_back(row);
  batch.events.push_back(event);
  batch.cursor = std::make_pair(std::string("consumer"), int64_t{7});
  ASSERT_TRUE((*store)->Write(batch).ok());
  EXPECT_TRUE((*store)->Find("k", "a").ok());
  EXPECT_EQ(*(*store)->Cursor("consumer"), 7);
  auto events = (*store)->EventsAfter(0, 10);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].id, "event-1");
  EXPECT_EQ((*events)[0].event_bus, "pipeline");
  // A failing insert (the name is taken) rolls back the event and the cursor with it.
  WriteBatch again = batch;
  again.cursor = std::make_pair(std::string("consumer"), int64_t{9});
  EXPECT_FALSE((*store)->Write(again).ok());
  EXPECT_EQ(*(*store)->Cursor("consumer"), 7);
  EXPECT_EQ((*store)->EventsAfter(0, 10)->size(), 1u);
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
namespace {

TEST_P(EventOutboxTest, EveryPublishedEventCallsTheListenerAndNothingElseDoes) {
  auto store = MetadataStore::Open(location());
  ASSERT_TRUE(store.ok());
  int calls = 0;
  (*store)->set_publish_listener([&calls] { ++calls; });
  ResourceRow row;
  row.kind = "k";
  row.id = row.name = row.arn = "a";
  row.status = "s";
  ASSERT_TRUE((*store)->Insert(row).ok());
  EXPECT_EQ(calls, 0);
  WriteBatch batch;
  batch.events.resize(2);
  ASSERT_TRUE((*store)->Write(batch).ok());
  EXPECT_EQ(calls, 2);
  row.status = "t";
  ASSERT_TRUE((*store)->UpdateAndPublish(row, OutboxEvent{}).ok());
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
namespace {

// A batch's expects are a compare-and-swap: a stale revision refuses every change in it,
// tags included.
TEST_P(EventOutboxTest, AFailedExpectRefusesTheWholeBatchAndTagsCommitWithIt) {
  auto store = MetadataStore::Open(location());
  ASSERT_TRUE(store.ok());
  ResourceRow row;
  row.kind = "k";
  row.id = row.name = row.arn = "a";
  row.status = "s";
  ASSERT_TRUE((*store)->Insert(row).ok());  // no revision yet: reads as null
  ResourceRow next = row;
  next.doc["revision"] = 1;
  WriteBatch first;
  first.expects.push_back({"k", "a", "revision", nullptr});
  first.updates.push_back(next);
  first.tags.push_back({"arn:x", {{"team", "a"}}});
  ASSERT_TRUE((*store)->Write(first).ok());
  EXPECT_EQ((*store)->Tags("arn:x")->at("team"), "a");
  // A second writer that read the row before the first wrote it expects null: refused.
  WriteBatch stale;
  stale.expects.push_back({"k", "a", "revision", nullptr});
  ResourceRow other = row;
  other.id = other.name = "b";
  stale.inserts.push_back(other);
  stale.tags.push_back({"arn:x", {{"team", "b"}}});
  Status s = (*store)->Write(stale);
  EXPECT_EQ(s.code(), Status::Code::kConflict) << s.ToString();
  EXPECT_FALSE((*store)->Find("k", "b").ok());
  EXPECT_EQ((*store)->Tags("arn:x")->at("team"), "a");
  // An expect on a row that is gone is NotFound.
  WriteBatch gone;
  gone.expects.push_back({"k", "missing", "revision", 1});
  EXPECT_EQ((*store)->Write(gone).code(), Status::Code::kNotFound);
  WriteBatch fresh;
  fresh.expects.push_back({"k", "a", "revision", 1});
  EXPECT_TRUE((*store)->Write(fresh).ok());
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
LATHE_ON_BOTH_STORES(EventOutboxTest);
}  // namespace lathe::store
