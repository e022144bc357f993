#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {

namespace {

std::string free_xenbr(const Txn& t) {
  for (int i = 0;; ++i) {
    std::string b = "xenbr" + std::to_string(i);
    if (!t.any("network", "bridge", b)) return b;
  }
}

bool is_vlan_pif(const Object& pif) {
  return pif.rec["VLAN"].get<int64_t>() >= 0;
}

}  // namespace

Result<std::vector<std::string>> pif_scan(Txn& t, const std::string& host,
                                          const std::vector<NicInfo>& nics) {
  std::vector<std::string> created;
  for (const auto& nic : nics) {
    // A NIC is known by its MAC (XenServer's rule), or by device name for MAC-less devices.
    bool known = false;
    for (const auto& pif : t.where("PIF", "host", host)) {
      const json& r = t.get(pif)->rec;
      if (r["VLAN"].get<int64_t>() >= 0 || !r["physical"].get<bool>()) continue;
      if (r["MAC"] != nic.mac && r["device"] != nic.device) continue;
      known = true;
      // What the NIC can do is the kernel's to say: a rescan brings it up to date.
      if (r.value("capabilities", json::array()) != json(nic.capabilities))
        t.set_field(pif, "capabilities", nic.capabilities);
      if (r.value("sriov_totalvfs", int64_t(0)) != nic.sriov_totalvfs)
        t.set_field(pif, "sriov_totalvfs", nic.sriov_totalvfs);
      if (string_field(r, "PCI_id") != nic.pci_id) t.set_field(pif, "PCI_id", nic.pci_id);
    }
    if (known) continue;
    // XenServer makes a network (and bridge xenbrN) for every new PIF.
    json n = new_network_record();
    n["name_label"] = "Pool-wide network associated with " + nic.device;
    n["bridge"] = free_xenbr(t);
    n["MTU"] = nic.mtu;
    std::string net = new_uuid();
    t.put(net, Object{"network", n});

    json p = new_pif_record(nic.device, nic.mac, nic.mtu, -1, /*physical=*/true, net, host);
    p["currently_attached"] = false;  // new PIFs start unplugged
    p["capabilities"] = nic.capabilities;
    p["sriov_totalvfs"] = nic.sriov_totalvfs;
    p["PCI_id"] = nic.pci_id;
    std::string pif = new_uuid();
    t.put(pif, Object{"PIF", p});
    created.push_back(pif);
  }
  return created;
}

Status pif_plug(Txn& t, const std::string& pif) {
  const Object& p = *t.get(pif);
  if (!p.rec["bond_slave_of"].get<std::string>().empty())
    return make_error("CANNOT_PLUG_BOND_SLAVE", {pif});
  // A tunnel's access PIF needs its transport PIF, with an IP configuration.
  for (const auto& tunnel : t.where("tunnel", "access_PIF", pif)) {
    const std::string transport = t.get(tunnel)->rec["transport_PIF"];
    const Object* tp = t.get(transport, "PIF");
    if (!tp || tp->rec["ip_configuration_mode"] == "None")
      return make_error("TRANSPORT_PIF_NOT_CONFIGURED", {transport});
    if (auto st = pif_plug(t, transport); !st) return st;
  }
  t.set_field(pif, "currently_attached", true);
  if (auto st = pif_sriov_plugged(t, pif, true); !st) return st;
  // A VLAN PIF needs the PIF that carries its tags.
  if (is_vlan_pif(p)) {
    const std::string vlan = p.rec["VLAN_master_of"];
    if (const Object* v = t.get(vlan, "VLAN")) return pif_plug(t, v->rec["tagged_PIF"]);
  }
  return ok_status();
}

Status pif_unplug(Txn& t, const std::string& pif) {
  const Object& p = *t.get(pif);
  if (p.rec["management"].get<bool>()) return make_error("PIF_IS_MANAGEMENT_INTERFACE", {pif});
  if (p.rec["disallow_unplug"].get<bool>()) return make_error("PIF_DOES_NOT_ALLOW_UNPLUG", {pif});
  if (auto st = pif_sriov_plugged(t, pif, false); !st) return st;
  t.set_field(pif, "currently_attached", false);
  return ok_status();
}

