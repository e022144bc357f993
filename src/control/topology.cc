#include "control/topology.h"

#include <arpa/inet.h>

#include <map>
#include <set>

#include "packet/mac.h"
#include "util/ipv4.h"

namespace hvnet {

namespace {

Result<PortKind> parse_kind(const std::string& s) {
  if (s == "tap" || s == "vif") return PortKind::kTap;
  if (s == "internal") return PortKind::kInternal;
  if (s == "af_packet" || s == "pif") return PortKind::kAfPacket;
  if (s == "bond") return PortKind::kBond;
  if (s == "vxlan") return PortKind::kVxlan;
  if (s == "gre") return PortKind::kGre;
  return make_error("INVALID_VALUE", {"type", s});
}

template <typename T>
Result<T> get_number(const nlohmann::json& j, const char* key, T fallback, int64_t lo, int64_t hi,
                     const char* error_code) {
  if (!j.contains(key)) return fallback;
  const auto& v = j.at(key);
  if (!v.is_number_integer()) return make_error(error_code, {v.dump()});
  int64_t n = v.get<int64_t>();
  if (n < lo || n > hi) return make_error(error_code, {std::to_string(n)});
  return T(n);
}

Result<in_addr> parse_ipv4(const std::string& what, const nlohmann::json& v) {
  in_addr a{};
  if (!v.is_string() || inet_pton(AF_INET, v.get<std::string>().c_str(), &a) != 1)
    return make_error("INVALID_IP_ADDRESS_SPECIFIED", {what, v.dump()});
  return a;
}

// A tunnel endpoint: "local", "tunnels": [{"vni" (vxlan) or "key" (gre), "network",
// "remotes": [...]}], and for vxlan "udp_port". Tunnel i is presented to the switch under tag i+1.
Status parse_tunnel(const nlohmann::json& p, const TopologySpec& topo, PortSpec& ps) {
  const bool gre = ps.kind == PortKind::kGre;
  ps.tunnel.protocol = gre ? TunnelProtocol::kGre : TunnelProtocol::kVxlan;
  if (p.contains("vlans"))
    return make_error("INVALID_VALUE", {"vlans", "a tunnel port has tunnels"});
  auto local = parse_ipv4("local", p.value("local", nlohmann::json("0.0.0.0")));
  if (!local) return local.error();
  ps.tunnel.local = local.value();
  if (gre && p.contains("udp_port"))
    return make_error("INVALID_VALUE", {"udp_port", "GRE has no ports"});
  auto port = get_number<uint16_t>(p, "udp_port", kVxlanDefaultPort, 1, 65535, "INVALID_VALUE");
  if (!port) return make_error("INVALID_VALUE", {"udp_port", port.error().params.at(0)});
  ps.tunnel.udp_port = port.value();
  const auto tunnels = p.value("tunnels", nlohmann::json::array());
  if (!tunnels.is_array() || tunnels.size() > 4094)
    return make_error("INVALID_VALUE", {"tunnels", "an array of at most 4094"});
  const char* key_name = gre ? "key" : "vni";
  for (const auto& t : tunnels) {
    if (!t.is_object() || !t.contains("network") || !t["network"].is_string())
      return make_error("INVALID_VALUE", {"tunnels", t.dump()});
    auto vni =
        get_number<uint32_t>(t, key_name, 0, 1, gre ? UINT32_MAX : kVxlanMaxVni, "INVALID_VALUE");
    if (!vni || vni.value() == 0)
      return make_error("INVALID_VALUE", {key_name, t.value(key_name, nlohmann::json()).dump()});
    TunnelNet vt;
    vt.vni = vni.value();
    vt.tag = uint16_t(ps.tunnel.nets.size() + 1);
    for (const auto& r : t.value("remotes", nlohmann::json::array())) {
      auto a = parse_ipv4("remotes", r);
      if (!a) return a.error();
      vt.remotes.push_back(a.value());
    }
    ps.vlans.push_back(VlanSpec{vt.tag, t["network"].get<std::string>()});
    if (const NetworkSpec* n = topo.network(ps.vlans.back().network)) vt.mtu = n->mtu;
    ps.tunnel.nets.push_back(std::move(vt));
  }
  return ok_status();
}

}  // namespace

Result<BondConfig> parse_bond_config(const nlohmann::json& p) {
  BondConfig c;
  const std::string mode = p.value("mode", std::string("balance-slb"));
  if (mode == "active-backup")
    c.mode = BondMode::kActiveBackup;
  else if (mode == "balance-slb")
    c.mode = BondMode::kBalanceSlb;
  else if (mode == "lacp")
    c.mode = BondMode::kLacp;
  else
    return make_error("INVALID_VALUE", {"mode", mode});
  const std::string hash = p.value("hashing_algorithm", std::string("tcpudp_ports"));
  if (hash == "src_mac")
    c.hash = BondHash::kSrcMac;
  else if (hash == "tcpudp_ports")
    c.hash = BondHash::kTcpUdpPorts;
  else
    return make_error("INVALID_VALUE", {"hashing_algorithm", hash});
  const std::string time = p.value("lacp_time", std::string("slow"));
  if (time != "fast" && time != "slow") return make_error("INVALID_VALUE", {"lacp-time", time});
  c.lacp_fast = time == "fast";
  c.fallback_ab = p.value("lacp_fallback_ab", true);
  auto ms = [&](const char* key, uint32_t def) -> Result<uint32_t> {
    return get_number<uint32_t>(p, key, def, 0, 3600000, "INVALID_VALUE");
  };
  auto up = ms("updelay_ms", 0), down = ms("downdelay_ms", 0), reb = ms("rebalance_ms", 10000);
  if (!up) return make_error("INVALID_VALUE", {"updelay", up.error().params.at(0)});
  if (!down) return make_error("INVALID_VALUE", {"downdelay", down.error().params.at(0)});
  if (!reb) return make_error("INVALID_VALUE", {"rebalance-interval", reb.error().params.at(0)});
  c.updelay_ms = up.value();
  c.downdelay_ms = down.value();
  c.rebalance_ms = reb.value();
  if (p.contains("mac") && p["mac"].is_string() && !p["mac"].get<std::string>().empty()) {
    auto m = MacAddr::parse(p["mac"].get<std::string>());
    if (!m) return make_error("MAC_INVALID", {p["mac"].get<std::string>()});
    c.mac = m->b;
  }
  c.primary = uint32_t(p.value("primary", 0));
  for (const auto& o : p.value("failover_orders", nlohmann::json::array())) {
    FailoverOrder fo;
    auto vid = get_number<int64_t>(o, "vlan", 0, 0, 4094, "VLAN_TAG_INVALID");
    if (!vid) return vid.error();
    fo.vid = uint16_t(vid.value());
    for (const auto& m : o.value("members", nlohmann::json::array())) {
      if (!m.is_number_integer() || m.get<int64_t>() < 0 || m.get<int64_t>() >= 4)
        return make_error("INVALID_VALUE", {"failover_orders", o.dump()});
      fo.members.push_back(uint8_t(m.get<int64_t>()));
    }
    c.orders.push_back(std::move(fo));
  }
  return c;
}

nlohmann::json bond_config_to_json(const BondConfig& c) {
  return {{"mode", bond_mode_name(c.mode)},
          {"hashing_algorithm", c.hash == BondHash::kSrcMac ? "src_mac" : "tcpudp_ports"},
          {"lacp_time", c.lacp_fast ? "fast" : "slow"},
          {"lacp_fallback_ab", c.fallback_ab},
          {"updelay_ms", c.updelay_ms},
          {"downdelay_ms", c.downdelay_ms},
          {"rebalance_ms", c.rebalance_ms},
          {"primary", c.primary},
          {"failover_orders", [&] {
             nlohmann::json a = nlohmann::json::array();
             for (const auto& o : c.orders) a.push_back({{"vlan", o.vid}, {"members", o.members}});
             return a;
           }()}};
}

const NetworkSpec* TopologySpec::network(const std::string& name) const {
  for (const auto& n : networks)
    if (n.name == name) return &n;
  return nullptr;
}

namespace {
Result<TopologySpec> parse_topology_unchecked(const nlohmann::json& j);
}

Result<TopologySpec> parse_topology(const nlohmann::json& j) {
  try {
    return parse_topology_unchecked(j);
  } catch (const nlohmann::json::exception& e) {  // a member of the wrong JSON type
    return make_error("INVALID_VALUE", {"topology", e.what()});
  }
}

namespace {
Result<TopologySpec> parse_topology_unchecked(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("INVALID_VALUE", {"topology", "not a JSON object"});
  TopologySpec t;
  auto ageing = get_number<uint32_t>(j, "mac_ageing_s", 300, 1, 86400, "INVALID_VALUE");
  if (!ageing) return make_error("INVALID_VALUE", {"mac_ageing_s", ageing.error().params.at(0)});
  t.mac_ageing_s = ageing.value();

  for (const auto& n : j.value("networks", nlohmann::json::array())) {
    if (!n.is_object() || !n.contains("name") || !n["name"].is_string())
      return make_error("INVALID_VALUE", {"networks", n.dump()});
    NetworkSpec ns;
    ns.name = n["name"].get<std::string>();
    auto mtu = get_number<uint32_t>(n, "mtu", 1500, kMinMtu, kMaxMtu, "MTU_INVALID");
    if (!mtu) return mtu.error();
    ns.mtu = mtu.value();
    t.networks.push_back(std::move(ns));
  }
  for (const auto& p : j.value("ports", nlohmann::json::array())) {
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string())
      return make_error("INVALID_VALUE", {"ports", p.dump()});
    PortSpec ps;
    ps.name = p["name"].get<std::string>();
    auto kind = parse_kind(p.value("type", std::string("tap")));
    if (!kind) return kind.error();
    ps.kind = kind.value();
    ps.network = p.value("network", std::string());
    ps.mac = p.value("mac", std::string());
    if (!ps.mac.empty() && !MacAddr::parse(ps.mac)) return make_error("MAC_INVALID", {ps.mac});
    if (is_tunnel(ps.kind)) {
      if (auto st = parse_tunnel(p, t, ps); !st) return st.error();
    }
    for (const auto& v : p.value("vlans", nlohmann::json::array())) {
      if (!v.is_object() || !v.contains("network") || !v["network"].is_string())
        return make_error("INVALID_VALUE", {"vlans", v.dump()});
      auto tag = get_number<int64_t>(v, "tag", -1, -1, 1 << 30, "VLAN_TAG_INVALID");
      if (!tag) return tag.error();
      if (tag.value() < 0 || tag.value() > 4094)
        return make_error("VLAN_TAG_INVALID", {std::to_string(tag.value())});
      ps.vlans.push_back(VlanSpec{uint16_t(tag.value()), v["network"].get<std::string>()});
    }
    if (p.contains("locking")) {
      const auto& l = p["locking"];
      if (!l.is_object()) return make_error("INVALID_VALUE", {"locking", l.dump()});
      const std::string mode = l.value("mode", std::string("unlocked"));
      if (mode == "locked")
        ps.locking.mode = LockingMode::kLocked;
      else if (mode == "disabled")
        ps.locking.mode = LockingMode::kDisabled;
      else if (mode != "unlocked")
        return make_error("INVALID_VALUE", {"locking_mode", mode});
      for (auto [key, flag] : {std::pair{"forged_transmits", &ps.locking.forged_reject},
                               std::pair{"mac_changes", &ps.locking.mac_changes_reject}}) {
        const std::string v = l.value(key, std::string("accept"));
        if (v != "accept" && v != "reject") return make_error("INVALID_VALUE", {key, v});
        *flag = v == "reject";
      }
      for (const char* fam : {"ipv4", "ipv6"})
        for (const auto& a : l.value(fam, nlohmann::json::array())) {
          if (!a.is_string()) return make_error("INVALID_IP_ADDRESS_SPECIFIED", {fam, a.dump()});
          (std::string(fam) == "ipv4" ? ps.locking.ipv4 : ps.locking.ipv6).push_back(a);
        }
    }
    auto kbps = get_number<uint64_t>(p, "qos_kbps", 0, 0, 100000000, "INVALID_VALUE");
    if (!kbps) return make_error("INVALID_VALUE", {"qos_kbps", kbps.error().params.at(0)});
    ps.qos_kbps = kbps.value();
    auto slice = get_number<uint64_t>(p, "qos_timeslice_us", 0, 0, 10000000, "INVALID_VALUE");
    if (!slice)
      return make_error("INVALID_VALUE", {"qos_timeslice_us", slice.error().params.at(0)});
    ps.qos_timeslice_us = slice.value();
    if (p.contains("shaping")) {
      const auto& sj = p["shaping"];
      if (!sj.is_object() || ps.kind != PortKind::kTap)
        return make_error("INVALID_VALUE", {"shaping", sj.dump()});
      for (auto [key, into] :
           {std::pair{"average", &ps.shaping.average}, std::pair{"peak", &ps.shaping.peak},
            std::pair{"burst", &ps.shaping.burst}}) {
        auto v = get_number<uint64_t>(sj, key, 0, 0, 100000000, "INVALID_VALUE");
        if (!v) return make_error("INVALID_VALUE", {std::string("shaping.") + key, sj.dump()});
        *into = v.value();
      }
    }
    for (const auto& m : p.value("mirrors", nlohmann::json::array())) {
      if (!m.is_object() || !m.contains("to") || !m["to"].is_string())
        return make_error("INVALID_VALUE", {"mirrors", m.dump()});
      MirrorTap tap{m.value("session", std::string()), m["to"].get<std::string>()};
      auto vlan = get_number<int64_t>(m, "vlan", 0, 0, 4094, "VLAN_TAG_INVALID");
      if (!vlan) return vlan.error();
      tap.vlan = uint16_t(vlan.value());
      const std::string dir = m.value("direction", std::string("both"));
      if (dir != "ingress" && dir != "egress" && dir != "both")
        return make_error("INVALID_VALUE", {"direction", dir});
      tap.ingress = dir != "egress";
      tap.egress = dir != "ingress";
      ps.mirrors.push_back(std::move(tap));
    }
    if (p.contains("mirror_destination")) {
      if (!p["mirror_destination"].is_boolean() || ps.kind != PortKind::kTap)
        return make_error("INVALID_VALUE", {"mirror_destination", p["mirror_destination"].dump()});
      ps.mirror_destination = p["mirror_destination"].get<bool>();
    }
    if (p.contains("isolated")) {
      if (!p["isolated"].is_boolean() || ps.kind != PortKind::kTap)
        return make_error("INVALID_VALUE", {"isolated", p["isolated"].dump()});
      ps.isolated = p["isolated"].get<bool>();
    }
    if (p.contains("promiscuous")) {
      if (!p["promiscuous"].is_boolean() || ps.kind != PortKind::kTap)
        return make_error("INVALID_VALUE", {"promiscuous", p["promiscuous"].dump()});
      ps.promiscuous = p["promiscuous"].get<bool>();
    }
    if (p.contains("vlan_trunk")) {
      if (!p["vlan_trunk"].is_boolean() || ps.kind != PortKind::kTap)
        return make_error("INVALID_VALUE", {"vlan_trunk", p["vlan_trunk"].dump()});
      ps.vlan_trunk = p["vlan_trunk"].get<bool>();
    }
    if (ps.kind == PortKind::kBond) {
      for (const auto& m : p.value("members", nlohmann::json::array())) {
        if (!m.is_string()) return make_error("INVALID_VALUE", {"members", m.dump()});
        ps.members.push_back(m.get<std::string>());
      }
      auto bc = parse_bond_config(p);
      if (!bc) return bc.error();
      ps.bond = bc.value();
    }
    t.ports.push_back(std::move(ps));
  }
  if (auto st = validate_topology(t); !st) return st.error();
  return t;
}
}  // namespace

