#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace hvnet::store {
namespace {

std::string temp_db() {
  auto p = std::filesystem::temp_directory_path() /
           ("hvnet-store-test-" + std::to_string(getpid()) + "-" + model::new_uuid() + ".db");
  return p.string();
}

TEST(SqliteStore, CommitsAndReloadsObjects) {
  std::string path = temp_db();
  {
    SqliteStore s;
    ASSERT_TRUE(s.open(path));
    model::Database db;
    model::Txn t(db);
    t.put("u1", model::Object{"network", {{"name_label", "a"}}});
    t.put("u2", model::Object{"VM", {{"name_label", "b"}}});
    ASSERT_TRUE(s.commit(t.changes()));
    model::Txn t2(db);
    t2.erase("u2");
    t2.put("u1", model::Object{"network", {{"name_label", "renamed"}}});
    ASSERT_TRUE(s.commit(t2.changes()));
  }
  SqliteStore s;
  ASSERT_TRUE(s.open(path));
  model::Database db;
  ASSERT_TRUE(s.load(db));
  ASSERT_EQ(db.all().size(), 1u);
  EXPECT_EQ(db.get("u1")->rec["name_label"], "renamed");
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}

TEST(SqliteStore, OpenFailureIsAnErrorValue) {
  SqliteStore s;
  auto st = s.open("/proc/hvnet-cannot-be-here/x.db");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "INTERNAL_ERROR");
}

}  // namespace
}  // namespace hvnet::store
