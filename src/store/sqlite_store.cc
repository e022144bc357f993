#include "store/sqlite_store.h"

#include <filesystem>

namespace hvnet::store {

SqliteStore::~SqliteStore() {
  if (db_) sqlite3_close(db_);
}

Error SqliteStore::sql_error(const char* what) const {
  return make_error("INTERNAL_ERROR", {std::string("database ") + what + ": " +
                                       (db_ ? sqlite3_errmsg(db_) : "not open")});
}

Status SqliteStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "";
    sqlite3_free(msg);
    return make_error("INTERNAL_ERROR", {std::string("database: ") + m});
  }
  return ok_status();
}

Status SqliteStore::open(const std::string& path) {
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) return sql_error("open");
  sqlite3_busy_timeout(db_, 5000);
  if (auto st = exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !st) return st;
  return exec(
      "CREATE TABLE IF NOT EXISTS objects ("
      " uuid TEXT PRIMARY KEY, class TEXT NOT NULL, record TEXT NOT NULL)");
}

Status SqliteStore::load(model::Database& db) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT uuid, class, record FROM objects", -1, &st, nullptr) !=
      SQLITE_OK)
    return sql_error("load");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::string uuid = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    std::string cls = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    auto rec = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)),
                                     nullptr, false);
    if (rec.is_discarded()) {
      sqlite3_finalize(st);
      return make_error("INTERNAL_ERROR", {"database: corrupt record " + uuid});
    }
    db.put(uuid, model::Object{cls, rec});
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? ok_status() : Status(sql_error("load"));
}

Status SqliteStore::commit(const model::Txn::Changes& changes) {
  if (changes.empty()) return ok_status();
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  sqlite3_stmt* up = nullptr;
  sqlite3_stmt* del = nullptr;
  bool ok = sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO objects VALUES (?1, ?2, ?3)", -1, &up,
                               nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db_, "DELETE FROM objects WHERE uuid = ?1", -1, &del, nullptr) ==
                SQLITE_OK;
  for (auto it = changes.begin(); ok && it != changes.end(); ++it) {
    const auto& [uuid, obj] = *it;
    if (obj) {
      std::string rec;
      try {
        rec = obj->rec.dump();
      } catch (const std::exception& e) {  // not UTF-8: refused before it reaches the file
        sqlite3_finalize(up);
        sqlite3_finalize(del);
        exec("ROLLBACK");
        return make_error("INTERNAL_ERROR", {"record " + uuid + " not stored: " + e.what()});
      }
      sqlite3_bind_text(up, 1, uuid.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(up, 2, obj->cls.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(up, 3, rec.c_str(), -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(up) == SQLITE_DONE;
      sqlite3_reset(up);
    } else {
      sqlite3_bind_text(del, 1, uuid.c_str(), -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(del) == SQLITE_DONE;
      sqlite3_reset(del);
    }
  }
  Error err = ok ? Error{} : sql_error("write");
  sqlite3_finalize(up);
  sqlite3_finalize(del);
  if (!ok) {
    exec("ROLLBACK");
    return err;
  }
  if (auto st = exec("COMMIT"); !st) {
    exec("ROLLBACK");
    return st;
  }
  return ok_status();
}

}  // namespace hvnet::store
