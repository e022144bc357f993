// Database: every object of the model in memory (uuid -> class + record), and Txn, a staged set of
// changes over it. Operations work on a Txn; the Manager commits a Txn to the store first and only
// then folds it into the Database, so a failed or refused change leaves no trace.
// Records hold stored fields only; references are bare UUIDs ("" = null). Not thread-safe: the
// Manager serialises access.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hvnet::model {

using json = nlohmann::json;

struct Object {
  std::string cls;
  json rec;
};

class Database {
 public:
  const Object* get(const std::string& uuid) const {
    auto it = objs_.find(uuid);
    return it == objs_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, Object>& all() const { return objs_; }
  void put(const std::string& uuid, Object o) { objs_[uuid] = std::move(o); }
  void erase(const std::string& uuid) { objs_.erase(uuid); }

 private:
  std::map<std::string, Object> objs_;
};

// A read view over the database plus staged changes (std::nullopt = deleted).
class Txn {
 public:
  using Changes = std::map<std::string, std::optional<Object>>;
  explicit Txn(const Database& base) : base_(base) {}

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

 private:
  const Database& base_;
  Changes changes_;
};

std::string new_uuid();
inline constexpr const char* kRefPrefix = "OpaqueRef:";
inline constexpr const char* kNullRef = "OpaqueRef:NULL";

}  // namespace hvnet::model
