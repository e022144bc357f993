#include "model/records.h"

#include <strings.h>

#include <charconv>
#include <cstdint>

#include "model/utf8.h"

namespace hvnet::model {

namespace {
json zero(FieldType t) {
  switch (t) {
    case FieldType::kString:
    case FieldType::kRef:
      return "";
    case FieldType::kInt:
      return 0;
    case FieldType::kBool:
      return false;
    case FieldType::kRefSet:
    case FieldType::kStringSet:
      return json::array();
    case FieldType::kStringMap:
      return json::object();
  }
  return nullptr;
}
}  // namespace

json default_record(const ClassSpec& cls) {
  json r = json::object();
  for (const auto& f : cls.fields)
    if (!f.derived && f.wire != "uuid") r[f.wire] = zero(f.type);
  return r;
}

json new_network_record() {
  json n = default_record(*find_class("network"));
  n["MTU"] = 1500;
  n["managed"] = true;
  n["default_locking_mode"] = "unlocked";
  return n;
}

std::optional<std::string> match_enum(const std::string& value,
                                      std::initializer_list<const char*> spellings) {
  for (const char* s : spellings)
    if (strcasecmp(value.c_str(), s) == 0) return std::string(s);
  return std::nullopt;
}

json new_pif_record(const json& device, const json& mac, const json& mtu, int64_t vlan,
                    bool physical, const std::string& network, const std::string& host) {
  json p = default_record(*find_class("PIF"));
  p["device"] = device;
  p["MAC"] = mac;
  p["MTU"] = mtu;
  p["VLAN"] = vlan;
  p["physical"] = physical;
  p["managed"] = true;
  p["network"] = network;
  p["host"] = host;
  p["ip_configuration_mode"] = "None";
  p["ipv6_configuration_mode"] = "None";
  p["primary_address_type"] = "IPv4";
  return p;
}

json full_record(const Txn& t, const std::string& uuid) {
  const Object* o = t.get(uuid);
  if (!o) return nullptr;
  const ClassSpec* cls = find_class(o->cls);
  json r = o->rec;
  r["uuid"] = uuid;
  for (const auto& f : cls->fields) {
    if (!f.derived) continue;
    if (f.ref_class.empty()) {  // live state, filled in by the API from the data plane
      r[f.wire] = json::object();
      continue;
    }
    // A derived field lists the objects of ref_class whose back-pointer names this object.
    std::string back;
    if (cls->name == "network") back = "network";
    if (cls->name == "host") back = "host";
    if (cls->name == "VM") back = "VM";
    if (f.wire == "resident_VMs") back = "resident_on";
    if (f.wire == "bond_master_of") back = "master";
    if (f.wire == "VLAN_slave_of") back = "tagged_PIF";
    if (f.wire == "slaves") back = "bond_slave_of";
    r[f.wire] = t.where(f.ref_class, back, uuid);
  }
  return r;
}

Result<json> coerce(const FieldSpec& f, const json& v) {
  auto type_error = [&] { return make_error("FIELD_TYPE_ERROR", {f.wire}); };
  // XenAPI strings are UTF-8; the wire decoders refuse anything else, and so does the model.
  auto text_ok = [](const json& s) { return valid_utf8(s.get_ref<const std::string&>()); };
  auto not_text = [&](const std::string& s) {
    return make_error("INVALID_VALUE", {f.wire, "not valid UTF-8: " + utf8_escaped(s)});
  };
  switch (f.type) {
    case FieldType::kString:
    case FieldType::kRef:
      if (!v.is_string()) return type_error();
      if (!text_ok(v)) return not_text(v.get<std::string>());
      return v;
    case FieldType::kInt: {
      // XenAPI ints are int64: a larger unsigned number is refused, not wrapped.
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) return type_error();
      if (v.is_number_integer()) return v;
      if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return json(n);
      }
      return type_error();
    }
    case FieldType::kBool:
      if (v.is_boolean()) return v;
      if (v.is_string()) {
        if (auto b = match_enum(v.get<std::string>(), {"true", "false"})) return json(*b == "true");
      }
      return type_error();
    case FieldType::kRefSet:
    case FieldType::kStringSet:
      if (!v.is_array()) return type_error();
      for (const auto& e : v) {
        if (!e.is_string()) return type_error();
        if (!text_ok(e)) return not_text(e.get<std::string>());
      }
      return v;
    case FieldType::kStringMap:
      if (!v.is_object()) return type_error();
      for (const auto& [k, e] : v.items()) {
        if (!e.is_string()) return type_error();
        if (!valid_utf8(k)) return not_text(k);
        if (!text_ok(e)) return not_text(e.get<std::string>());
      }
      return v;
  }
  return type_error();
}

}  // namespace hvnet::model
