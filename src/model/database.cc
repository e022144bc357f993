#include "model/database.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

namespace hvnet::model {

const std::set<std::string>& Database::of_class(const std::string& cls) const {
  static const std::set<std::string> kNone;
  auto it = by_class_.find(cls);
  return it == by_class_.end() ? kNone : it->second;
}

void Database::put(const std::string& uuid, Object o) {
  auto it = objs_.find(uuid);
  if (it != objs_.end() && it->second.cls != o.cls) by_class_[it->second.cls].erase(uuid);
  by_class_[o.cls].insert(uuid);
  objs_[uuid] = std::move(o);
}

void Database::erase(const std::string& uuid) {
  auto it = objs_.find(uuid);
  if (it == objs_.end()) return;
  by_class_[it->second.cls].erase(uuid);
  objs_.erase(it);
}

const Object* Txn::get(const std::string& uuid) const {
  auto it = changes_.find(uuid);
  if (it != changes_.end()) return it->second ? &*it->second : nullptr;
  if (track_reads_) read_.insert(uuid);
  return base_.get(uuid);
}

std::map<std::string, uint64_t> Txn::reads() const {
  std::map<std::string, uint64_t> out;
  for (const auto& u : read_) {
    const Object* o = base_.get(u);
    out[u] = o ? o->rev : 0;
  }
  return out;
}

const Object* Txn::get(const std::string& uuid, const std::string& cls) const {
  const Object* o = get(uuid);
  return o && o->cls == cls ? o : nullptr;
}

std::vector<std::string> Txn::all_of(const std::string& cls) const {
  std::vector<std::string> out;
  for (const auto& uuid : base_.of_class(cls))
    if (!changes_.count(uuid)) out.push_back(uuid);
  const size_t stored = out.size();
  for (const auto& [uuid, o] : changes_)
    if (o && o->cls == cls) out.push_back(uuid);
  if (out.size() > stored) std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Txn::where(const std::string& cls, const std::string& field,
                                    const json& value) const {
  std::vector<std::string> out;
  for (const auto& uuid : all_of(cls)) {
    auto ch = changes_.find(uuid);
    const Object* o = ch != changes_.end() ? &*ch->second : base_.get(uuid);
    auto it = o->rec.find(field);
    if (it != o->rec.end() && *it == value) out.push_back(uuid);
  }
  return out;
}

void Txn::set_field(const std::string& uuid, const std::string& field, json value) {
  const Object* o = get(uuid);
  if (!o) return;
  Object copy = *o;
  copy.rec[field] = std::move(value);
  changes_[uuid] = std::move(copy);
}

std::string new_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("no randomness for UUIDs");
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char s[37];
  std::snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15]);
  return s;
}

}  // namespace hvnet::model
