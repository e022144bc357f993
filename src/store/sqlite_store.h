// SqliteStore: the embedded persistent Store of a standalone host. Tables: objects (uuid, class,
// JSON record, revision), a change log (generation, uuid) of the last kLogGenerations commits
// (deleted objects leave a tombstone there), and meta (the generation). commit() writes a whole
// Txn in one SQLite transaction (WAL, synchronous=FULL), so a crash at any point leaves either the
// old or the new state, generation included. Errors come back as values, never thrown.
#pragma once

#include <sqlite3.h>

#include <string>

#include "store/store.h"

namespace hvnet::store {

class SqliteStore final : public Store {
 public:
  // How many generations the change log keeps: events older than that are "lost" (resync).
  static constexpr uint64_t kLogGenerations = 100000;

  SqliteStore() = default;
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status open(const std::string& path);
  Status load(model::Database& db) override;
  Result<Commit> commit(const model::Txn::Changes& changes, const Revisions& read) override;
  Result<std::optional<std::vector<Change>>> changes_since(uint64_t since) override;
  uint64_t generation() const override { return generation_; }

 private:
  Status exec(const char* sql);
  Error sql_error(const char* what) const;
  Result<Commit> commit_in_txn(const model::Txn::Changes& changes, const Revisions& read);
  sqlite3* db_ = nullptr;
  uint64_t generation_ = 0;
};

}  // namespace hvnet::store
