#include "store/sqlite_store.h"

#include <filesystem>
#include <memory>

namespace hvnet::store {

const char* op_name(Op op) noexcept {
  switch (op) {
    case Op::kAdd:
      return "add";
    case Op::kMod:
      return "mod";
    case Op::kDel:
      return "del";
  }
  return "mod";
}

namespace {

// A prepared statement that finalizes itself.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Stmt() { sqlite3_finalize(s); }
  explicit operator bool() const { return s != nullptr; }
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& integer(int i, uint64_t v) {
    sqlite3_bind_int64(s, i, sqlite3_int64(v));
    return *this;
  }
  int step() { return sqlite3_step(s); }
  bool run() {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE;
  }
  void reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  std::string col_text(int i) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return p ? p : "";
  }
  uint64_t col_int(int i) { return uint64_t(sqlite3_column_int64(s, i)); }
  bool col_null(int i) { return sqlite3_column_type(s, i) == SQLITE_NULL; }
};

}  // namespace

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
  if (auto st = exec("CREATE TABLE IF NOT EXISTS objects ("
                     " uuid TEXT PRIMARY KEY, class TEXT NOT NULL, record TEXT NOT NULL);"
                     "CREATE TABLE IF NOT EXISTS tombstones ("
                     " uuid TEXT PRIMARY KEY, class TEXT NOT NULL, generation INTEGER NOT NULL,"
                     " record TEXT);"
                     "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);");
      !st)
    return st;
  // Databases from before generations: every object gets revision and creation 0.
  bool has_revision = false;
  {
    Stmt cols(db_, "PRAGMA table_info(objects)");
    while (cols && cols.step() == SQLITE_ROW) has_revision |= cols.col_text(1) == "revision";
  }
  if (!has_revision) {
    if (auto st = exec("ALTER TABLE objects ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;"
                       "ALTER TABLE objects ADD COLUMN created INTEGER NOT NULL DEFAULT 0;");
        !st)
      return st;
  }
  if (auto st = exec("CREATE INDEX IF NOT EXISTS objects_by_revision ON objects(revision);"
                     "CREATE INDEX IF NOT EXISTS tombstones_by_generation"
                     " ON tombstones(generation);");
      !st)
    return st;
  Stmt g(db_, "SELECT value FROM meta WHERE key = 'generation'");
  if (!g) return sql_error("open");
  generation_ = g.step() == SQLITE_ROW ? g.col_int(0) : 0;
  return ok_status();
}

Status SqliteStore::load(model::Database& db) {
  Stmt st(db_, "SELECT uuid, class, record, revision FROM objects");
  if (!st) return sql_error("load");
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) {
    std::string uuid = st.col_text(0);
    auto rec = nlohmann::json::parse(st.col_text(2), nullptr, false);
    if (rec.is_discarded())
      return make_error("INTERNAL_ERROR", {"database: corrupt record " + uuid});
    db.put(uuid, model::Object{st.col_text(1), std::move(rec), st.col_int(3)});
  }
  if (rc != SQLITE_DONE) return sql_error("load");
  db.set_generation(generation_);
  return ok_status();
}

Result<Commit> SqliteStore::commit(const model::Txn::Changes& changes, const Revisions& read) {
  if (changes.empty()) return Commit{generation_, {}};
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st.error();
  auto r = commit_in_txn(changes, read);
  if (!r) {
    (void)exec("ROLLBACK");
    return r;
  }
  if (auto st = exec("COMMIT"); !st) {
    (void)exec("ROLLBACK");
    return st.error();
  }
  generation_ = r.value().generation;
  return r;
}

