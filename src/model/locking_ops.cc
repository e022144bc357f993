// VIF locking mode and allowed addresses, the network's default locking mode, with xapi's rules
// (the default cannot change while a VIF on the network is attached) and stricter address checks.
#include "dataplane/locking_filter.h"
#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {

namespace {

bool valid_address(const std::string& family, const std::string& a) {
  return family == "ipv4" ? LockingRules::parse_ipv4(a).has_value()
                          : LockingRules::parse_ipv6(a).has_value();
}

}  // namespace

Status vif_set_locking_mode(Txn& t, const std::string& vif, const std::string& mode) {
  auto m = match_enum(mode, {"network_default", "locked", "unlocked", "disabled"});
  if (!m) return make_error("INVALID_VALUE", {"locking_mode", mode});
  t.set_field(vif, "locking_mode", *m);
  return ok_status();
}

std::string vif_effective_locking_mode(const Txn& t, const json& vif) {
  std::string mode = string_field(vif, "locking_mode");
  if (mode.empty() || mode == "network_default") {
    const Object* n = t.get(string_field(vif, "network"), "network");
    mode = n ? string_field(n->rec, "default_locking_mode") : "unlocked";
  }
  return mode;
}

VifRate vif_rate(const json& vif) {
  if (vif.value("qos_algorithm_type", "") != "ratelimit") return {};
  const json q = vif.value("qos_algorithm_params", json::object());
  if (!q.contains("kbps")) return {};
  try {
    VifRate r;
    r.kbps = std::stoull(q["kbps"].get<std::string>());
    if (q.contains("timeslice_us"))
      r.timeslice_us = std::stoull(q["timeslice_us"].get<std::string>());
    return r;
  } catch (...) {
    return {};  // refused at write time; never reached
  }
}

Status vif_set_allowed(Txn& t, const std::string& vif, const std::string& family,
                       const json& addrs) {
  const std::string field = family + "_allowed";
  if (!addrs.is_array()) return make_error("FIELD_TYPE_ERROR", {field});
  json out = json::array();
  for (const auto& a : addrs) {
    if (!a.is_string() || !valid_address(family, a.get<std::string>()))
      return make_error("INVALID_IP_ADDRESS_SPECIFIED",
                        {field, a.is_string() ? a.get<std::string>() : a.dump()});
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  t.set_field(vif, field, out);
  return ok_status();
}

Status vif_add_allowed(Txn& t, const std::string& vif, const std::string& family,
                       const std::string& addr) {
  json cur = t.get(vif)->rec[family + "_allowed"];
  cur.push_back(addr);
  return vif_set_allowed(t, vif, family, cur);
}

Status vif_remove_allowed(Txn& t, const std::string& vif, const std::string& family,
                          const std::string& addr) {
  json out = json::array();
  for (const auto& a : t.get(vif)->rec[family + "_allowed"])
    if (a != addr) out.push_back(a);
  t.set_field(vif, family + "_allowed", out);
  return ok_status();
}

Status network_set_default_locking_mode(Txn& t, const std::string& net, const std::string& mode) {
  auto m = match_enum(mode, {"unlocked", "disabled"});
  if (!m) return make_error("INVALID_VALUE", {"default_locking_mode", mode});
  for (const auto& vif : t.where("VIF", "network", net))
    if (t.get(vif)->rec["currently_attached"].get<bool>())
      return make_error("VIF_IN_USE", {net, vif});
  t.set_field(net, "default_locking_mode", *m);
  return ok_status();
}

}  // namespace hvnet::model
