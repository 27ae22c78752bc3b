// The store suite runs on both databases (sql_db.h): each test of a StoreBackendTest fixture gets
// a fresh, empty store location for its parameter — a file in a temporary folder for SQLite, a
// new schema on the test server for PostgreSQL (ctest starts one with scripts/pg-test-server.sh
// and passes its URL in LATHE_TEST_PG_URL). Without a server the PostgreSQL variants skip, saying
// why.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "test_util.h"

namespace lathe::store {

enum class Backend { kSqlite, kPostgres };

// "Sqlite" / "Postgres", for test names.
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);
// The same in messages and in ctest's test names (gtest would print the enum's bytes).
inline void PrintTo(Backend b, std::ostream* os) { *os << (b == Backend::kSqlite ? "Sqlite" : "Postgres"); }

// A location (path or URL) of a new empty store on `backend`, or "" with *skip_reason set.
// Opening it again reaches the same data.
std::string FreshStoreLocation(Backend backend, const std::string& temp_dir, std::string* skip_reason);

class StoreBackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string why;
    location_ = FreshStoreLocation(GetParam(), dir_.path(), &why);
    if (location_.empty()) GTEST_SKIP() << why;
  }
  // Where the store lives: pass it to MetadataStore::Open (again, to reopen).
  const std::string& location() const { return location_; }
  lathe::testing::TempDir dir_;

 private:
  std::string location_;
};

}  // namespace lathe::store

#define LATHE_ON_BOTH_STORES(Suite)                                                                 \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                         \
                           ::testing::Values(::lathe::store::Backend::kSqlite,                      \
                                             ::lathe::store::Backend::kPostgres),                   \
                           ::lathe::store::BackendName)
