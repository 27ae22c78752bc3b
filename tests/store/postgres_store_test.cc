// What only a shared PostgreSQL store has to get right: hostile URLs, a server connection that
// dies mid-transaction, several nodes (connections) migrating, publishing and reading at once.
// The behaviour both databases share is the parameterised suite (store_backends.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "store/metadata_store.h"
#include "store/migrations.h"
#include "store/sql_db.h"
#include "store_backends.h"
#include "test_util.h"

namespace lathe::store {
namespace {

ResourceRow Row(const std::string& id) {
  ResourceRow r;
  r.kind = "job";
  r.id = r.name = id;
  r.arn = "arn:" + id;
  r.status = "InProgress";
  return r;
}

TEST(PostgresUrl, HostileUrlsAreRefusedAndPasswordsNeverEchoed) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("/var/lib/lathe/lathe.db"));
  EXPECT_FALSE(IsPostgresUrl("mysql://h/db"));
  auto too_long = MetadataStore::Open("postgresql://h/" + std::string(3000, 'd'));
  EXPECT_EQ(too_long.status().code(), Status::Code::kInvalidArgument);
  auto control = MetadataStore::Open("postgresql://h/db\n?host=/tmp");
  EXPECT_EQ(control.status().code(), Status::Code::kInvalidArgument);
  auto unknown = MetadataStore::Open("postgresql:///db?no_such_option=1");
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument) << unknown.status().ToString();
  // Nothing listens there: an error naming the URL, without its password.
  auto gone = MetadataStore::Open("postgresql://lathe:s3cret@/db?host=/nonexistent-lathe-dir&password=other");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().message().find("s3cret"), std::string::npos) << gone.status().message();
  EXPECT_EQ(gone.status().message().find("other"), std::string::npos) << gone.status().message();
  EXPECT_NE(gone.status().message().find("lathe:***@"), std::string::npos) << gone.status().message();
  // A password typed without percent-encoding, holding '@', '/' and ':': none of it is shown.
  EXPECT_EQ(RedactUrl("postgresql://lathe:p@ss/w:rd@db.internal:5432/lathe"), "postgresql://lathe:***@db.internal:5432/lathe");
  EXPECT_EQ(RedactUrl("postgresql://lathe@db/x"), "postgresql://lathe@db/x");  // no password: nothing hidden
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    url_ = FreshStoreLocation(Backend::kPostgres, dir_.path(), &why);
    if (url_.empty()) GTEST_SKIP() << why;
  }
  lathe::testing::TempDir dir_;
  std::string url_;
};

TEST_F(PostgresStoreTest, AConnectionKilledMidTransactionFailsItAndTheNextCallReconnects) {
  const std::string victim = "victim" + std::to_string(::getpid());
  auto store = MetadataStore::Open(url_ + "&application_name=" + victim);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto admin = OpenPostgresDb(url_);
  ASSERT_TRUE(admin.ok());
  // The listener runs inside the transaction, after the event's INSERT: the server drops the
  // connection right there, before the cursor is saved and the transaction commits.
  (*store)->set_publish_listener([&] {
    (void)(*admin)->RunScript("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = '" +
                              victim + "'");
  });
  WriteBatch batch;
  batch.inserts.push_back(Row("a"));
  batch.events.resize(1);
  batch.cursor = std::make_pair(std::string("consumer"), int64_t{5});
  Status s = (*store)->Write(batch);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  (*store)->set_publish_listener(nullptr);
  // Nothing of it committed; the store reconnects for the next call.
  EXPECT_EQ((*store)->Find("job", "a").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(*(*store)->Cursor("consumer"), 0);
  EXPECT_TRUE((*store)->EventsAfter(0, 10)->empty());
  EXPECT_TRUE((*store)->Insert(Row("b")).ok());
}

// A store across a network: dead peers are noticed (keepalives), and a stuck statement or idle
// transaction cannot hold locks forever; a URL's own settings still win.
TEST_F(PostgresStoreTest, ConnectionsCarryTimeoutsAndKeepalivesUnlessTheUrlSaysOtherwise) {
  auto raw = OpenPostgresDb(url_);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  SqlQuery q(**raw, "SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')");
  ASSERT_EQ(q.Step(), SqlQuery::kRow);
  EXPECT_EQ(q.Text(0), "10min");
  EXPECT_EQ(q.Text(1), "10min");
  auto own = OpenPostgresDb(url_ + "&options=-c%20statement_timeout%3D5s");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  SqlQuery mine(**own, "SELECT current_setting('statement_timeout')");
  ASSERT_EQ(mine.Step(), SqlQuery::kRow);
  EXPECT_EQ(mine.Text(0), "5s");
}

TEST_F(PostgresStoreTest, NodesStartingTogetherMigrateOnceAndANewerSchemaIsRefused) {
  std::vector<std::thread> nodes;
  std::atomic<int> failed{0};
  for (int i = 0; i < 3; ++i)
    nodes.emplace_back([&] {
      if (!MetadataStore::Open(url_).ok()) ++failed;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto raw = OpenPostgresDb(url_);
  ASSERT_TRUE(raw.ok());
  SqlQuery version(**raw, "SELECT version, (SELECT COUNT(*) FROM lathe_schema) FROM lathe_schema");
  ASSERT_EQ(version.Step(), SqlQuery::kRow);
  EXPECT_EQ(version.Int(0), LatheDbSchemaVersion());
  EXPECT_EQ(version.Int(1), 1);
  ASSERT_TRUE((*raw)->RunScript("UPDATE lathe_schema SET version = 999").ok());
  auto newer = MetadataStore::Open(url_);
  EXPECT_EQ(newer.status().code(), Status::Code::kUnsupported) << newer.status().ToString();
}

// Publishers on several connections commit in any order; a consumer reading with its cursor on
// yet another connection must still see every event exactly once (seq order is commit order).
TEST_F(PostgresStoreTest, EventsFromOtherNodesAreSeenByAConsumerWithoutGaps) {
  constexpr int kNodes = 3, kEach = 20;
  std::vector<std::unique_ptr<MetadataStore>> nodes;
  for (int i = 0; i <= kNodes; ++i) {
    auto s = MetadataStore::Open(url_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    nodes.push_back(std::move(*s));
  }
  MetadataStore* consumer = nodes.back().get();
  std::atomic<bool> done{false};
  std::set<std::string> seen;
  size_t duplicates = 0;
  std::thread reader([&] {
    int64_t cursor = 0;
    for (;;) {
      const bool last_round = done.load();
      auto events = consumer->EventsAfter(cursor, 50);
      if (!events.ok()) break;
      for (const OutboxEvent& e : *events) {
        if (!seen.insert(e.id).second) ++duplicates;
        cursor = e.seq;
      }
      if (last_round && events->empty()) break;
    }
  });
  std::vector<std::thread> writers;
  for (int n = 0; n < kNodes; ++n)
    writers.emplace_back([&, n] {
      for (int i = 0; i < kEach; ++i) {
        ResourceRow row = Row("n" + std::to_string(n) + "-" + std::to_string(i));
        OutboxEvent e;
        e.id = row.id;
        (void)nodes[static_cast<size_t>(n)]->InsertAndPublish(row, e);
      }
    });
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kNodes * kEach));
  EXPECT_EQ(duplicates, 0u);
}

}  // namespace
}  // namespace lathe::store
