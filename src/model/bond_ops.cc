// Bond.create/destroy/set_mode/set_property with XenServer's rules: 2-4 members, primary member
// (management PIF, else the first with an IP, else the first), bond MAC (given, else the
// primary's), management and VIFs moved onto the bond and back to the primary on destroy.
#include "model/ops.h"
#include "model/records.h"
#include "packet/mac.h"

namespace hvnet::model {

namespace {

const char* kModes[] = {"balance-slb", "active-backup", "lacp"};

json default_properties(const std::string& mode) {
  if (mode != "lacp") return json::object();
  return {
      {"hashing_algorithm", "tcpudp_ports"}, {"lacp-time", "slow"}, {"lacp-fallback-ab", "true"}};
}

Status check_property(const std::string& mode, const std::string& key, const std::string& value) {
  auto bad = [&] { return make_error("INVALID_VALUE", {"properties", key + " = " + value}); };
  if (mode != "lacp") return bad();
  if (key == "hashing_algorithm") {
    if (value != "src_mac" && value != "tcpudp_ports") return bad();
  } else if (key == "lacp-time") {
    if (value != "fast" && value != "slow") return bad();
  } else if (key == "lacp-fallback-ab") {
    if (value != "true" && value != "false") return bad();
  } else if (key == "lacp-aggregation-key") {
    if (value.empty() || value.size() > 5 ||
        value.find_first_not_of("0123456789") != std::string::npos || std::stoul(value) > 65535)
      return bad();
  } else {
    return bad();
  }
  return ok_status();
}

// The first bond device name no PIF of `host` has (devices are per host: in a pool every member
// may have its bond0).
std::string free_bond_device(const Txn& t, const std::string& host) {
  for (int i = 0;; ++i) {
    std::string d = "bond" + std::to_string(i);
    if (t.where("PIF", Match{{"device", d}, {"host", host}}).empty()) return d;
  }
}

// Moves VIFs from network `from` to network `to`.
void move_vifs(Txn& t, const std::string& from, const std::string& to) {
  if (from == to) return;
  for (const auto& vif : t.where("VIF", "network", from)) t.set_field(vif, "network", to);
}

const char* kIpFields[] = {"ip_configuration_mode", "IP", "netmask", "gateway", "DNS"};

}  // namespace

Result<std::string> bond_create(Txn& t, const std::string& network,
                                const std::vector<std::string>& members, const std::string& mac,
                                const std::string& mode, const json& properties) {
  if (members.size() < 2)
    return make_error("PIF_BOND_NEEDS_MORE_MEMBERS", {std::to_string(members.size())});
  if (members.size() > 4)
    return make_error("PIF_BOND_MORE_THAN_FOUR_MEMBERS", {std::to_string(members.size())});
  if (auto st = refuse_internal_network(t, network); !st) return st.error();
  if (auto st = refuse_sriov_topology(t, SriovUse::kBond, "", network); !st) return st.error();
  const std::string host = t.get(members[0])->rec["host"];
  for (const auto& p : t.where("PIF", "network", network))
    if (t.get(p)->rec["host"] == host) return make_error("NETWORK_ALREADY_CONNECTED", {host, p});
  std::string bond_mac;
  if (!mac.empty()) {
    auto m = MacAddr::parse(mac);
    if (!m || m->is_multicast() || m->is_zero()) return make_error("MAC_INVALID", {mac});
    bond_mac = m->to_string();
  }
  if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes))
    return make_error("INVALID_VALUE", {"mode", mode});
  json props = default_properties(mode);
  if (!properties.is_object()) return make_error("FIELD_TYPE_ERROR", {"properties"});
  for (const auto& [k, v] : properties.items()) {
    const std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (auto st = check_property(mode, k, value); !st) return st.error();
    props[k] = value;
  }
  int with_ip = 0;
  std::string primary, management_member, first_with_ip;
  for (const auto& m : members) {
    if (std::count(members.begin(), members.end(), m) > 1)
      return make_error("PIF_ALREADY_BONDED", {m});
    const json& r = t.get(m)->rec;
    if (!r["bond_slave_of"].get<std::string>().empty() || t.any("Bond", "master", m))
      return make_error("PIF_ALREADY_BONDED", {m});
    if (r["VLAN"].get<int64_t>() >= 0) return make_error("PIF_IS_VLAN", {m});
    if (t.any("tunnel", "access_PIF", m)) return make_error("IS_TUNNEL_ACCESS_PIF", {m});
    if (auto st = refuse_sriov_topology(t, SriovUse::kBond, m, ""); !st) return st.error();
    if (auto st = refuse_non_vm_nic(t, m); !st) return st.error();
    if (t.any("VLAN", "tagged_PIF", m))
      return make_error("PIF_VLAN_EXISTS", {r["device"].get<std::string>()});
    if (r["host"] != host) return make_error("PIF_CANNOT_BOND_CROSS_HOST", {m});
    if (r["management"].get<bool>()) management_member = m;
    if (r["ip_configuration_mode"] != "None" &&
        !r["ip_configuration_mode"].get<std::string>().empty()) {
      ++with_ip;
      if (first_with_ip.empty()) first_with_ip = m;
    }
  }
  if (with_ip > 1) return make_error("PIF_BOND_MORE_THAN_ONE_IP", {});
  primary = !management_member.empty() ? management_member
            : !first_with_ip.empty()   ? first_with_ip
                                       : members[0];
  const json prim = t.get(primary)->rec;

  std::string bond = new_uuid(), master = new_uuid();
  json p =
      new_pif_record(free_bond_device(t, host), bond_mac.empty() ? prim["MAC"] : json(bond_mac),
                     t.get(network, "network") ? t.get(network)->rec["MTU"] : prim["MTU"], -1,
                     /*physical=*/false, network, host);
  p["currently_attached"] = true;
  // The primary's IP configuration and the management role move onto the bond.
  for (const char* f : kIpFields) p[f] = prim[f];
  if (p["ip_configuration_mode"].get<std::string>().empty()) p["ip_configuration_mode"] = "None";
  p["management"] = prim["management"];
  p["disallow_unplug"] = prim["disallow_unplug"];
  t.put(master, Object{"PIF", p});

  json b = default_record(*find_class("Bond"));
  b["master"] = master;
  b["primary_slave"] = primary;
  b["mode"] = mode;
  b["properties"] = props;
  b["auto_update_mac"] = bond_mac.empty();
  t.put(bond, Object{"Bond", b});
  for (const auto& m : members) {
    const std::string member_net = t.get(m)->rec["network"];
    t.set_field(m, "bond_slave_of", bond);
    t.set_field(m, "currently_attached", false);
    t.set_field(m, "management", false);
    for (const char* f : kIpFields)
      t.set_field(m, f, std::string(f) == "ip_configuration_mode" ? "None" : "");
    move_vifs(t, member_net, network);  // local VIFs follow the bond
  }
  return bond;
}