Result<Commit> SqliteStore::commit_in_txn(const model::Txn::Changes& changes,
                                          const Revisions& read) {
  Stmt current(db_, "SELECT class, revision, created, record FROM objects WHERE uuid = ?1");
  Stmt up(db_,
          "INSERT OR REPLACE INTO objects (uuid, class, record, revision, created)"
          " VALUES (?1, ?2, ?3, ?4, ?5)");
  Stmt del(db_, "DELETE FROM objects WHERE uuid = ?1");
  Stmt tomb(db_, "INSERT OR REPLACE INTO tombstones VALUES (?1, ?2, ?3, ?4)");
  Stmt untomb(db_, "DELETE FROM tombstones WHERE uuid = ?1");
  Stmt meta(db_, "INSERT OR REPLACE INTO meta VALUES ('generation', ?1)");
  if (!current || !up || !del || !tomb || !untomb || !meta) return sql_error("write");
  struct Row {
    bool exists = false;
    std::string cls;
    uint64_t revision = 0, created = 0;
    std::string record;
  };
  auto row_of = [&](const std::string& uuid) {
    Row r;
    current.text(1, uuid);
    if (current.step() == SQLITE_ROW)
      r = Row{true, current.col_text(0), current.col_int(1), current.col_int(2),
              current.col_text(3)};
    current.reset();
    return r;
  };
  for (const auto& [uuid, rev] : read) {
    Row r = row_of(uuid);
    if ((r.exists ? r.revision : 0) != rev) return make_error(kStoreConflict, {uuid});
  }
  Commit c;
  c.generation = generation_ + 1;
  for (const auto& [uuid, obj] : changes) {
    Row r = row_of(uuid);
    if (obj) {
      std::string rec;
      try {
        rec = obj->rec.dump();
      } catch (const std::exception& e) {  // not UTF-8: refused before it reaches the file
        return make_error("INTERNAL_ERROR", {"record " + uuid + " not stored: " + e.what()});
      }
      const uint64_t created = r.exists ? r.created : c.generation;
      if (!up.text(1, uuid)
               .text(2, obj->cls)
               .text(3, rec)
               .integer(4, c.generation)
               .integer(5, created)
               .run() ||
          !untomb.text(1, uuid).run())
        return sql_error("write");
      c.changes.push_back(
          Change{obj->cls, uuid, r.exists ? Op::kMod : Op::kAdd, obj->rec,
                 r.exists ? nlohmann::json::parse(r.record, nullptr, false) : nlohmann::json()});
    } else if (r.exists) {
      if (!del.text(1, uuid).run() ||
          !tomb.text(1, uuid).text(2, r.cls).integer(3, c.generation).text(4, r.record).run())
        return sql_error("write");
      c.changes.push_back(
          Change{r.cls, uuid, Op::kDel, nullptr, nlohmann::json::parse(r.record, nullptr, false)});
    }
  }
  if (c.changes.empty()) return Commit{generation_, {}};
  if (!meta.integer(1, c.generation).run()) return sql_error("write");
  // Tombstones older than the log's reach are forgotten (events before that are "lost").
  if (c.generation % 1024 == 0 && c.generation > kLogGenerations) {
    Stmt prune(db_, "DELETE FROM tombstones WHERE generation <= ?1");
    Stmt mark(db_, "INSERT OR REPLACE INTO meta VALUES ('pruned', ?1)");
    const uint64_t below = c.generation - kLogGenerations;
    if (!prune || !mark || !prune.integer(1, below).run() || !mark.integer(1, below).run())
      return sql_error("write");
  }
  return c;
}

Result<std::optional<std::vector<Change>>> SqliteStore::changes_since(uint64_t since) {
  if (since > generation_) return std::optional<std::vector<Change>>();  // another history
  uint64_t pruned = 0;
  {
    Stmt p(db_, "SELECT value FROM meta WHERE key = 'pruned'");
    if (!p) return sql_error("read");
    if (p.step() == SQLITE_ROW) pruned = p.col_int(0);
  }
  if (since < pruned) return std::optional<std::vector<Change>>();
  Stmt q(db_,
         "SELECT uuid, class, record, revision, created, NULL FROM objects WHERE revision > ?1"
         " UNION ALL SELECT uuid, class, NULL, generation, 0, record FROM tombstones"
         " WHERE generation > ?1 ORDER BY 4");
  if (!q) return sql_error("read");
  q.integer(1, since);
  std::vector<Change> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    if (q.col_null(2)) {
      out.push_back(Change{q.col_text(1), q.col_text(0), Op::kDel, nullptr,
                           nlohmann::json::parse(q.col_text(5), nullptr, false),
                           uint64_t(q.col_int(3))});
      continue;
    }
    auto rec = nlohmann::json::parse(q.col_text(2), nullptr, false);
    if (rec.is_discarded()) return make_error("INTERNAL_ERROR", {"database: corrupt record"});
    out.push_back(Change{q.col_text(1), q.col_text(0), q.col_int(4) > since ? Op::kAdd : Op::kMod,
                         rec, nullptr, uint64_t(q.col_int(3))});
  }
  if (rc != SQLITE_DONE) return sql_error("read");
  return std::optional<std::vector<Change>>(std::move(out));
}

}  // namespace hvnet::store
