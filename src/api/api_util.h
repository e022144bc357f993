// Helpers the API's handlers share (api.cc, session_calls.cc, events.cc, tasks.cc): wire forms of
// references and records, argument checks, timestamps. Internal to src/api.
#pragma once

#include <ctime>
#include <string>

#include "model/database.h"
#include "model/records.h"
#include "model/result.h"
#include "model/schema.h"

namespace hvnet::api::detail {

using model::json;
using model::Txn;

inline std::string ref_of(const std::string& uuid) {
  return uuid.empty() ? model::kNullRef : model::kRefPrefix + uuid;
}

// The uuid an OpaqueRef names ("" when it is not one).
inline std::string uuid_of_ref(const std::string& ref) {
  const std::string prefix = model::kRefPrefix;
  return ref.rfind(prefix, 0) == 0 ? ref.substr(prefix.size()) : "";
}

// Converts a stored record to its wire form: references become OpaqueRefs.
inline json to_wire(const model::ClassSpec& cls, const json& rec) {
  json out = json::object();
  for (const auto& f : cls.fields) {
    auto it = rec.find(f.wire);
    if (it == rec.end()) continue;
    if (f.type == model::FieldType::kRef) {
      out[f.wire] = ref_of(it->get<std::string>());
    } else if (f.type == model::FieldType::kRefSet) {
      json refs = json::array();
      for (const auto& u : *it) refs.push_back(ref_of(u.get<std::string>()));
      out[f.wire] = refs;
    } else {
      out[f.wire] = *it;
    }
  }
  return out;
}

// Resolves an OpaqueRef argument to the uuid of an existing object of class `cls`.
inline Result<std::string> resolve(const Txn& t, const std::string& cls, const json& ref) {
  if (!ref.is_string()) return make_error("HANDLE_INVALID", {cls, ref.dump()});
  const std::string s = ref.get<std::string>();
  std::string uuid = uuid_of_ref(s);
  if (uuid.empty() || !t.get(uuid, cls)) return make_error("HANDLE_INVALID", {cls, s});
  return uuid;
}

inline Result<std::string> arg_string(const json& args, size_t i, const char* name) {
  if (!args[i].is_string()) return make_error("FIELD_TYPE_ERROR", {name});
  return args[i].get<std::string>();
}

inline Result<int64_t> arg_int(const json& args, size_t i, const char* name) {
  model::FieldSpec f{name, name, model::FieldType::kInt, model::Access::kRW, "", false, {}, {}};
  auto v = model::coerce(f, args[i]);
  if (!v) return v.error();
  return v.value().get<int64_t>();
}

inline json void_value() {
  return "";
}

// Now as XenAPI writes dates: 20261202T13:45:00Z.
inline std::string iso_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H:%M:%SZ", &tm);
  return buf;
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace hvnet::api::detail
