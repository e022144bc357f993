#include "control/reconciler.h"

#include "model/ops.h"

namespace hvnet {

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
    if (!r["physical"].get<bool>() || !r["currently_attached"].get<bool>()) continue;
    if (!r["bond_slave_of"].get<std::string>().empty()) continue;
    PortSpec p;
    p.name = r["device"];
    p.kind = PortKind::kAfPacket;
    p.network = bridge_of(r["network"]);
    for (const auto& vlan : t.where("VLAN", "tagged_PIF", pif)) {
      const auto& v = t.get(vlan)->rec;
      const model::Object* untagged = t.get(v["untagged_PIF"], "PIF");
      if (!untagged || !untagged->rec["currently_attached"].get<bool>()) continue;
      p.vlans.push_back(
          VlanSpec{uint16_t(v["tag"].get<int64_t>()), bridge_of(untagged->rec["network"])});
    }
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
    spec.ports.push_back(std::move(p));
  }
  return spec;
}

}  // namespace hvnet
