// SR-IOV networks (network_sriov), XenServer's way: a capable NIC's physical PIF gets a logical
// PIF (same device, MAC fe:ff:ff:ff:ff:ff) that puts a network of VFs on its host; VLANs may sit on
// the logical PIF. A VIF on such a network holds one VF of its VM's host while the VM runs (taken
// at VM.start, given back at shutdown; never hot-plugged), recorded in VIF.sriov_VF so that the
// store alone says which VF is whose. Pure model: the host's SR-IOV edge
// (control/sriov_host.h) enables the VFs and sets them from what is committed here.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {

namespace {

const Object* pif_of(const Txn& t, const std::string& uuid) {
  return t.get(uuid, "PIF");
}

// The networks whose VIFs may hold VFs of `sriov`: the logical PIF's and those of VLANs on it.
std::vector<std::string> sriov_networks(const Txn& t, const std::string& sriov) {
  std::vector<std::string> out;
  const Object* s = t.get(sriov, "network_sriov");
  if (!s) return out;
  const std::string logical = string_field(s->rec, "logical_PIF");
  if (const Object* l = pif_of(t, logical)) out.push_back(string_field(l->rec, "network"));
  for (const auto& vlan : t.where("VLAN", "tagged_PIF", logical))
    if (const Object* u = pif_of(t, string_field(t.get(vlan)->rec, "untagged_PIF")))
      out.push_back(string_field(u->rec, "network"));
  return out;
}

// The host a VIF's VM runs on ("" when it does not run).
std::string vif_host(const Txn& t, const json& vif) {
  const Object* vm = t.get(string_field(vif, "VM"), "VM");
  if (!vm || vm->rec["power_state"] != "Running") return "";
  const std::string where = string_field(vm->rec, "resident_on");
  return where.empty() ? local_host(t) : where;
}

bool same_device_type(const Txn& t, const std::string& a, const std::string& b) {
  const Object* pa = pif_of(t, a);
  const Object* pb = pif_of(t, b);
  return pa && pb && string_field(pa->rec, "PCI_id") == string_field(pb->rec, "PCI_id");
}

// The network_sriov behind the first PIF of `net` and whether that PIF is a VLAN on it.
std::pair<std::string, bool> network_sriov_kind(const Txn& t, const std::string& net) {
  const auto pifs = t.where("PIF", "network", net);
  if (pifs.empty()) return {"", false};
  const std::string sriov = sriov_under(t, pifs.front());
  return {sriov, !sriov.empty() && pif_of(t, pifs.front())->rec["VLAN"].get<int64_t>() >= 0};
}

}  // namespace

std::map<int64_t, std::string> sriov_held_vfs(const Txn& t, const std::string& sriov) {
  std::map<int64_t, std::string> out;
  const Object* s = t.get(sriov, "network_sriov");
  const Object* phys = s ? pif_of(t, string_field(s->rec, "physical_PIF")) : nullptr;
  if (!phys) return out;
  const std::string host = string_field(phys->rec, "host");
  for (const auto& net : sriov_networks(t, sriov))
    for (const auto& vif : t.where("VIF", "network", net)) {
      const json& r = t.get(vif)->rec;
      const int64_t vf = r.value("sriov_VF", int64_t(-1));
      if (vf >= 0 && vif_host(t, r) == host) out.emplace(vf, vif);
    }
  return out;
}

std::string sriov_of_logical(const Txn& t, const std::string& pif) {
  auto s = t.where("network_sriov", "logical_PIF", pif);
  return s.empty() ? "" : s.front();
}

std::string sriov_under(const Txn& t, const std::string& pif) {
  const Object* p = pif_of(t, pif);
  if (!p) return "";
  if (p->rec["VLAN"].get<int64_t>() >= 0) {
    const Object* vlan = t.get(string_field(p->rec, "VLAN_master_of"), "VLAN");
    return vlan ? sriov_of_logical(t, string_field(vlan->rec, "tagged_PIF")) : "";
  }
  return sriov_of_logical(t, pif);
}

bool is_sriov_network(const Txn& t, const std::string& net) {
  return !network_sriov_kind(t, net).first.empty();
}

std::optional<SriovPlace> sriov_on_host(const Txn& t, const std::string& net,
                                        const std::string& host) {
  for (const auto& p : t.where("PIF", "network", net)) {
    const Object* pif = pif_of(t, p);
    if (string_field(pif->rec, "host") != host) continue;
    const std::string sriov = sriov_under(t, p);
    if (sriov.empty()) return std::nullopt;
    SriovPlace place{sriov, std::max<int64_t>(0, pif->rec["VLAN"].get<int64_t>()), p};
    return place;
  }
  return std::nullopt;
}

