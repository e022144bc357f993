// Store: where the object model lives, and the change feed every committed write goes out on.
//
// A store holds every object under a generation, a counter that grows by one with every commit
// and persists (a token from before a restart still means the same point in history). A write
// is committed with the revisions of what it read; the store refuses it (STORE_CONFLICT) if any
// of those objects changed meanwhile, so two writers (two hosts of a pool on etcd) can never lose
// an update: the loser re-runs on fresh objects. The embedded SqliteStore is one implementation;
// a pool's etcd store is another, and neither the model nor the API knows which is in use.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/database.h"
#include "model/result.h"

namespace hvnet::store {

enum class Op : uint8_t { kAdd, kMod, kDel };
const char* op_name(Op op) noexcept;  // "add", "mod", "del" (event.from's spelling)

// One object's change in a commit; a deletion carries no record. `before` is the record it
// replaced (null for kAdd): listeners follow its references (a VIF's network lists its VIFs).
struct Change {
  std::string cls, uuid;
  Op op;
  model::json record;  // null for kDel
  model::json before = nullptr;
  uint64_t revision = 0;  // changes_since: the generation of this latest change
};

// What one committed write changed, in the order the feed publishes it.
struct Commit {
  uint64_t generation = 0;
  std::vector<Change> changes;
};

// Revisions a write saw: uuid -> revision (0: the object did not exist).
using Revisions = std::map<std::string, uint64_t>;

inline constexpr const char* kStoreConflict = "STORE_CONFLICT";

class Store {
 public:
  virtual ~Store() = default;
  // Every stored object into `db` (each with its revision), and db's generation.
  virtual Status load(model::Database& db) = 0;
  // Writes `changes` as the next generation, unless an object in `read` no longer has the
  // revision given (STORE_CONFLICT [uuid]). Returns the commit: its generation and, per object,
  // add / mod / del with the record stored.
  virtual Result<Commit> commit(const model::Txn::Changes& changes, const Revisions& read) = 0;
  // Every object changed after generation `since`, once each with its latest state (add/mod with
  // the record, del without but with the record it had as `before`), oldest change first;
  // std::nullopt when the store no longer remembers that far back (the caller has lost events and
  // must resync).
  virtual Result<std::optional<std::vector<Change>>> changes_since(uint64_t since) = 0;
  virtual uint64_t generation() const = 0;
  // Whether other writers (a pool's other hosts) commit to it too.
  virtual bool shared() const { return false; }
};

}  // namespace hvnet::store
