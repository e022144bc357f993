#include "control/reconciler.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "model/ops.h"
#include "model/records.h"
#include "util/split.h"

namespace hvnet {

namespace {

using model::json;
using model::Txn;

std::string bridge_of(const Txn& t, const json& net) {
  const model::Object* n = net.is_string() ? t.get(net.get<std::string>(), "network") : nullptr;
  return n ? n->rec["bridge"].get<std::string>() : "";
}

std::string bond_of_master(const Txn& t, const std::string& pif) {
  auto b = t.where("Bond", "master", pif);
  return b.empty() ? "" : b.front();
}

// Whether a PIF is this host's (a pool's database holds every member's PIFs).
bool local_pif(const Txn& t, const model::Object* o) {
  return o && o->cls == "PIF" && o->rec["host"] == model::local_host(t);
}

// A PIF that is a trunk port of the switch: this host's, attached, not a bond member, and
// physical or a bond master (VLAN PIFs ride on the PIF carrying their tag). A non-VM network's
// plain NIC is not: the switch lets go of it and the host uses it directly.
bool is_trunk_pif(const Txn& t, const std::string& pif, const model::Object* o) {
  if (!local_pif(t, o)) return false;
  const json& r = o->rec;
  if (!r["currently_attached"].get<bool>() || !r["bond_slave_of"].get<std::string>().empty() ||
      model::releases_nic(t, r))
    return false;
  return r["physical"].get<bool>() || !bond_of_master(t, pif).empty();
}

std::optional<NetworkSpec> network_item(const Txn& t, const std::string& net) {
  const model::Object* n = t.get(net, "network");
  if (!n) return std::nullopt;
  return NetworkSpec{n->rec["bridge"], uint32_t(n->rec["MTU"].get<int64_t>())};
}

// A bond master PIF becomes a bond port: members, mode, properties, and the XenServer-style
// timers from the master's other_config (bond-updelay, bond-downdelay, bond-rebalance-interval).
void bond_spec(const Txn& t, const std::string& bond, PortSpec& p) {
  const auto& b = t.get(bond)->rec;
  const auto& master = t.get(b["master"].get<std::string>())->rec;
  json cfg = {{"mode", b["mode"]}, {"mac", master["MAC"]}};
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
  // Networks on the bond with their own failover order: the master's (untagged) and its VLANs'.
  json orders = json::array();
  auto order_of = [&](const json& net, int64_t vid) {
    const model::Object* n = t.get(net, "network");
    const auto devs = split_commas(n ? model::string_field(n->rec, "failover_order") : "");
    if (devs.empty()) return;
    json members = json::array();
    for (const auto& d : devs)
      if (auto at = std::find(p.members.begin(), p.members.end(), d); at != p.members.end())
        members.push_back(at - p.members.begin());
    orders.push_back({{"vlan", vid}, {"members", members}});
  };
  order_of(master["network"], 0);
  for (const auto& v : t.where("VLAN", "tagged_PIF", b["master"])) {
    const json& vr = t.get(v)->rec;
    const model::Object* u = t.get(vr["untagged_PIF"], "PIF");
    if (u && vr["tag"].get<int64_t>() >= 1 && vr["tag"].get<int64_t>() <= 4094)
      order_of(u->rec["network"], vr["tag"].get<int64_t>());
  }
  cfg["failover_orders"] = orders;
  auto parsed = parse_bond_config(cfg);
  if (parsed) p.bond = parsed.value();
  p.mac = master["MAC"];
}

// The port a mirroring session's copies go to here ("" if its destination is not on this host):
// a VIF's TAP, or a PIF's trunk port. The switch sends to it while it is up (plugged).
std::string mirror_destination_port(const Txn& t, const json& session) {
  const std::string vif = model::string_field(session, "destination_VIF");
  if (const model::Object* v = vif.empty() ? nullptr : t.get(vif, "VIF"))
    return model::vif_runs_here(t, v->rec) ? model::vif_device_name(t, vif) : "";
  const std::string pif = model::string_field(session, "destination_PIF");
  const model::Object* o = pif.empty() ? nullptr : t.get(pif, "PIF");
  return local_pif(t, o) ? o->rec["device"].get<std::string>() : "";
}

// The mirroring sessions' taps on a port (a VIF or PIF uuid), and whether it is a session's
// destination VIF (which then carries nothing else).
void mirror_items(const Txn& t, const std::string& port, PortSpec& p) {
  for (const auto& m : t.all_of("port_mirror")) {
    const json& r = t.get(m)->rec;
    if (r["destination_VIF"] == port) p.mirror_destination = true;
    MirrorTap tap{m, "", uint16_t(r.value("destination_VLAN", int64_t(0)))};
    for (const auto& s : r["ingress_sources"]) tap.ingress = tap.ingress || s == port;
    for (const auto& s : r["egress_sources"]) tap.egress = tap.egress || s == port;
    if (!tap.ingress && !tap.egress) continue;
    tap.to = mirror_destination_port(t, r);
    if (!tap.to.empty()) p.mirrors.push_back(std::move(tap));
  }
  if (p.mirror_destination) {  // copies only: no network, no trunk, no taps of its own
    p.network.clear();
    p.vlans.clear();
    p.vlan_trunk = false;
    p.mirrors.clear();
  }
}

std::optional<PortSpec> trunk_item(const Txn& t, const std::string& pif) {
  const model::Object* o = t.get(pif, "PIF");
  if (!is_trunk_pif(t, pif, o)) return std::nullopt;
  PortSpec p;
  p.name = o->rec["device"];
  const std::string bond = bond_of_master(t, pif);
  p.kind = bond.empty() ? PortKind::kAfPacket : PortKind::kBond;
  p.network = bridge_of(t, o->rec["network"]);
  if (!bond.empty()) bond_spec(t, bond, p);
  mirror_items(t, pif, p);
  p.mirror_destination = false;  // a PIF destination keeps its traffic (RSPAN)
  return p;
}

// The host's own interface on a network where a PIF carries an IP configuration.
std::optional<PortSpec> internal_item(const Txn& t, const std::string& pif) {
  const model::Object* o = t.get(pif, "PIF");
  if (!local_pif(t, o) || !o->rec["currently_attached"].get<bool>() ||
      !model::pif_has_ip_config(o->rec) || model::releases_nic(t, o->rec))
    return std::nullopt;
  const std::string bridge = bridge_of(t, o->rec["network"]);
  if (bridge.empty()) return std::nullopt;
  PortSpec p;
  p.name = bridge;
  p.kind = PortKind::kInternal;
  p.network = bridge;
  return p;
}

// The host's own port on a route or nat network (its gateway; see control/routed_networks.h).
std::optional<PortSpec> routed_item(const Txn& t, const std::string& net) {
  const model::Object* n = t.get(net, "network");
  if (!n || model::network_mode(n->rec) == "bridge") return std::nullopt;
  PortSpec p;
  p.name = n->rec["bridge"];
  p.kind = PortKind::kInternal;
  p.network = p.name;
  return p;
}

// The bridge of the uplink's network of VLAN `tag` here (0: the uplink's own network), "" if none
// is attached.
std::string uplink_vlan_bridge(const Txn& t, const std::string& uplink, int64_t tag) {
  if (tag == 0) return bridge_of(t, t.get(uplink)->rec["network"]);
  for (const auto& v : t.where("VLAN", model::Match{{"tagged_PIF", uplink}, {"tag", tag}})) {
    const model::Object* u = t.get(t.get(v)->rec["untagged_PIF"], "PIF");
    if (u && u->rec["currently_attached"].get<bool>()) return bridge_of(t, u->rec["network"]);
  }
  return "";
}

// A VIF on a guest VLAN tagging network (one with a VLAN 4095 PIF on this host) is a trunk: its
// untagged frames belong to the native VLAN's network on the uplink, the tags of trunk_VLANs to
// the uplink's VLAN networks of those tags (a tag without one is not carried).
void vif_trunk(const Txn& t, const std::string& net, const model::Object& n, PortSpec& p) {
  const std::string pif = model::trunk_pif(t, net, model::local_host(t));
  const model::Object* tp = pif.empty() ? nullptr : t.get(pif, "PIF");
  if (!tp || !tp->rec["currently_attached"].get<bool>()) return;
  const auto vlan = t.get(model::string_field(tp->rec, "VLAN_master_of"), "VLAN");
  const std::string uplink = vlan ? model::string_field(vlan->rec, "tagged_PIF") : "";
  p.vlan_trunk = true;
  p.network.clear();
  if (!is_trunk_pif(t, uplink, t.get(uplink, "PIF"))) return;
  const int64_t native = n.rec.value("native_VLAN", int64_t(0));
  p.network = uplink_vlan_bridge(t, uplink, native);
  auto allowed = model::parse_trunk_vlans(n.rec.value("trunk_VLANs", json::array()));
  if (!allowed) return;  // refused when written
  for (const auto& v : t.where("VLAN", "tagged_PIF", uplink)) {
    const int64_t tag = t.get(v)->rec["tag"].get<int64_t>();
    if (tag == native || tag < 1 || tag > 4094 || !model::vlan_in(allowed.value(), uint16_t(tag)))
      continue;
    if (std::string b = uplink_vlan_bridge(t, uplink, tag); !b.empty())
      p.vlans.push_back(VlanSpec{uint16_t(tag), b});
  }
  std::sort(p.vlans.begin(), p.vlans.end(),
            [](const VlanSpec& a, const VlanSpec& b) { return a.tag < b.tag; });
}

std::optional<PortSpec> vif_item(const Txn& t, const std::string& vif) {
  const model::Object* o = t.get(vif, "VIF");
  if (!o || !o->rec["currently_attached"].get<bool>()) return std::nullopt;
  const json& r = o->rec;
  // Its VM runs here (a pool's other members plug the VIFs of the VMs they run).
  if (!model::vif_runs_here(t, r)) return std::nullopt;
  // A VF: the NIC switches its frames (control/sriov_host.h), no TAP.
  if (r.value("sriov_VF", int64_t(-1)) >= 0) return std::nullopt;
  PortSpec p;
  p.name = model::vif_device_name(t, vif);
  p.kind = PortKind::kTap;
  p.network = bridge_of(t, r["network"]);
  p.mac = r["MAC"];
  const model::Object* n = t.get(r["network"], "network");
  if (n) vif_trunk(t, r["network"], *n, p);
  // A routed network's VMs meet only through the host (its internal port).
  p.isolated = n && model::network_mode(n->rec) == "route";
  // Locking: the VIF's own mode, or its network's default.
  const std::string mode = model::vif_effective_locking_mode(t, r);
  p.locking.mode = mode == "locked"     ? LockingMode::kLocked
                   : mode == "disabled" ? LockingMode::kDisabled
                                        : LockingMode::kUnlocked;
  if (n) {  // its network's security policy and shaping
    p.promiscuous = !model::policy_rejects(n->rec, "promiscuous_mode");
    p.locking.mac_changes_reject = model::policy_rejects(n->rec, "MAC_changes");
    p.locking.forged_reject = model::policy_rejects(n->rec, "forged_transmits");
    auto kb = [&](const char* f) { return uint64_t(n->rec.value(f, int64_t(0))); };
    if (kb("shaping_average"))
      p.shaping = {kb("shaping_average"), kb("shaping_peak"), kb("shaping_burst")};
  }
  for (const auto& a : r["ipv4_allowed"]) p.locking.ipv4.push_back(a);
  for (const auto& a : r["ipv6_allowed"]) p.locking.ipv6.push_back(a);
  const model::VifRate rate = model::vif_rate(r);
  p.qos_kbps = rate.kbps;
  if (rate.timeslice_us) p.qos_timeslice_us = rate.timeslice_us;
  mirror_items(t, vif, p);
  return p;
}

std::optional<VlanItem> vlan_item(const Txn& t, const std::string& vlan) {
  const model::Object* v = t.get(vlan, "VLAN");
  if (!v) return std::nullopt;
  const std::string tagged = v->rec["tagged_PIF"];
  const model::Object* trunk = t.get(tagged, "PIF");
  if (!is_trunk_pif(t, tagged, trunk)) return std::nullopt;
  const model::Object* untagged = t.get(v->rec["untagged_PIF"], "PIF");
  if (!local_pif(t, untagged) || !untagged->rec["currently_attached"].get<bool>() ||
      v->rec["tag"] == model::kTrunkVlanTag)  // guest tagging: its VIFs carry the tags
    return std::nullopt;
  const std::string bridge = bridge_of(t, untagged->rec["network"]);
  if (bridge.empty()) return std::nullopt;
  return VlanItem{trunk->rec["device"], uint16_t(v->rec["tag"].get<int64_t>()), bridge};
}

// This host's tunnel endpoint of `protocol` on a transport PIF: the port named vx-<bridge> (vxlan)
// or gre-<bridge> after the transport PIF's network, on its static address, carrying each active
// tunnel of the protocol on the PIF (the network's key as VNI or GRE key, the other hosts'
// transport addresses and the network's external VTEPs as remotes). A
// network keeps its tag while it stays (`was`: the item the data plane has), so a change to one
// network's tunnels never moves another's.
std::optional<PortSpec> vtep_item(const Txn& t, const std::string& pif, TunnelProtocol protocol,
                                  const PortSpec* was, uint16_t udp_port) {
  const model::Object* o = t.get(pif, "PIF");
  if (!local_pif(t, o) || !o->rec["currently_attached"].get<bool>()) return std::nullopt;
  const std::string local = model::pif_ipv4_address(o->rec);
  const std::string bridge = bridge_of(t, o->rec["network"]);
  PortSpec p;
  const bool gre = protocol == TunnelProtocol::kGre;
  p.name = ((gre ? "gre-" : "vx-") + bridge).substr(0, 15);
  p.kind = gre ? PortKind::kGre : PortKind::kVxlan;
  p.tunnel.protocol = protocol;
  if (local.empty() || bridge.empty() || inet_pton(AF_INET, local.c_str(), &p.tunnel.local) != 1)
    return std::nullopt;
  p.tunnel.udp_port = udp_port;
  std::map<std::string, uint16_t> kept;  // network -> tag
  std::set<uint16_t> taken;
  if (was)
    for (const auto& v : was->vlans) kept.emplace(v.network, v.tag);
  std::vector<std::pair<TunnelNet, std::string>> tunnels;
  for (const auto& tn : t.where("tunnel", "transport_PIF", pif)) {
    if (t.get(tn)->rec["protocol"] != tunnel_protocol_name(protocol) ||
        !model::tunnel_active(t, tn))
      continue;
    const auto spec = network_item(t, model::tunnel_network(t, tn));
    if (!spec) continue;
    const std::string& net = spec->name;
    TunnelNet vt;
    vt.vni = model::tunnel_key(t, tn);
    vt.mtu = spec->mtu;
    for (const auto& r : model::tunnel_remotes(t, tn)) {
      in_addr a{};
      if (inet_pton(AF_INET, r.c_str(), &a) == 1) vt.remotes.push_back(a);
    }
    if (auto k = kept.find(net); k != kept.end()) {
      vt.tag = k->second;
      taken.insert(vt.tag);
    }
    tunnels.emplace_back(std::move(vt), net);
  }
  if (tunnels.empty()) return std::nullopt;
  std::sort(tunnels.begin(), tunnels.end(),
            [](const auto& a, const auto& b) { return a.first.vni < b.first.vni; });
  uint16_t next = 1;
  for (auto& [vt, net] : tunnels) {
    if (vt.tag == 0) {
      while (taken.count(next)) ++next;
      vt.tag = next;
      taken.insert(next);
    }
    p.vlans.push_back(VlanSpec{vt.tag, net});
    p.tunnel.nets.push_back(std::move(vt));
  }
  return p;
}

// Port items are keyed by the object they come from: "pif:<uuid>" (trunk), "ip:<uuid>" (internal
// port of an IP-configured PIF), "net:<uuid>" (internal port of a route or nat network),
// "vif:<uuid>", "vxlan:<uuid>" and "gre:<uuid>" (tunnel endpoints on a transport PIF).
constexpr std::string_view kTrunk = "pif:", kInternal = "ip:", kRouted = "net:", kVif = "vif:",
                           kVtep = "vxlan:", kGreVtep = "gre:";

std::optional<PortSpec> port_item(const Txn& t, const std::string& key, const PortSpec* was,
                                  uint16_t vxlan_port) {
  auto rest = [&](std::string_view prefix) { return key.substr(prefix.size()); };
  if (key.starts_with(kTrunk)) return trunk_item(t, rest(kTrunk));
  if (key.starts_with(kInternal)) return internal_item(t, rest(kInternal));
  if (key.starts_with(kRouted)) return routed_item(t, rest(kRouted));
  if (key.starts_with(kVtep))
    return vtep_item(t, rest(kVtep), TunnelProtocol::kVxlan, was, vxlan_port);
  if (key.starts_with(kGreVtep))
    return vtep_item(t, rest(kGreVtep), TunnelProtocol::kGre, was, vxlan_port);
  return vif_item(t, rest(kVif));
}

// This host's transport PIFs of tunnels.
std::set<std::string> local_transports(const Txn& t) {
  std::set<std::string> out;
  for (const auto& tn : t.all_of("tunnel")) {
    const std::string pif = t.get(tn)->rec["transport_PIF"];
    if (local_pif(t, t.get(pif, "PIF"))) out.insert(pif);
  }
  return out;
}

// Whether a PIF takes part in a tunnel, at either end.
bool tunnel_pif(const Txn& t, const std::string& pif) {
  return t.any("tunnel", "transport_PIF", pif) || t.any("tunnel", "access_PIF", pif);
}

// The items to recompute after a commit: those of the changed objects and those that read them.
struct Dirty {
  std::set<std::string> nets, ports, vlans;
  // Every VTEP of this host: a tunnel, a PIF at a tunnel's end or a tunnelled network changed
  // somewhere in the pool (remotes are other hosts' addresses; a host has a VTEP or two).
  bool vteps = false;

