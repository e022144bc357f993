#include "control/reconciler.h"

#include "model/ops.h"

namespace hvnet {

namespace {

// A bond master PIF becomes a bond port: members, mode, properties, and the XenServer-style
// timers from the master's other_config (bond-updelay, bond-downdelay, bond-rebalance-interval).
void bond_spec(const model::Txn& t, const std::string& bond, PortSpec& p) {
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
  for (const auto& m : t.where("PIF", "bond_slave_of", bond)) {
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
    const auto bonds = t.where("Bond", "master", pif);
    if (!r["physical"].get<bool>() && bonds.empty()) continue;  // VLAN PIFs ride on their PIF
    PortSpec p;
    p.name = r["device"];
    p.kind = bonds.empty() ? PortKind::kAfPacket : PortKind::kBond;
    p.network = bridge_of(r["network"]);
    if (!bonds.empty()) bond_spec(t, bonds.front(), p);
    for (const auto& vlan : t.where("VLAN", "tagged_PIF", pif)) {
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

}  // namespace hvnet
