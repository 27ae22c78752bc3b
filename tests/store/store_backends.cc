#include "store_backends.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "store/sql_db.h"

namespace lathe::store {

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

namespace {
bool PostgresInstalled() {
  std::error_code ec;
  return std::filesystem::exists("/usr/lib/postgresql/15/bin/initdb", ec) ||
         std::filesystem::exists("/usr/local/bin/initdb", ec);
}
}  // namespace

std::string FreshStoreLocation(Backend backend, const std::string& temp_dir, std::string* skip_reason) {
  if (backend == Backend::kSqlite) return temp_dir + "/lathe.db";
  const char* url = std::getenv("LATHE_TEST_PG_URL");
  if (!url || !*url) {
    *skip_reason = "no PostgreSQL test server: LATHE_TEST_PG_URL is unset (ctest sets it; by hand, run "
                   "scripts/pg-test-server.sh start DIR and export the URL it prints)";
    return "";
  }
  auto admin = OpenPostgresDb(url);
  if (!admin.ok()) {
    if (!PostgresInstalled()) {
      *skip_reason = "PostgreSQL 15 is not installed (initdb not found): " + admin.status().message();
      return "";
    }
    ADD_FAILURE() << "the PostgreSQL test server at " << url << " is unreachable: " << admin.status().ToString();
    *skip_reason = "unreachable test server";
    return "";
  }
  // One schema per test: tests run in parallel on one server and each starts empty.
  static std::atomic<int> counter{0};
  const std::string schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  Status made = (*admin)->RunScript("CREATE SCHEMA " + schema);
  if (!made.ok()) {
    ADD_FAILURE() << "cannot make a schema for the test: " << made.ToString();
    *skip_reason = "no schema";
    return "";
  }
  return std::string(url) + "&options=-csearch_path%3D" + schema;
}

}  // namespace lathe::store