int64_t sriov_remaining_capacity(const Txn& t, const std::string& sriov) {
  const Object* s = t.get(sriov, "network_sriov");
  const Object* phys = s ? pif_of(t, string_field(s->rec, "physical_PIF")) : nullptr;
  const Object* logical = s ? pif_of(t, string_field(s->rec, "logical_PIF")) : nullptr;
  if (!phys || !logical || !logical->rec["currently_attached"].get<bool>()) return 0;
  const int64_t total = phys->rec.value("sriov_totalvfs", int64_t(0));
  return std::max<int64_t>(0, total - int64_t(sriov_held_vfs(t, sriov).size()));
}

Result<std::string> network_sriov_create(Txn& t, const std::string& pif,
                                         const std::string& network) {
  const Object* n = t.get(network, "network");
  if (!n) return make_error("HANDLE_INVALID", {"network", network});
  if (!n->rec["managed"].get<bool>()) return make_error("NETWORK_UNMANAGED", {network});
  const Object& p = *pif_of(t, pif);
  if (!p.rec["managed"].get<bool>()) return make_error("PIF_UNMANAGED", {pif});
  // xapi's order: the PIF's kind, SR-IOV already on it, its capability, the network's PIFs.
  if (!p.rec["physical"].get<bool>() || p.rec["VLAN"].get<int64_t>() >= 0)
    return make_error("PIF_IS_NOT_PHYSICAL", {pif});
  if (t.any("network_sriov", "physical_PIF", pif))
    return make_error("NETWORK_SRIOV_ALREADY_ENABLED", {pif});
  const json caps = p.rec.value("capabilities", json::array());
  if (std::find(caps.begin(), caps.end(), "sriov") == caps.end())
    return make_error("PIF_IS_NOT_SRIOV_CAPABLE", {pif});
  const std::string host = string_field(p.rec, "host");
  for (const auto& other : t.where("PIF", "network", network))
    if (string_field(pif_of(t, other)->rec, "host") == host)
      return make_error("NETWORK_ALREADY_CONNECTED", {host, other});
  if (auto st = refuse_internal_network(t, network); !st) return st.error();
  // A network of SR-IOV PIFs only, of one kind of NIC (its VMs find the same VF on every host).
  if (const auto pifs = t.where("PIF", "network", network); !pifs.empty()) {
    const auto [sriov, on_vlan] = network_sriov_kind(t, network);
    if (sriov.empty() || on_vlan) return make_error("NETWORK_INCOMPATIBLE_WITH_SRIOV", {network});
    if (!same_device_type(t, pif, string_field(t.get(sriov)->rec, "physical_PIF")))
      return make_error("NETWORK_HAS_INCOMPATIBLE_SRIOV_PIFS", {pif, network});
  }

  const std::string logical = new_uuid(), sriov = new_uuid();
  json lp = new_pif_record(p.rec["device"], kSriovLogicalMac, p.rec["MTU"], -1,
                           /*physical=*/false, network, host);
  lp["currently_attached"] = false;
  t.put(logical, Object{"PIF", lp});
  json rec = default_record(*find_class("network_sriov"));
  rec["physical_PIF"] = pif;
  rec["logical_PIF"] = logical;
  t.put(sriov, Object{"network_sriov", rec});
  if (auto st = pif_plug(t, logical); !st) return st.error();
  return sriov;
}

Status network_sriov_destroy(Txn& t, const std::string& sriov) {
  const std::string logical = string_field(t.get(sriov)->rec, "logical_PIF");
  if (t.any("VLAN", "tagged_PIF", logical)) return make_error("PIF_VLAN_STILL_EXISTS", {logical});
  if (auto st = refuse_vfs_in_use(t, sriov); !st) return st;
  if (pif_of(t, logical)) t.erase(logical);
  t.erase(sriov);
  return ok_status();
}

Status refuse_vfs_in_use(const Txn& t, const std::string& sriov) {
  const auto held = sriov_held_vfs(t, sriov);
  if (held.empty()) return ok_status();
  return make_error("OPERATION_NOT_ALLOWED",
                    {"VF " + std::to_string(held.begin()->first) + " of the NIC is held by VIF " +
                     held.begin()->second + ": shut its VM down first"});
}

Status pif_sriov_plugged(Txn& t, const std::string& logical, bool plugged) {
  const std::string sriov = sriov_of_logical(t, logical);
  if (sriov.empty()) return ok_status();
  if (!plugged) return refuse_vfs_in_use(t, sriov);
  // hvnet enables VFs by writing sriov_numvfs: that takes effect at once.
  t.set_field(sriov, "configuration_mode", "sysfs");
  t.set_field(sriov, "requires_reboot", false);
  return ok_status();
}