Status validate_topology(const TopologySpec& t) {
  std::set<std::string> nets;
  for (const auto& n : t.networks) {
    if (n.name.empty() || n.name.size() > 15) return make_error("INVALID_VALUE", {"name", n.name});
    if (!nets.insert(n.name).second) return make_error("NETWORK_ALREADY_EXISTS", {n.name});
    if (n.mtu < kMinMtu || n.mtu > kMaxMtu)
      return make_error("MTU_INVALID", {std::to_string(n.mtu)});
  }
  std::set<std::string> ports, members;
  for (const auto& p : t.ports) {
    if (p.name.empty() || p.name.size() > 15) return make_error("INVALID_VALUE", {"name", p.name});
    if (!ports.insert(p.name).second) return make_error("PORT_ALREADY_EXISTS", {p.name});
    if (!p.network.empty() && !nets.count(p.network))
      return make_error("HANDLE_INVALID", {"network", p.network});
    const bool trunk = is_trunk(p);
    if (is_tunnel(p.kind)) {
      if (!p.network.empty())
        return make_error("INVALID_VALUE",
                          {"network", "a tunnel port carries its tunnels' networks"});
      std::set<uint32_t> vnis;
      for (const auto& t : p.tunnel.nets)
        if (!vnis.insert(t.vni).second)
          return make_error("INVALID_VALUE",
                            {p.kind == PortKind::kGre ? "key" : "vni", std::to_string(t.vni)});
    }
    if (!trunk && p.network.empty() && !p.mirror_destination)
      return make_error("INVALID_VALUE", {"network", p.name});
    if (!trunk && !p.vlans.empty()) return make_error("PIF_IS_VLAN", {p.name});
    if (p.vlan_trunk && p.kind != PortKind::kTap)
      return make_error("INVALID_VALUE", {"vlan_trunk", p.name});
    if (p.kind == PortKind::kBond) {
      if (p.members.size() < 2) return make_error("PIF_BOND_NEEDS_MORE_MEMBERS", {p.name});
      if (p.members.size() > 4) return make_error("PIF_BOND_MORE_THAN_FOUR_MEMBERS", {p.name});
      for (const auto& m : p.members) {
        if (!members.insert(m).second) return make_error("PIF_ALREADY_BONDED", {m});
        for (const auto& other : t.ports)
          if (other.name == m) return make_error("PIF_ALREADY_BONDED", {m});
      }
    }
    if (has_vif_settings(p) && is_trunk(p.kind))
      return make_error("INVALID_VALUE", {"locking/qos on a PIF", p.name});
    if (auto r = LockingRules::make(p.locking.mode, 0, p.locking.ipv4, p.locking.ipv6); !r)
      return r.error();
    std::set<uint16_t> tags;
    std::set<std::string> joined;
    if (!p.network.empty()) joined.insert(p.network);
    for (const auto& v : p.vlans) {
      if (v.tag > 4094) return make_error("VLAN_TAG_INVALID", {std::to_string(v.tag)});
      if (!tags.insert(v.tag).second)
        return make_error("PIF_VLAN_EXISTS", {p.name, std::to_string(v.tag)});
      if (!nets.count(v.network)) return make_error("HANDLE_INVALID", {"network", v.network});
      if (!joined.insert(v.network).second)
        return make_error("NETWORK_ALREADY_CONNECTED", {v.network, p.name});
    }
  }
  return ok_status();
}