  void pif(const Txn& t, const std::string& pif) {
    ports.insert(std::string(kTrunk) + pif);
    ports.insert(std::string(kInternal) + pif);
    for (const auto& v : t.where("VLAN", "untagged_PIF", pif)) {
      vlans.insert(v);
      const json& tagged = t.get(v)->rec["tagged_PIF"];
      trunk_vifs(t, tagged);  // a VLAN network trunk VIFs may reach
      ports.insert(std::string(kTrunk) + tagged.get<std::string>());  // its bond's orders
    }
    trunk_vifs(t, pif);  // the uplink of trunk VIFs, or its native network
  }
  void vifs_on(const Txn& t, const json& net) {
    for (const auto& v : t.where("VIF", "network", net)) ports.insert(std::string(kVif) + v);
  }
  // The VIFs of the guest VLAN tagging networks on an uplink: they read its VLANs.
  void trunk_vifs(const Txn& t, const json& uplink) {
    for (const auto& v :
         t.where("VLAN", model::Match{{"tagged_PIF", uplink}, {"tag", model::kTrunkVlanTag}}))
      if (const model::Object* u = t.get(t.get(v)->rec["untagged_PIF"], "PIF"))
        vifs_on(t, u->rec["network"]);
  }
  void trunk_vlans(const Txn& t, const std::string& pif) {
    for (const auto& v : t.where("VLAN", "tagged_PIF", pif)) vlans.insert(v);
  }
  // `rec`: the object as the commit left it or as it was before (both are marked).
  void mark(const Txn& t, const std::string& cls, const std::string& uuid, const json& rec) {
    if (cls == "tunnel") {
      vteps = true;
    } else if (cls == "network") {
      nets.insert(uuid);
      ports.insert(std::string(kRouted) + uuid);
      for (const auto& p : t.where("PIF", "network", uuid)) {
        pif(t, p);
        vteps = vteps || t.any("tunnel", "access_PIF", p);
      }
      vifs_on(t, uuid);
    } else if (cls == "PIF") {
      pif(t, uuid);
      if (rec.value("VLAN", int64_t(-1)) == model::kTrunkVlanTag) vifs_on(t, rec["network"]);
      vteps = vteps || tunnel_pif(t, uuid);
      trunk_vlans(t, uuid);  // whether it carries tags, and under which device name
      if (const std::string bond = model::string_field(rec, "bond_slave_of"); !bond.empty())
        if (const model::Object* b = t.get(bond, "Bond"))
          ports.insert(std::string(kTrunk) + b->rec["master"].get<std::string>());
    } else if (cls == "VLAN") {
      vlans.insert(uuid);
      trunk_vifs(t, rec["tagged_PIF"]);
      ports.insert(std::string(kTrunk) + model::string_field(rec, "tagged_PIF"));
    } else if (cls == "Bond") {
      const std::string master = model::string_field(rec, "master");
      ports.insert(std::string(kTrunk) + master);
      trunk_vlans(t, master);
    } else if (cls == "VIF") {
      ports.insert(std::string(kVif) + uuid);
    } else if (cls == "port_mirror") {  // its sources and destination
      for (const char* f : {"ingress_sources", "egress_sources"})
        for (const auto& p : rec.value(f, json::array())) {
          ports.insert(std::string(kVif) + p.get<std::string>());
          ports.insert(std::string(kTrunk) + p.get<std::string>());
        }
      ports.insert(std::string(kVif) + model::string_field(rec, "destination_VIF"));
    } else if (cls == "VM") {
      for (const auto& v : t.where("VIF", "VM", uuid)) ports.insert(std::string(kVif) + v);
    }
  }
};

bool same(const PortSpec& a, const PortSpec& b) {
  return port_settings_json(a) == port_settings_json(b);
}

template <typename T>
const T* find_in(const std::map<std::string, T>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? nullptr : &it->second;
}

}  // namespace

Reconciler::Plan Reconciler::plan(const model::Txn& t, const std::vector<store::Change>& changes,
                                  const Before& before) const {
  Dirty dirty;
  for (const auto& ch : changes) {
    if (ch.op != store::Op::kDel) dirty.mark(t, ch.cls, ch.uuid, ch.record);
    if (auto b = before.find(ch.uuid); b != before.end() && b->second)
      dirty.mark(t, b->second->cls, ch.uuid, b->second->rec);
  }
  if (dirty.vteps) {
    for (const auto& [key, spec] : ports_)
      if (is_tunnel(spec.kind)) dirty.ports.insert(key);
    for (const auto& pif : local_transports(t))
      for (auto prefix : {kVtep, kGreVtep}) dirty.ports.insert(std::string(prefix) + pif);
  }
  Plan p;
  for (const auto& uuid : dirty.nets) {
    auto now = network_item(t, uuid);
    const NetworkSpec* was = find_in(nets_, uuid);
    if (was && (!now || now->name != was->name)) p.delta.del_networks.push_back(was->name);
    if (now && (!was || now->name != was->name || now->mtu != was->mtu))
      p.delta.set_networks.push_back(*now);
    if (now || was) p.nets[uuid] = now;
  }
  for (const auto& key : dirty.ports) {
    const PortSpec* was = find_in(ports_, key);
    auto now = port_item(t, key, was, vxlan_port_);
    if (was && (!now || now->name != was->name)) p.delta.del_ports.push_back(was->name);
    if (now && (!was || !same(*now, *was))) p.delta.set_ports.push_back(*now);
    // A VTEP's networks are its own VLANs (a trunk PIF's come from VLAN objects).
    const bool kept = was && now && now->name == was->name;
    if (now)
      for (const auto& v : now->vlans)
        if (!kept || std::find(was->vlans.begin(), was->vlans.end(), v) == was->vlans.end())
          p.delta.set_vlans.push_back(VlanItem{now->name, v.tag, v.network});
    if (kept)
      for (const auto& v : was->vlans)
        if (std::none_of(now->vlans.begin(), now->vlans.end(),
                         [&](const VlanSpec& n) { return n.tag == v.tag; }))
          p.delta.del_vlans.emplace_back(was->name, v.tag);
    if (now || was) p.ports[key] = now;
  }
  for (const auto& uuid : dirty.vlans) {
    auto now = vlan_item(t, uuid);
    const VlanItem* was = find_in(vlans_, uuid);
    if (was && (!now || now->port != was->port || now->tag != was->tag))
      p.delta.del_vlans.emplace_back(was->port, was->tag);
    if (now && (!was || !(*now == *was))) p.delta.set_vlans.push_back(*now);
    if (now || was) p.vlans[uuid] = now;
  }
  return p;
}

namespace {
template <typename T>
void adopt_items(std::map<std::string, T>& into, std::map<std::string, std::optional<T>>& from) {
  for (auto& [k, v] : from) {
    if (v)
      into.insert_or_assign(k, std::move(*v));
    else
      into.erase(k);
  }
}
}  // namespace

void Reconciler::adopt(Plan&& p) {
  adopt_items(nets_, p.nets);
  adopt_items(ports_, p.ports);
  adopt_items(vlans_, p.vlans);
}

void Reconciler::keep_only(const TopologySpec& have) {
  std::set<std::string> up;
  for (const auto& p : have.ports) up.insert(p.name);
  std::erase_if(ports_, [&](const auto& kv) { return !up.count(kv.second.name); });
  std::erase_if(vlans_, [&](const auto& kv) { return !up.count(kv.second.port); });
}

TopologySpec Reconciler::rebuild(const model::Txn& t) {
  nets_.clear();
  ports_.clear();
  vlans_.clear();
  TopologySpec spec;
  spec.mac_ageing_s = mac_ageing_s_;
  for (const auto& net : t.all_of("network"))
    if (auto n = network_item(t, net)) {
      spec.networks.push_back(*n);
      nets_.emplace(net, std::move(*n));
    }
  std::map<std::string, size_t> trunk_at;  // port name -> its place in spec.ports
  const auto pifs = t.all_of("PIF");
  for (const auto& pif : pifs)
    if (auto p = trunk_item(t, pif)) {
      trunk_at[p->name] = spec.ports.size();
      spec.ports.push_back(*p);
      ports_.emplace(std::string(kTrunk) + pif, std::move(*p));
    }
  for (const auto& pif : pifs)
    if (auto p = internal_item(t, pif)) {
      spec.ports.push_back(*p);
      ports_.emplace(std::string(kInternal) + pif, std::move(*p));
    }
  for (const auto& net : t.all_of("network"))
    if (auto p = routed_item(t, net)) {
      spec.ports.push_back(*p);
      ports_.emplace(std::string(kRouted) + net, std::move(*p));
    }
  for (const auto& vif : t.all_of("VIF"))
    if (auto p = vif_item(t, vif)) {
      spec.ports.push_back(*p);
      ports_.emplace(std::string(kVif) + vif, std::move(*p));
    }
  for (const auto& pif : local_transports(t))
    for (auto [prefix, protocol] :
         {std::pair{kVtep, TunnelProtocol::kVxlan}, std::pair{kGreVtep, TunnelProtocol::kGre}})
      if (auto p = vtep_item(t, pif, protocol, nullptr, vxlan_port_)) {
        spec.ports.push_back(*p);
        ports_.emplace(std::string(prefix) + pif, std::move(*p));
      }
  for (const auto& vlan : t.all_of("VLAN"))
    if (auto v = vlan_item(t, vlan)) {
      spec.ports[trunk_at.at(v->port)].vlans.push_back(VlanSpec{v->tag, v->network});
      vlans_.emplace(vlan, std::move(*v));
    }
  return spec;
}

TopologySpec topology_from_model(const model::Txn& view, uint32_t mac_ageing_s,
                                 uint16_t vxlan_port) {
  return Reconciler(mac_ageing_s, vxlan_port).rebuild(view);
}

bool changes_host(const store::Change& change, const model::Object* before) {
  static const std::set<std::string> kHostClasses = {"host",        "network",      "PIF", "VLAN",
                                                     "Bond",        "VIF",          "VM",  "tunnel",
                                                     "port_mirror", "network_sriov"};
  if (!kHostClasses.count(change.cls)) return false;
  if (change.op != store::Op::kMod || !before) return true;
  auto significant = [&](model::json rec) {
    for (const char* f : {"name_label", "name_description", "tags"}) rec.erase(f);
    if (change.cls != "PIF") rec.erase("other_config");
    return rec;
  };
  return significant(change.record) != significant(before->rec);
}

bool changes_addressing(const store::Change& change, const model::Object* before) {
  auto addressed = [](const model::json& r) {
    return model::pif_has_ip_config(r) || r.value("management", false);
  };
  const bool gone = change.op == store::Op::kDel;
  if (change.cls == "host")
    return !before || gone || change.record["hostname"] != before->rec["hostname"];
  if (change.cls == "PIF")
    return (!gone && addressed(change.record)) || (before && addressed(before->rec));
  if (change.cls == "network")  // a bridge renamed, a NIC taken or given back, a service moved
    return before && !gone &&
           (change.record["bridge"] != before->rec["bridge"] ||
            model::is_vm_network(change.record) != model::is_vm_network(before->rec) ||
            change.record.value("roles", model::json::array()) !=
                before->rec.value("roles", model::json::array()));
  return false;
}

bool changes_routing(const store::Change& change, const model::Object* before,
                     const model::Txn& view) {
  const bool gone = change.op == store::Op::kDel;
  auto routed_net = [](const model::json& rec) { return model::network_mode(rec) != "bridge"; };
  auto either = [&](auto&& pred) {
    return (!gone && pred(change.record)) || (before && pred(before->rec));
  };
  if (change.cls == "network") return either(routed_net);
  if (change.cls == "VIF")
    return either([&](const model::json& v) {
      const model::Object* n = view.get(model::string_field(v, "network"), "network");
      return n && routed_net(n->rec);
    });
  if (change.cls == "PIF")
    return either([](const model::json& p) { return p.value("management", false); });
  return false;
}

}  // namespace hvnet
