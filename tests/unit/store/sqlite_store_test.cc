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
    ASSERT_TRUE(s.commit(t.changes(), {}));
    model::Txn t2(db);
    t2.erase("u2");
    t2.put("u1", model::Object{"network", {{"name_label", "renamed"}}});
    ASSERT_TRUE(s.commit(t2.changes(), {}));
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

void remove_db(const std::string& path) {
  for (auto s : {"", "-wal", "-shm"}) std::filesystem::remove(path + s);
}

TEST(SqliteStore, GenerationsPersistAndChangesSinceCollapsePerObject) {
  std::string path = temp_db();
  {
    SqliteStore s;
    ASSERT_TRUE(s.open(path));
    EXPECT_EQ(s.generation(), 0u);
    model::Database db;
    model::Txn t(db);
    t.put("a", model::Object{"network", {{"name_label", "a"}}});
    t.put("b", model::Object{"network", {{"name_label", "b"}}});
    auto c1 = s.commit(t.changes(), {});
    ASSERT_TRUE(c1);
    EXPECT_EQ(c1->generation, 1u);
    ASSERT_EQ(c1->changes.size(), 2u);
    EXPECT_EQ(c1->changes[0].op, Op::kAdd);
    model::Txn t2(db);
    t2.put("a", model::Object{"network", {{"name_label", "a2"}}});
    auto c2 = s.commit(t2.changes(), {});
    ASSERT_TRUE(c2);
    EXPECT_EQ(c2->changes[0].op, Op::kMod);
    model::Txn t3(db);
    t3.erase("b");
    t3.erase("never-stored");  // deleting what does not exist changes nothing
    auto c3 = s.commit(t3.changes(), {});
    ASSERT_TRUE(c3);
    ASSERT_EQ(c3->changes.size(), 1u);
    EXPECT_EQ(c3->changes[0].op, Op::kDel);
    EXPECT_EQ(c3->changes[0].cls, "network");
    EXPECT_EQ(c3->generation, 3u);
  }
  SqliteStore s;  // after a restart: the same history
  ASSERT_TRUE(s.open(path));
  EXPECT_EQ(s.generation(), 3u);
  model::Database db;
  ASSERT_TRUE(s.load(db));
  EXPECT_EQ(db.generation(), 3u);
  EXPECT_EQ(db.get("a")->rev, 2u);
  auto all = s.changes_since(0);
  ASSERT_TRUE(all && all->has_value());
  ASSERT_EQ((*all)->size(), 2u);  // a (added since 0, so "add" with its latest record), b deleted
  EXPECT_EQ((**all)[0].uuid, "a");
  EXPECT_EQ((**all)[0].op, Op::kAdd);
  EXPECT_EQ((**all)[0].record["name_label"], "a2");
  EXPECT_EQ((**all)[1].op, Op::kDel);
  auto since1 = s.changes_since(1);
  ASSERT_TRUE(since1 && since1->has_value());
  EXPECT_EQ((**since1)[0].op, Op::kMod);
  auto since3 = s.changes_since(3);
  ASSERT_TRUE(since3 && since3->has_value());
  EXPECT_TRUE((*since3)->empty());
  auto future = s.changes_since(99);  // a token of another history: lost, never a silent gap
  ASSERT_TRUE(future);
  EXPECT_FALSE(future->has_value());
  remove_db(path);
}

TEST(SqliteStore, RefusesAWriteWhoseReadsChangedMeanwhile) {
  std::string path = temp_db();
  SqliteStore s;
  ASSERT_TRUE(s.open(path));
  model::Database db;
  model::Txn t(db);
  t.put("a", model::Object{"network", {{"name_label", "a"}}});
  ASSERT_TRUE(s.commit(t.changes(), {}));
  // A writer that saw "a" at revision 1 commits; one that saw it absent (revision 0) conflicts.
  model::Txn w(db);
  w.put("a", model::Object{"network", {{"name_label", "x"}}});
  EXPECT_TRUE(s.commit(w.changes(), {{"a", 1}}));
  auto stale = s.commit(w.changes(), {{"a", 1}});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, kStoreConflict);
  EXPECT_EQ(stale.error().params, std::vector<std::string>{"a"});
  EXPECT_EQ(s.generation(), 2u);  // the refused write left no generation behind
  remove_db(path);
}

TEST(SqliteStore, OpenFailureIsAnErrorValue) {
  SqliteStore s;
  auto st = s.open("/proc/hvnet-cannot-be-here/x.db");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "INTERNAL_ERROR");
}

}  // namespace
}  // namespace hvnet::store
