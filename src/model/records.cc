#include "model/records.h"

#include <openssl/rand.h>
#include <strings.h>

#include <charconv>
#include <cstdint>
#include <cstdio>

#include "model/ops.h"
#include "model/utf8.h"
#include "util/fnv1a.h"

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
// The value of a stored field in a new record, and in one written before the field existed.
json missing_value(const ClassSpec& cls, const FieldSpec& f) {
  if (cls.name == "network_sriov" && f.wire == "configuration_mode") return "unknown";
  if (f.wire.ends_with("configuration_mode")) return "None";
  if (f.wire == "sriov_VF") return -1;
  for (const auto& [field, value] : kSecurityPolicyDefaults)
    if (f.wire == field) return value;
  if (f.wire == "VM_network") return true;
  if (f.wire == "network_state") return "operational";
  if (cls.name == "network" && f.wire == "mode") return "bridge";
  return zero(f.type);
}
}  // namespace

json default_record(const ClassSpec& cls) {
  json r = json::object();
  for (const auto& f : cls.fields)
    if (!f.derived && f.wire != "uuid") r[f.wire] = missing_value(cls, f);
  return r;
}

json new_network_record() {
  json n = default_record(*find_class("network"));
  n["MTU"] = 1500;
  n["managed"] = true;
  n["default_locking_mode"] = "unlocked";
  return n;
}

bool policy_rejects(const json& network, const char* field) {
  std::string v = string_field(network, field);
  if (v.empty())
    for (const auto& [f, d] : kSecurityPolicyDefaults)
      if (std::string_view(f) == field) v = d;
  return v == "reject";
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

std::string pif_metrics_uuid(const std::string& pif) {
  // A PIF's metrics object lives as long as the PIF: its uuid is derived from the PIF's (FNV-1a
  // of the PIF uuid, two 64-bit lanes, shaped as a version-4 uuid), so it needs no storage.
  const uint64_t h[2] = {fnv1a64("metrics:" + pif + ":0"),
                         fnv1a64("metrics:" + pif + ":1", 0x84222325cbf29ce4ull)};
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-%04x-%012llx", unsigned(h[0] >> 32),
                unsigned((h[0] >> 16) & 0xffff), unsigned(h[0] & 0xfff),
                unsigned(0x8000 | ((h[1] >> 48) & 0x3fff)),
                (unsigned long long)(h[1] & 0xffffffffffffull));
  return out;
}

std::string string_field(const json& rec, const char* field) {
  auto it = rec.find(field);
  return it != rec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string random_xen_mac() {
  unsigned char b[3];
  RAND_bytes(b, sizeof b);
  b[0] &= 0x7f;  // Xen's tools use 00:16:3e:00-7f; the upper half is reserved
  char s[18];
  std::snprintf(s, sizeof s, "00:16:3e:%02x:%02x:%02x", b[0], b[1], b[2]);
  return s;
}

Result<json> creation_record(const ClassSpec& cls, const json& record) {
  if (!record.is_object()) return make_error("FIELD_TYPE_ERROR", {"record"});
  json r = default_record(cls);
  for (const auto& [k, v] : record.items()) {
    const FieldSpec* f = cls.field(k);
    if (!f || f->derived || f->wire == "uuid" || f->access == Access::kRO) continue;
    auto c = coerce(*f, v);
    if (!c) return c.error();
    r[k] = c.value();
  }
  return r;
}

json full_record(const Txn& t, const std::string& uuid) {
  const Object* o = t.get(uuid);
  if (!o) return nullptr;
  const ClassSpec* cls = find_class(o->cls);
  json r = o->rec;
  r["uuid"] = uuid;
  for (const auto& f : cls->fields) {
    if (!f.derived) {
      if (f.wire != "uuid" && !r.contains(f.wire)) r[f.wire] = missing_value(*cls, f);
      continue;
    }
    const std::string& w = f.wire;
    if (w == "allowed_operations") {  // what can be done to the object now
      json ops = json::array();
      if (cls->name == "VIF" && !is_sriov_network(t, string_field(r, "network")))
        ops.push_back(r["currently_attached"].get<bool>() ? "unplug" : "plug");
      r[w] = cls->name == "VM" ? vm_allowed_operations(t, uuid) : ops;
    } else if (w == "metrics") {
      r[w] = cls->name == "PIF" ? pif_metrics_uuid(uuid) : "";
    } else if (w == "igmp_snooping_status") {
      r[w] = "disabled";  // hvnet floods multicast; it does not snoop IGMP
    } else if (f.ref_class.empty() || w == "PCI") {
      // Live state filled in by the API from the data plane, operations in flight (none: a write
      // is one transaction) and objects of classes hvnet has no instance of yet.
      r[w] = zero(f.type);
    } else {
      // A reverse reference: the objects of ref_class whose back-pointer names this object.
      std::string back;
      if (cls->name == "network") back = "network";
      if (cls->name == "host") back = "host";
      if (cls->name == "VM") back = "VM";
      if (w == "resident_VMs") back = "resident_on";
      if (w == "bond_master_of") back = "master";
      if (w == "VLAN_slave_of") back = "tagged_PIF";
      if (w == "slaves") back = "bond_slave_of";
      if (w == "tunnel_access_PIF_of") back = "access_PIF";
      if (w == "tunnel_transport_PIF_of") back = "transport_PIF";
      if (w == "sriov_physical_PIF_of") back = "physical_PIF";
      if (w == "sriov_logical_PIF_of") back = "logical_PIF";
      r[w] = t.where(f.ref_class, back, uuid);
    }
  }
  if (cls->name == "tunnel") r["status"] = tunnel_status(t, uuid);
  if (cls->name == "PIF") r["services"] = shown_services(t, uuid);
  if (cls->name == "network") r["roles"] = shown_services(t, uuid);
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
