#include "control/reconciler.h"

#include <set>
#include <unordered_map>

#include "model/ops.h"

namespace hvnet {

namespace {

// One pass over the objects the data plane needs, grouped by the references it follows.
struct Index {
  std::unordered_map<std::string, std::vector<std::string>> vlans_on;    // tagged_PIF -> VLANs
  std::unordered_map<std::string, std::string> bond_of_master;           // master PIF -> Bond
  std::unordered_map<std::string, std::vector<std::string>> members_of;  // Bond -> member PIFs
  explicit Index(const model::Txn& t) {
    for (const auto& v : t.all_of("VLAN"))
      vlans_on[t.get(v)->rec["tagged_PIF"].get<std::string>()].push_back(v);
    for (const auto& b : t.all_of("Bond"))
      bond_of_master.emplace(t.get(b)->rec["master"].get<std::string>(), b);
    for (const auto& p : t.all_of("PIF")) {
      const auto& of = t.get(p)->rec["bond_slave_of"];
      if (of.is_string() && !of.get<std::string>().empty())
        members_of[of.get<std::string>()].push_back(p);
    }
  }
};

// A bond master PIF becomes a bond port: members, mode, properties, and the XenServer-style
// timers from the master's other_config (bond-updelay, bond-downdelay, bond-rebalance-interval).
void bond_spec(const model::Txn& t, const Index& idx, const std::string& bond, PortSpec& p) {
  const auto& b = t.get(bond)->rec;
  const auto& master = t.get(b["master"].get<std::string>())->rec;
  nlohmann::json cfg = {{"mode", b["mode"]}, {"mac", master["MAC"]}};
  const auto& props = b["properties"];
  if (props.contains("hashing_algorithm")) cfg["hashing_algorithm"] = props["hashing_algorithm"];
  if (props.contains("lacp-time")) cfg["lacp_time"] = props["lacp-time"];
  if (props.contains("lacp-fallback-ab"))
    cfg["lacp_fallback_ab"] = props["lacp-fallback-ab"] == "true";
  const auto& oc = master["other_config"];
  for (auto [key, field] : {std::pair{"bond-updelay", "updelay_ms"},
                            {"bond-downdelay", "downdelay_ms"},
                            {"bond-rebalance-interval", "rebalance_ms"}}) {
    if (!oc.contains(key)) continue;
    try {
      cfg[field] = std::stoul(oc[key].get<std::string>());
    } catch (...) {
      // a malformed timer keeps its default, as xapi does
    }
  }
  auto members = idx.members_of.find(bond);
  for (const auto& m :
       members == idx.members_of.end() ? std::vector<std::string>{} : members->second) {
    if (m == b["primary_slave"]) cfg["primary"] = p.members.size();
    p.members.push_back(t.get(m)->rec["device"]);
  }
  auto parsed = parse_bond_config(cfg);
  if (parsed) p.bond = parsed.value();
  p.mac = master["MAC"];
}

}  // namespace

TopologySpec topology_from_model(const model::Txn& t, uint32_t mac_ageing_s) {
  TopologySpec spec;
  spec.mac_ageing_s = mac_ageing_s;
  const Index idx(t);
  auto bridge_of = [&](const std::string& net) -> std::string {
    const model::Object* n = t.get(net, "network");
    return n ? n->rec["bridge"].get<std::string>() : "";
  };
  for (const auto& net : t.all_of("network")) {
    const auto& r = t.get(net)->rec;
    spec.networks.push_back(NetworkSpec{r["bridge"], uint32_t(r["MTU"].get<int64_t>())});
  }
  for (const auto& pif : t.all_of("PIF")) {
    const auto& r = t.get(pif)->rec;
    if (!r["currently_attached"].get<bool>()) continue;
    if (!r["bond_slave_of"].get<std::string>().empty()) continue;
    auto bond = idx.bond_of_master.find(pif);
    const bool is_bond = bond != idx.bond_of_master.end();
    if (!r["physical"].get<bool>() && !is_bond) continue;  // VLAN PIFs ride on their PIF
    PortSpec p;
    p.name = r["device"];
    p.kind = is_bond ? PortKind::kBond : PortKind::kAfPacket;
    p.network = bridge_of(r["network"]);
    if (is_bond) bond_spec(t, idx, bond->second, p);
    auto vlans = idx.vlans_on.find(pif);
    for (const auto& vlan :
         vlans == idx.vlans_on.end() ? std::vector<std::string>{} : vlans->second) {
      const auto& v = t.get(vlan)->rec;
      const model::Object* untagged = t.get(v["untagged_PIF"], "PIF");
      if (!untagged || !untagged->rec["currently_attached"].get<bool>()) continue;
      p.vlans.push_back(
          VlanSpec{uint16_t(v["tag"].get<int64_t>()), bridge_of(untagged->rec["network"])});
    }
    spec.ports.push_back(std::move(p));
  }
  // The host's own interface on every network where a PIF carries an IP configuration.
  for (const auto& pif : t.all_of("PIF")) {
    const auto& r = t.get(pif)->rec;
    if (!r["currently_attached"].get<bool>() || !model::pif_has_ip_config(r)) continue;
    const std::string bridge = bridge_of(r["network"]);
    if (bridge.empty()) continue;
    PortSpec p;
    p.name = bridge;
    p.kind = PortKind::kInternal;
    p.network = bridge;
    spec.ports.push_back(std::move(p));
  }
  for (const auto& vif : t.all_of("VIF")) {
    const auto& r = t.get(vif)->rec;
    if (!r["currently_attached"].get<bool>()) continue;
    PortSpec p;
    p.name = model::vif_device_name(t, vif);
    p.kind = PortKind::kTap;
    p.network = bridge_of(r["network"]);
    p.mac = r["MAC"];
    // Locking: the VIF's own mode, or its network's default.
    std::string mode = r["locking_mode"];
    if (mode == "network_default" || mode.empty()) {
      const model::Object* n = t.get(r["network"], "network");
      mode = n ? n->rec["default_locking_mode"].get<std::string>() : "unlocked";
    }
    p.locking.mode = mode == "locked"     ? LockingMode::kLocked
                     : mode == "disabled" ? LockingMode::kDisabled
                                          : LockingMode::kUnlocked;
    for (const auto& a : r["ipv4_allowed"]) p.locking.ipv4.push_back(a);
    for (const auto& a : r["ipv6_allowed"]) p.locking.ipv6.push_back(a);
    if (r["qos_algorithm_type"] == "ratelimit" && r["qos_algorithm_params"].contains("kbps")) {
      try {
        p.qos_kbps = std::stoull(r["qos_algorithm_params"]["kbps"].get<std::string>());
      } catch (...) {
        p.qos_kbps = 0;  // refused at write time; never reached
      }
    }
    spec.ports.push_back(std::move(p));
  }
  return spec;
}

bool changes_host(const store::Change& change, const model::Object* before) {
  static const std::set<std::string> kHostClasses = {"host", "network", "PIF", "VLAN",
                                                     "Bond", "VIF",     "VM"};
  if (!kHostClasses.count(change.cls)) return false;
  if (change.op != store::Op::kMod || !before) return true;
  auto significant = [&](model::json rec) {
    for (const char* f : {"name_label", "name_description", "tags"}) rec.erase(f);
    if (change.cls != "PIF") rec.erase("other_config");
    return rec;
  };
  return significant(change.record) != significant(before->rec);
}

}  // namespace hvnet
