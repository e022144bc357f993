// Database: every object of the model in memory (uuid -> class + record), and Txn, a staged set of
// changes over it. Operations work on a Txn; the Manager commits a Txn to the store first and only
// then folds it into the Database, so a failed or refused change leaves no trace.
// Records hold stored fields only; references are bare UUIDs ("" = null). Not thread-safe: the
// Manager serialises access.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hvnet::model {

using json = nlohmann::json;

struct Object {
  std::string cls;
  json rec;
  uint64_t rev = 0;  // the store generation that last wrote it (0: not stored yet)
};

// Objects by uuid, and by class (so a class's objects cost their own number to list, not the
// whole database's).
class Database {
 public:
  const Object* get(const std::string& uuid) const {
    auto it = objs_.find(uuid);
    return it == objs_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Object>& all() const { return objs_; }
  const std::set<std::string>& of_class(const std::string& cls) const;
  void put(const std::string& uuid, Object o);
  void erase(const std::string& uuid);
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }

 private:
  std::map<std::string, Object> objs_;
  std::map<std::string, std::set<std::string>> by_class_;
  uint64_t generation_ = 0;
};

// A read view over the database plus staged changes (std::nullopt = deleted).
class Txn {
 public:
  using Changes = std::map<std::string, std::optional<Object>>;
  // `track_reads`: remember what get() read, for the store's conflict check (a write's Txn);
  // views that only read (reconcile, API reads) skip the bookkeeping.
  explicit Txn(const Database& base, bool track_reads = true)
      : base_(base), track_reads_(track_reads) {}

  const Object* get(const std::string& uuid) const;
  // The object if it exists and is of class `cls`.
  const Object* get(const std::string& uuid, const std::string& cls) const;
  std::vector<std::string> all_of(const std::string& cls) const;  // sorted uuids
  // UUIDs of `cls` objects whose `field` equals `value` (refs compare as bare uuids).
  std::vector<std::string> where(const std::string& cls, const std::string& field,
                                 const json& value) const;

  void put(const std::string& uuid, Object o) { changes_[uuid] = std::move(o); }
  void set_field(const std::string& uuid, const std::string& field, json value);
  void erase(const std::string& uuid) { changes_[uuid] = std::nullopt; }

  const Changes& changes() const { return changes_; }
  bool empty() const { return changes_.empty(); }
  const Database& base() const { return base_; }
  // What the write read of the committed objects: uuid -> revision it saw (0 = absent), for the
  // store's check that nothing it read changed meanwhile.
  std::map<std::string, uint64_t> reads() const;

 private:
  const Database& base_;
  Changes changes_;
  bool track_reads_;
  mutable std::set<std::string> read_;
};

std::string new_uuid();
inline constexpr const char* kRefPrefix = "OpaqueRef:";
inline constexpr const char* kNullRef = "OpaqueRef:NULL";

}  // namespace hvnet::model