Status take_vfs(Txn& t, const std::string& vm, const std::string& host) {
  std::map<std::string, std::set<int64_t>> taken;  // sriov -> VFs held, with those taken here
  // In device order: the VM's first VIF gets the lowest free VF, whatever the uuids.
  std::vector<std::pair<int64_t, std::string>> by_device;
  for (const auto& vif : t.where("VIF", "VM", vm))
    by_device.emplace_back(
        std::strtoll(string_field(t.get(vif)->rec, "device").c_str(), nullptr, 10), vif);
  std::sort(by_device.begin(), by_device.end());
  for (const auto& [device, vif] : by_device) {
    const json& r = t.get(vif)->rec;
    const std::string net = string_field(r, "network");
    if (!is_sriov_network(t, net)) continue;
    const auto place = sriov_on_host(t, net, host);
    const Object* logical = place ? pif_of(t, place->pif) : nullptr;
    if (!place || !logical || !logical->rec["currently_attached"].get<bool>())
      return make_error("VM_REQUIRES_NETWORK", {vm, net});
    auto [it, fresh] = taken.try_emplace(place->sriov);
    if (fresh)
      for (const auto& [vf, holder] : sriov_held_vfs(t, place->sriov)) it->second.insert(vf);
    const Object* s = t.get(place->sriov, "network_sriov");
    const Object* phys = pif_of(t, string_field(s->rec, "physical_PIF"));
    const int64_t total = phys ? phys->rec.value("sriov_totalvfs", int64_t(0)) : 0;
    int64_t vf = 0;
    while (vf < total && it->second.count(vf)) ++vf;
    if (vf >= total) return make_error("NETWORK_SRIOV_INSUFFICIENT_CAPACITY", {net});
    it->second.insert(vf);
    t.set_field(vif, "sriov_VF", vf);
  }
  return ok_status();
}

Status refuse_sriov_vif_hotplug(const Txn& t, const std::string& vif) {
  const Object* v = t.get(vif, "VIF");
  if (v && is_sriov_network(t, string_field(v->rec, "network")))
    return make_error("OPERATION_NOT_ALLOWED", {"Network SR-IOV VIF plug/unplug not allowed"});
  return ok_status();
}

Status refuse_sriov_topology(const Txn& t, SriovUse use, const std::string& pif,
                             const std::string& network) {
  const std::string under = pif.empty() ? "" : sriov_under(t, pif);
  const bool logical = !pif.empty() && !under.empty() && !sriov_of_logical(t, pif).empty();
  switch (use) {
    case SriovUse::kBond:
      if (logical) return make_error("PIF_IS_SRIOV_LOGICAL", {pif});
      if (is_sriov_network(t, network))
        return make_error("NETWORK_INCOMPATIBLE_WITH_BOND", {network});
      break;
    case SriovUse::kTunnel:
      if (logical) return make_error("CANNOT_ADD_TUNNEL_TO_SRIOV_LOGICAL", {pif});
      if (!under.empty()) return make_error("CANNOT_ADD_TUNNEL_TO_VLAN_ON_SRIOV_LOGICAL", {pif});
      if (is_sriov_network(t, network))
        return make_error("NETWORK_INCOMPATIBLE_WITH_TUNNEL", {network});
      break;
    case SriovUse::kVlan: {
      const auto [sriov, on_vlan] = network_sriov_kind(t, network);
      const bool empty = !t.any("PIF", "network", network);
      if (logical) {
        // A VLAN on a logical PIF joins a network of such VLANs on the same kind of NIC.
        if (empty) break;
        if (!on_vlan) return make_error("NETWORK_INCOMPATIBLE_WITH_VLAN_ON_SRIOV", {network});
        if (!same_device_type(t, string_field(t.get(under)->rec, "physical_PIF"),
                              string_field(t.get(sriov)->rec, "physical_PIF")))
          return make_error("NETWORK_HAS_INCOMPATIBLE_VLAN_ON_SRIOV_PIFS", {pif, network});
      } else if (!sriov.empty()) {
        return make_error("NETWORK_INCOMPATIBLE_WITH_VLAN_ON_BRIDGE", {network});
      }
      break;
    }
    case SriovUse::kForget:
      if (logical) return make_error("CANNOT_FORGET_SRIOV_LOGICAL", {pif});
      if (t.any("network_sriov", "physical_PIF", pif))
        return make_error("PIF_SRIOV_STILL_EXISTS", {pif});
      break;
  }
  return ok_status();
}

}  // namespace hvnet::model
