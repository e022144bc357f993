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

namespace {
// A value as an index key: strings as themselves, anything else as JSON text (typed apart, so the
// string "5" and the number 5 stay different values).
void append_key(std::string& key, const json* v) {
  if (!v) {
    key += '-';
  } else if (v->is_string()) {
    key += 's';
    key += v->get_ref<const std::string&>();
  } else {
    key += 'j';
    key += v->dump();
  }
  key += '\x1f';
}

std::string key_of(const json& rec, const std::vector<std::string>& fields) {
  std::string key;
  for (const auto& f : fields) {
    auto it = rec.find(f);
    append_key(key, it == rec.end() ? nullptr : &*it);
  }
  return key;
}
}  // namespace

void FieldIndex::remove(const std::string& uuid, const Object& o) {
  auto cls = indexes_.find(o.cls);
  if (cls == indexes_.end()) return;
  for (auto& [name, idx] : cls->second) {
    auto it = idx.by_key.find(key_of(o.rec, idx.fields));
    if (it == idx.by_key.end()) continue;
    it->second.erase(uuid);
    if (it->second.empty()) idx.by_key.erase(it);
  }
}

void FieldIndex::add(const std::string& uuid, const Object& o) {
  auto cls = indexes_.find(o.cls);
  if (cls == indexes_.end()) return;
  for (auto& [name, idx] : cls->second) idx.by_key[key_of(o.rec, idx.fields)].insert(uuid);
}

const std::set<std::string>& FieldIndex::lookup(const std::string& cls, const Match& m,
                                                const Each& each) {
  static const std::set<std::string> kNone;
  std::string name, key;
  std::vector<std::string> fields;
  for (const auto& [f, v] : m) {
    name += f;
    name += '\x1f';
    fields.push_back(f);
    append_key(key, &v);
  }
  auto& by_name = indexes_[cls];
  auto idx = by_name.find(name);
  if (idx == by_name.end()) {
    idx = by_name.emplace(name, Index{fields, {}}).first;
    auto& built = idx->second;
    each([&](const std::string& uuid, const json& rec) {
      built.by_key[key_of(rec, built.fields)].insert(uuid);
    });
  }
  auto it = idx->second.by_key.find(key);
  return it == idx->second.by_key.end() ? kNone : it->second;
}

void Database::put(const std::string& uuid, Object o) {
  auto it = objs_.find(uuid);
  if (it != objs_.end()) {
    index_.remove(uuid, it->second);
    if (it->second.cls != o.cls) by_class_[it->second.cls].erase(uuid);
  }
  by_class_[o.cls].insert(uuid);
  index_.add(uuid, o);
  objs_[uuid] = std::move(o);
}

void Database::erase(const std::string& uuid) {
  auto it = objs_.find(uuid);
  if (it == objs_.end()) return;
  index_.remove(uuid, it->second);
  by_class_[it->second.cls].erase(uuid);
  objs_.erase(it);
}

const std::set<std::string>& Database::lookup(const std::string& cls, const Match& m) const {
  return index_.lookup(cls, m, [&](const FieldIndex::Visit& visit) {
    for (const auto& uuid : of_class(cls)) visit(uuid, objs_.at(uuid).rec);
  });
}

void Txn::stage(const std::string& uuid, std::optional<Object> o) {
  auto it = changes_.find(uuid);
  if (it != changes_.end() && it->second) staged_index_.remove(uuid, *it->second);
  if (o) staged_index_.add(uuid, *o);
  changes_.insert_or_assign(uuid, std::move(o));
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

const std::set<std::string>& Txn::staged(const std::string& cls, const Match& m) const {
  return staged_index_.lookup(cls, m, [&](const FieldIndex::Visit& visit) {
    for (const auto& [uuid, o] : changes_)
      if (o && o->cls == cls) visit(uuid, o->rec);
  });
}

std::vector<std::string> Txn::where(const std::string& cls, const Match& m) const {
  // The stored matches the write has not touched, then the staged objects that match.
  std::vector<std::string> out;
  for (const auto& uuid : base_.lookup(cls, m))
    if (!changes_.count(uuid)) out.push_back(uuid);
  const size_t stored = out.size();
  for (const auto& uuid : staged(cls, m)) out.push_back(uuid);
  if (out.size() > stored) std::sort(out.begin(), out.end());
  return out;
}

bool Txn::any(const std::string& cls, const std::string& field, const json& value) const {
  const Match m{{field, value}};
  if (!staged(cls, m).empty()) return true;
  for (const auto& uuid : base_.lookup(cls, m))
    if (!changes_.count(uuid)) return true;
  return false;
}

void Txn::set_field(const std::string& uuid, const std::string& field, json value) {
  const Object* o = get(uuid);
  if (!o) return;
  if (auto it = o->rec.find(field); it != o->rec.end() && *it == value) return;
  Object copy = *o;
  copy.rec[field] = std::move(value);
  stage(uuid, std::move(copy));
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
