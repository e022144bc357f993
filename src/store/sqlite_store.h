// SqliteStore: the embedded persistent store. One table of objects (uuid, class, JSON record);
// commit() writes a whole Txn in one SQLite transaction (WAL, synchronous=FULL), so a crash at
// any point leaves either the old or the new state. Errors come back as values, never thrown.
#pragma once

#include <sqlite3.h>

#include <string>

#include "model/database.h"
#include "model/result.h"

namespace hvnet::store {

class SqliteStore {
 public:
  SqliteStore() = default;
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status open(const std::string& path);
  Status load(model::Database& db);
  Status commit(const model::Txn::Changes& changes);

 private:
  Status exec(const char* sql);
  Error sql_error(const char* what) const;
  sqlite3* db_ = nullptr;
};

}  // namespace hvnet::store