Status pif_forget(Txn& t, const std::string& pif) {
  const Object& p = *t.get(pif);
  if (p.rec["management"].get<bool>()) return make_error("PIF_IS_MANAGEMENT_INTERFACE", {pif});
  if (!p.rec["bond_slave_of"].get<std::string>().empty() || t.any("Bond", "master", pif))
    return make_error("PIF_ALREADY_BONDED", {pif});
  if (t.any("VLAN", "tagged_PIF", pif)) return make_error("PIF_VLAN_STILL_EXISTS", {pif});
  if (auto st = refuse_sriov_topology(t, SriovUse::kForget, pif, ""); !st) return st;
  if (t.any("tunnel", "transport_PIF", pif) || t.any("tunnel", "access_PIF", pif))
    return make_error("PIF_TUNNEL_STILL_EXISTS", {pif});
  forget_mirror_port(t, pif);
  t.erase(pif);
  return ok_status();
}

Result<std::string> vlan_create(Txn& t, const std::string& tagged_pif, int64_t tag,
                                const std::string& network) {
  const Object& tagged = *t.get(tagged_pif);
  const std::string host = tagged.rec["host"];
  for (const auto& p : t.where("PIF", "network", network))
    if (t.get(p)->rec["host"] == host) return make_error("NETWORK_ALREADY_CONNECTED", {host, p});
  if (!tagged.rec["bond_slave_of"].get<std::string>().empty())
    return make_error("CANNOT_ADD_VLAN_TO_BOND_SLAVE", {tagged_pif});
  if (is_vlan_pif(tagged)) return make_error("PIF_IS_VLAN", {tagged_pif});
  if (t.any("tunnel", "access_PIF", tagged_pif))
    return make_error("IS_TUNNEL_ACCESS_PIF", {tagged_pif});
  if (tag < 0 || tag > kTrunkVlanTag) return make_error("VLAN_TAG_INVALID", {std::to_string(tag)});
  if (auto st = refuse_non_vm_nic(t, tagged_pif); !st) return st.error();
  if (auto st = refuse_internal_network(t, network); !st) return st.error();
  if (auto st = refuse_sriov_topology(t, SriovUse::kVlan, tagged_pif, network); !st)
    return st.error();
  if (tag != kTrunkVlanTag &&
      !t.where("VLAN", Match{{"tagged_PIF", tagged_pif}, {"tag", tag}}).empty())
    return make_error("PIF_VLAN_EXISTS", {tagged.rec["device"].get<std::string>()});

  std::string vlan = new_uuid();
  std::string untagged = new_uuid();
  // The VLAN PIF has its network's MTU, as the network's other PIFs and VIFs do (set_MTU).
  const Object* n = t.get(network, "network");
  json p = new_pif_record(tagged.rec["device"], "fe:ff:ff:ff:ff:ff",
                          n ? n->rec["MTU"] : tagged.rec["MTU"], tag,
                          /*physical=*/false, network, host);
  p["VLAN_master_of"] = vlan;
  t.put(untagged, Object{"PIF", p});
  json v = default_record(*find_class("VLAN"));
  v["tagged_PIF"] = tagged_pif;
  v["untagged_PIF"] = untagged;
  v["tag"] = tag;
  t.put(vlan, Object{"VLAN", v});
  if (auto st = pif_plug(t, untagged); !st) return st.error();  // plugged at once, as xapi does
  return vlan;
}

Status vlan_destroy(Txn& t, const std::string& vlan) {
  const std::string untagged = t.get(vlan)->rec["untagged_PIF"];
  if (const Object* p = t.get(untagged, "PIF")) {
    if (p->rec["management"].get<bool>())
      return make_error("PIF_IS_MANAGEMENT_INTERFACE", {untagged});
    t.erase(untagged);
  }
  t.erase(vlan);
  return ok_status();
}

Result<std::vector<std::string>> pool_create_vlan(Txn& t, const std::string& device,
                                                  const std::string& network, int64_t tag) {
  std::vector<std::string> out;
  for (const auto& pif : t.where("PIF", "device", device)) {
    const json& r = t.get(pif)->rec;
    // (a logical PIF shares its NIC's device: the VLAN goes on the NIC's own PIF)
    if (r["VLAN"].get<int64_t>() >= 0 || !sriov_of_logical(t, pif).empty()) continue;
    auto v = vlan_create(t, pif, tag, network);
    if (!v) return v.error();
    out.push_back(t.get(v.value())->rec["untagged_PIF"]);
  }
  if (out.empty()) return make_error("INVALID_VALUE", {"device", device});
  return out;
}

}  // namespace hvnet::model