nlohmann::json port_settings_json(const PortSpec& p) {
  nlohmann::json pj{{"name", p.name}, {"type", port_kind_name(p.kind)}};
  if (!p.network.empty()) pj["network"] = p.network;
  if (!p.mac.empty()) pj["mac"] = p.mac;
  if (!(p.locking == LockingSpec{})) {
    pj["locking"] = {{"mode", p.locking.mode == LockingMode::kLocked     ? "locked"
                              : p.locking.mode == LockingMode::kDisabled ? "disabled"
                                                                         : "unlocked"},
                     {"ipv4", p.locking.ipv4},
                     {"ipv6", p.locking.ipv6}};
    if (p.locking.forged_reject) pj["locking"]["forged_transmits"] = "reject";
    if (p.locking.mac_changes_reject) pj["locking"]["mac_changes"] = "reject";
  }
  if (p.qos_kbps) pj["qos_kbps"] = p.qos_kbps;
  if (p.qos_timeslice_us) pj["qos_timeslice_us"] = p.qos_timeslice_us;
  if (p.vlan_trunk) pj["vlan_trunk"] = true;
  if (p.promiscuous) pj["promiscuous"] = true;
  if (p.isolated) pj["isolated"] = true;
  if (p.mirror_destination) pj["mirror_destination"] = true;
  for (const auto& m : p.mirrors)
    pj["mirrors"].push_back({{"session", m.session},
                             {"to", m.to},
                             {"vlan", m.vlan},
                             {"direction", m.ingress && m.egress ? "both"
                                           : m.ingress           ? "ingress"
                                                                 : "egress"}});
  if (!(p.shaping == PortSpec::Shaping{}))
    pj["shaping"] = {
        {"average", p.shaping.average}, {"peak", p.shaping.peak}, {"burst", p.shaping.burst}};
  if (p.kind == PortKind::kBond) {
    pj["members"] = p.members;
    pj.update(bond_config_to_json(p.bond));
  }
  if (is_tunnel(p.kind)) {
    const bool gre = p.kind == PortKind::kGre;
    pj["local"] = ipv4_text(p.tunnel.local);
    if (!gre) pj["udp_port"] = p.tunnel.udp_port;
    pj["tunnels"] = nlohmann::json::array();
    for (size_t i = 0; i < p.tunnel.nets.size(); ++i) {
      const TunnelNet& t = p.tunnel.nets[i];
      nlohmann::json tj{{gre ? "key" : "vni", t.vni},
                        {"network", i < p.vlans.size() ? p.vlans[i].network : ""},
                        {"mtu", t.mtu}};
      tj["remotes"] = nlohmann::json::array();
      for (in_addr r : t.remotes) tj["remotes"].push_back(ipv4_text(r));
      pj["tunnels"].push_back(tj);
    }
  }
  return pj;
}

