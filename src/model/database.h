// Database: every object of the model in memory (uuid -> class + record), and Txn, a staged set of
// changes over it. Operations work on a Txn; the Manager commits a Txn to the store first and only
// then folds it into the Database, so a failed or refused change leaves no trace.
// Records hold stored fields only; references are bare UUIDs ("" = null). Not thread-safe: the
// Manager serialises access.
#pragma once

#include <functional>
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

// A lookup key: (field, value) pairs an object must all match; refs compare as bare uuids.
using Match = std::vector<std::pair<std::string, json>>;

// Objects by the values of some of their fields: the first lookup of a (class, fields) pair builds
// its index from the class's objects (`each` lists them), every later add and remove keeps it, so
// a lookup costs what it finds, not what exists.
class FieldIndex {
 public:
  using Visit = std::function<void(const std::string& uuid, const json& rec)>;
  using Each = std::function<void(const Visit&)>;
  const std::set<std::string>& lookup(const std::string& cls, const Match& m, const Each& each);
  void add(const std::string& uuid, const Object& o);
  void remove(const std::string& uuid, const Object& o);

 private:
  struct Index {
    std::vector<std::string> fields;
    std::map<std::string, std::set<std::string>> by_key;
  };
  // class -> "field\x1ffield..." -> index
  std::map<std::string, std::map<std::string, Index>> indexes_;
};

// Objects by uuid, by class (so a class's objects cost their own number to list, not the whole
// database's), and by the field values the model looks objects up by (a FieldIndex).
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
  // UUIDs of the `cls` objects matching every pair of `m` (sorted).
  const std::set<std::string>& lookup(const std::string& cls, const Match& m) const;
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }
  // The host this process runs on: in a pool the database holds every member's objects, and
  // the data plane and host addressing take only this host's ("": the only host there is).
  const std::string& local_host() const { return local_host_; }
  void set_local_host(std::string uuid) { local_host_ = std::move(uuid); }

 private:
  std::map<std::string, Object> objs_;
  std::map<std::string, std::set<std::string>> by_class_;
  mutable FieldIndex index_;  // built by lookups, which are reads
  uint64_t generation_ = 0;
  std::string local_host_;
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
                                 const json& value) const {
    return where(cls, Match{{field, value}});
  }
  std::vector<std::string> where(const std::string& cls, const Match& m) const;
  // Whether any `cls` object has `field` = `value` (without listing them).
  bool any(const std::string& cls, const std::string& field, const json& value) const;

  void put(const std::string& uuid, Object o) { stage(uuid, std::move(o)); }
  // Stages the object with `field` = `value`; nothing when it already holds that value.
  void set_field(const std::string& uuid, const std::string& field, json value);
  void erase(const std::string& uuid) { stage(uuid, std::nullopt); }

  const Changes& changes() const { return changes_; }
  bool empty() const { return changes_.empty(); }
  const Database& base() const { return base_; }
  // What the write read of the committed objects: uuid -> revision it saw (0 = absent), for the
  // store's check that nothing it read changed meanwhile.
  std::map<std::string, uint64_t> reads() const;

 private:
  void stage(const std::string& uuid, std::optional<Object> o);
  const std::set<std::string>& staged(const std::string& cls, const Match& m) const;

  const Database& base_;
  Changes changes_;
  mutable FieldIndex staged_index_;  // of the staged objects, so bulk writes stay linear
  bool track_reads_;
  mutable std::set<std::string> read_;
};

std::string new_uuid();
inline constexpr const char* kRefPrefix = "OpaqueRef:";
inline constexpr const char* kNullRef = "OpaqueRef:NULL";

}  // namespace hvnet::model
