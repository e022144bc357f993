#include "model/database.h"

#include <openssl/rand.h>

#include <cstdio>

namespace hvnet::model {

const Object* Txn::get(const std::string& uuid) const {
  auto it = changes_.find(uuid);
  if (it != changes_.end()) return it->second ? &*it->second : nullptr;
  return base_.get(uuid);
}

const Object* Txn::get(const std::string& uuid, const std::string& cls) const {
  const Object* o = get(uuid);
  return o && o->cls == cls ? o : nullptr;
}

std::vector<std::string> Txn::all_of(const std::string& cls) const {
  std::vector<std::string> out;
  for (const auto& [uuid, o] : base_.all()) {
    if (changes_.count(uuid)) continue;
    if (o.cls == cls) out.push_back(uuid);
  }
  for (const auto& [uuid, o] : changes_)
    if (o && o->cls == cls) out.push_back(uuid);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Txn::where(const std::string& cls, const std::string& field,
                                    const json& value) const {
  std::vector<std::string> out;
  for (const auto& uuid : all_of(cls)) {
    const Object* o = get(uuid);
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