TopologyDelta topology_diff(const TopologySpec& from, const TopologySpec& to) {
  TopologyDelta d;
  if (from.mac_ageing_s != to.mac_ageing_s) d.mac_ageing_s = to.mac_ageing_s;
  std::map<std::string, const NetworkSpec*> old_nets;
  for (const auto& n : from.networks) old_nets[n.name] = &n;
  for (const auto& n : to.networks) {
    auto it = old_nets.find(n.name);
    if (it == old_nets.end() || it->second->mtu != n.mtu) d.set_networks.push_back(n);
    if (it != old_nets.end()) old_nets.erase(it);
  }
  for (const auto& [name, n] : old_nets) d.del_networks.push_back(name);
  std::map<std::string, const PortSpec*> old_ports;
  for (const auto& p : from.ports) old_ports[p.name] = &p;
  for (const auto& p : to.ports) {
    auto it = old_ports.find(p.name);
    std::map<uint16_t, std::string> old_vlans;
    if (it != old_ports.end()) {
      for (const auto& v : it->second->vlans) old_vlans[v.tag] = v.network;
      if (port_settings_json(*it->second) != port_settings_json(p)) d.set_ports.push_back(p);
      old_ports.erase(it);
    } else {
      d.set_ports.push_back(p);
    }
    for (const auto& v : p.vlans) {
      auto was = old_vlans.find(v.tag);
      if (was == old_vlans.end() || was->second != v.network)
        d.set_vlans.push_back(VlanItem{p.name, v.tag, v.network});
      if (was != old_vlans.end()) old_vlans.erase(was);
    }
    for (const auto& [tag, net] : old_vlans) d.del_vlans.emplace_back(p.name, tag);
  }
  for (const auto& [name, p] : old_ports) d.del_ports.push_back(name);
  return d;
}

nlohmann::json topology_to_json(const TopologySpec& t) {
  nlohmann::json j;
  j["mac_ageing_s"] = t.mac_ageing_s;
  j["networks"] = nlohmann::json::array();
  for (const auto& n : t.networks) j["networks"].push_back({{"name", n.name}, {"mtu", n.mtu}});
  j["ports"] = nlohmann::json::array();
  for (const auto& p : t.ports) {
    nlohmann::json pj = port_settings_json(p);
    if (!p.vlans.empty() && !is_tunnel(p.kind)) {
      pj["vlans"] = nlohmann::json::array();
      for (const auto& v : p.vlans) pj["vlans"].push_back({{"tag", v.tag}, {"network", v.network}});
    }
    j["ports"].push_back(pj);
  }
  return j;
}

}  // namespace hvnet