Status bond_destroy(Txn& t, const std::string& bond) {
  const json b = t.get(bond)->rec;
  const std::string master = b["master"], primary = b["primary_slave"];
  const json m = t.get(master)->rec;
  if (t.any("VLAN", "tagged_PIF", master)) return make_error("PIF_VLAN_STILL_EXISTS", {master});
  for (const auto& member : t.where("PIF", "bond_slave_of", bond)) {
    t.set_field(member, "bond_slave_of", "");
    t.set_field(member, "currently_attached", member == primary);
  }
  // Management, IP configuration and VIFs go back to the primary member.
  if (const Object* p = t.get(primary, "PIF")) {
    for (const char* f : kIpFields) t.set_field(primary, f, m[f]);
    t.set_field(primary, "management", m["management"]);
    t.set_field(primary, "currently_attached", true);
    move_vifs(t, m["network"], p->rec["network"]);
  }
  t.erase(master);
  t.erase(bond);
  return ok_status();
}

Status bond_set_mode(Txn& t, const std::string& bond, const std::string& mode) {
  if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes))
    return make_error("INVALID_VALUE", {"mode", mode});
  json props = default_properties(mode);
  // Valid properties survive the change; the new mode's defaults fill in the rest.
  for (const auto& [k, v] : t.get(bond)->rec["properties"].items())
    if (check_property(mode, k, v.get<std::string>())) props[k] = v;
  t.set_field(bond, "mode", mode);
  t.set_field(bond, "properties", props);
  return ok_status();
}

Status bond_set_property(Txn& t, const std::string& bond, const std::string& key,
                         const std::string& value) {
  const std::string mode = t.get(bond)->rec["mode"];
  if (auto st = check_property(mode, key, value); !st) return st;
  json props = t.get(bond)->rec["properties"];
  props[key] = value;
  t.set_field(bond, "properties", props);
  return ok_status();
}

}  // namespace hvnet::model
