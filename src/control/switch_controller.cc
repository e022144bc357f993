#include "control/switch_controller.h"

#include <algorithm>
#include <set>

#include "io/tunnel_port.h"
#include "packet/headers.h"
#include "packet/mac.h"
#include "util/ipv4.h"

namespace hvnet {

uint32_t IdMap::get_or_assign(const std::string& key) {
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  uint32_t id;
  if (!free_.empty()) {
    auto lowest = std::min_element(free_.begin(), free_.end());
    id = *lowest;
    free_.erase(lowest);
  } else {
    id = bound_++;
  }
  ids_.emplace(key, id);
  return id;
}

std::optional<uint32_t> IdMap::find(const std::string& key) const {
  auto it = ids_.find(key);
  return it == ids_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}

void IdMap::release(const std::string& key) {
  auto it = ids_.find(key);
  if (it == ids_.end()) return;
  free_.push_back(it->second);
  ids_.erase(it);
}

SwitchController::SwitchController(SnapshotSlot& slot, Datapath& dp, PortFactory factory)
    : slot_(slot), dp_(dp), thread_ports_(dp.threads(), 0), factory_(std::move(factory)) {}

TopologySpec SwitchController::topology() const {
  std::lock_guard lk(mu_);
  TopologySpec t;
  t.mac_ageing_s = mac_ageing_s_;
  for (const auto& [name, n] : nets_) t.networks.push_back(n);
  for (const auto& [name, ps] : ports_) {
    t.ports.push_back(ps.spec);
    for (const auto& [tag, net] : ps.vlans)
      t.ports.back().vlans.push_back(VlanSpec{vlan_of_lport_tag(tag), net});
  }
  return t;
}

namespace {
std::string lport_key(const std::string& port, const std::string& network, uint16_t tag) {
  return port + "|" + network + "|" + std::to_string(tag);
}
// Everything a backend is opened with (not the networks it joins, which snapshots change live).
std::string port_identity(const PortSpec& p) {
  PortSpec one = p;
  one.network.clear();
  one.locking = LockingSpec{};  // rules and rates change live, in the snapshot
  one.qos_kbps = 0;
  one.vlan_trunk = false;  // a VIF becomes a trunk or stops being one live, in the snapshot
  one.promiscuous = false;
  one.isolated = false;  // a network's mode changes live, in the snapshot
  one.shaping = {};
  one.mirrors.clear();  // sessions come and go live, in the snapshot
  one.mirror_destination = false;
  one.bond.lacp_fast = false;  // lacp-time changes a running LACP actor (BondPort::set_lacp_fast)
  one.bond.orders.clear();     // and per-network failover orders a running bond (set_orders)
  one.tunnel.nets.clear();     // a VTEP's tunnels change live (TunnelPort::set_tunnels)
  one.vlans.clear();
  return port_settings_json(one).dump();
}
template <typename K, typename V>
void stage(std::map<K, std::optional<V>>& m, const K& k, std::optional<V> v) {
  m.insert_or_assign(k, std::move(v));
}
}  // namespace

// A delta resolved against the current state: every touched network, port and VLAN with what it
// will be (nullopt: gone), and lookups of the state after the change.
struct SwitchController::Staged {
  const SwitchController& cur;
  std::map<std::string, std::optional<NetworkSpec>> nets;
  std::map<std::string, std::optional<PortSpec>> ports;
  std::map<VlanKey, std::optional<std::string>> vlans;  // (port, VLAN lport tag) -> network

  const NetworkSpec* net(const std::string& name) const {
    if (auto it = nets.find(name); it != nets.end()) return it->second ? &*it->second : nullptr;
    auto it = cur.nets_.find(name);
    return it == cur.nets_.end() ? nullptr : &it->second;
  }
  const PortSpec* port(const std::string& name) const {
    if (auto it = ports.find(name); it != ports.end()) return it->second ? &*it->second : nullptr;
    auto it = cur.ports_.find(name);
    return it == cur.ports_.end() ? nullptr : &it->second.spec;
  }
  // The network of a logical port after the change ("" if none): tag 0 is the native network.
  std::string lport_net(const VlanKey& k) const {
    if (k.second == 0) {
      const PortSpec* p = port(k.first);
      return p ? p->network : "";
    }
    if (auto it = vlans.find(k); it != vlans.end()) return it->second.value_or("");
    return cur.current_vlan(k);
  }
  // Whether `port` joins `net` on another logical port than `tag` after the change.
  bool joined_elsewhere(const std::string& port, const std::string& net, uint16_t tag) const {
    if (auto users = cur.users_.find(net); users != cur.users_.end())
      for (auto it = users->second.lower_bound({port, 0});
           it != users->second.end() && it->first == port; ++it)
        if (it->second != tag && lport_net(*it) == net) return true;
    for (const auto& [k, v] : vlans)
      if (k.first == port && k.second != tag && v == net) return true;
    if (tag != 0) {
      const PortSpec* p = this->port(port);
      if (p && p->network == net) return true;
    }
    return false;
  }
};

std::string SwitchController::current_vlan(const VlanKey& k) const {
  auto p = ports_.find(k.first);
  if (p == ports_.end()) return "";
  auto v = p->second.vlans.find(k.second);
  return v == p->second.vlans.end() ? "" : v->second;
}

Status SwitchController::validate(const Staged& next) const {
  for (const auto& [name, n] : next.nets) {
    if (!n) continue;
    if (name.empty() || name.size() > 15) return make_error("INVALID_VALUE", {"name", name});
    if (n->mtu < kMinMtu || n->mtu > kMaxMtu)
      return make_error("MTU_INVALID", {std::to_string(n->mtu)});
  }
  std::map<std::string, std::string> claimed;  // member NIC -> bond, for the bonds this sets
  for (const auto& [name, p] : next.ports) {
    if (!p) continue;
    if (name.empty() || name.size() > 15) return make_error("INVALID_VALUE", {"name", name});
    if (!p->network.empty() && !next.net(p->network))
      return make_error("HANDLE_INVALID", {"network", p->network});
    const bool trunk = is_trunk(*p);
    if (!trunk && p->network.empty() && !p->mirror_destination)
      return make_error("INVALID_VALUE", {"network", name});
    if (!p->network.empty() && next.joined_elsewhere(name, p->network, 0))
      return make_error("NETWORK_ALREADY_CONNECTED", {p->network, name});
    if (has_vif_settings(*p) && is_trunk(p->kind))
      return make_error("INVALID_VALUE", {"locking/qos on a PIF", name});
    if (auto r = LockingRules::make(p->locking.mode, 0, p->locking.ipv4, p->locking.ipv6); !r)
      return r.error();
    if (auto owner = member_of_.find(name); owner != member_of_.end()) {
      const PortSpec* bond = next.port(owner->second);
      if (bond && std::count(bond->members.begin(), bond->members.end(), name))
        return make_error("PIF_ALREADY_BONDED", {name});
    }
    if (!trunk) {
      if (auto cur = ports_.find(name); cur != ports_.end())
        for (const auto& [tag, net] : cur->second.vlans)
          if (!next.lport_net({name, tag}).empty()) return make_error("PIF_IS_VLAN", {name});
    }
    if (p->kind != PortKind::kBond) continue;
    if (p->members.size() < 2) return make_error("PIF_BOND_NEEDS_MORE_MEMBERS", {name});
    if (p->members.size() > 4) return make_error("PIF_BOND_MORE_THAN_FOUR_MEMBERS", {name});
    for (const auto& m : p->members) {
      if (!claimed.emplace(m, name).second || next.port(m))
        return make_error("PIF_ALREADY_BONDED", {m});
      auto owner = member_of_.find(m);
      if (owner == member_of_.end() || owner->second == name) continue;
      const PortSpec* other = next.port(owner->second);
      if (other && std::count(other->members.begin(), other->members.end(), m))
        return make_error("PIF_ALREADY_BONDED", {m});
    }
  }
  for (const auto& [k, net] : next.vlans) {
    if (!net) continue;
    if (k.second != kPriorityTagged && (k.second < 1 || k.second > 4094))
      return make_error("VLAN_TAG_INVALID", {std::to_string(k.second)});
    const PortSpec* p = next.port(k.first);
    if (!p) return make_error("HANDLE_INVALID", {"port", k.first});
    if (!is_trunk(*p)) return make_error("PIF_IS_VLAN", {k.first});
    if (!next.net(*net)) return make_error("HANDLE_INVALID", {"network", *net});
    if (next.joined_elsewhere(k.first, *net, k.second))
      return make_error("NETWORK_ALREADY_CONNECTED", {*net, k.first});
  }
  for (const auto& [name, n] : next.nets) {
    if (n) continue;
    if (auto users = users_.find(name); users != users_.end())
      for (const auto& k : users->second)
        if (next.lport_net(k) == name) return make_error("NETWORK_IN_USE", {name, k.first});
  }
  return ok_status();
}

Status SwitchController::apply(const TopologySpec& spec) {
  if (auto st = validate_topology(spec); !st) return st;
  return apply(topology_diff(topology(), spec));
}

Status SwitchController::apply(const TopologyDelta& delta) {
  if (delta.empty()) return ok_status();
  std::lock_guard lk(mu_);
  return apply_locked(delta);
}

Status SwitchController::apply_locked(const TopologyDelta& d) {
  // 1. Resolve the delta against the current state and validate the state it leads to.
  Staged next{*this, {}, {}, {}};
  for (const auto& n : d.del_networks) stage(next.nets, n, std::optional<NetworkSpec>());
  for (const auto& n : d.set_networks) stage(next.nets, n.name, std::optional<NetworkSpec>(n));
  std::set<std::string> replaced;
  for (const auto& p : d.set_ports) replaced.insert(p.name);
  for (const auto& name : d.del_ports) {
    stage(next.ports, name, std::optional<PortSpec>());
    auto cur = ports_.find(name);
    if (cur == ports_.end() || replaced.count(name)) continue;
    for (const auto& [tag, net] : cur->second.vlans)
      stage(next.vlans, VlanKey{name, tag}, std::optional<std::string>());
  }
  for (const auto& p : d.set_ports) {
    PortSpec own = p;
    own.vlans.clear();
    stage(next.ports, p.name, std::optional<PortSpec>(std::move(own)));
  }
  for (const auto& [port, tag] : d.del_vlans)
    stage(next.vlans, VlanKey{port, lport_tag_of_vlan(tag)}, std::optional<std::string>());
  for (const auto& v : d.set_vlans)
    stage(next.vlans, VlanKey{v.port, lport_tag_of_vlan(v.tag)},
          std::optional<std::string>(v.network));
  if (auto st = validate(next); !st) return st;

  // 2. Open every port the change adds or re-opens; on any failure drop them and change nothing.
  std::map<std::string, std::pair<std::shared_ptr<Port>, std::string>> opened;
  for (const auto& [name, p] : next.ports) {
    if (!p) continue;
    const std::string identity = port_identity(*p);
    auto cur = ports_.find(name);
    if (cur != ports_.end() && cur->second.identity == identity) continue;
    uint32_t mtu = 0;  // the device carries the largest MTU of its networks
    if (const NetworkSpec* n = next.net(p->network)) mtu = n->mtu;
    auto widen = [&](const std::optional<std::string>& net) {
      if (const NetworkSpec* n = net ? next.net(*net) : nullptr) mtu = std::max(mtu, n->mtu);
    };
    if (cur != ports_.end())
      for (const auto& [tag, net] : cur->second.vlans) widen(next.lport_net({name, tag}));
    for (const auto& [k, net] : next.vlans)
      if (k.first == name) widen(net);
    auto port = factory_(*p, mtu);
    if (!port) return port.error();
    opened.emplace(name, std::pair{std::move(port.value()), identity});
  }
  std::map<std::string, std::shared_ptr<const LockingRules>> rules;  // built before anything moves
  for (const auto& [name, p] : next.ports) {
    if (!p || (p->locking.mode == LockingMode::kUnlocked && !p->locking.forged_reject)) continue;
    auto mac = MacAddr::parse(p->mac);
    auto r = LockingRules::make(p->locking.mode, mac ? mac->to_u64() : 0, p->locking.ipv4,
                                p->locking.ipv6);
    if (!r) return r.error();
    r.value().forged_reject = p->locking.forged_reject;
    rules[name] = std::make_shared<const LockingRules>(std::move(r.value()));
  }

  // 3. The next snapshot: the current one with the touched entries rewritten. Nothing below fails.
  // A running VTEP takes its new tunnels first: a network it gains is decapsulated under a tag
  // the snapshot maps a moment later, one it loses stops arriving before its tag goes.
  for (const auto& [name, p] : next.ports) {
    auto cur = ports_.find(name);
    if (!p || opened.count(name) || cur == ports_.end()) continue;
    if (auto* vx = dynamic_cast<TunnelPort*>(cur->second.port.get()))
      vx->set_tunnels(p->tunnel.nets);
  }
  auto snap = std::make_shared<Snapshot>(*snap_);
  if (d.mac_ageing_s) snap->mac_ageing_s = *d.mac_ageing_s;
  auto& users = users_;
  // A bridge's flood list is copied once per apply, on its first change.
  std::map<BridgeId, std::vector<LportId>*> copied;
  auto flood_of = [&](BridgeId b) -> std::vector<LportId>& {
    auto& mine = copied[b];
    if (!mine) {
      auto fresh = std::make_shared<std::vector<LportId>>(*snap->bridges[b].lports);
      mine = fresh.get();
      snap->bridges[b].lports = std::move(fresh);
    }
    return *mine;
  };
  auto drop_lport = [&](const std::string& port, const std::string& net, uint16_t tag) {
    const std::string key = lport_key(port, net, tag);
    const auto id = lport_ids_.find(key);
    if (id && *id < snap->lports.size()) {
      const LportId lp = *id;
      const LportEntry e = snap->lports[lp];
      if (e.bridge < snap->bridges.size()) std::erase(flood_of(e.bridge), lp);
      if (e.port < snap->ports.size()) {
        PortEntry& pe = snap->ports[e.port];
        if (tag == 0 && pe.native_lport == lp) pe.native_lport = kNoLport;
        const uint16_t vid = vlan_of_lport_tag(tag);
        if (tag != 0 && vid < pe.vid_map.size() && pe.vid_map[vid] == lp)
          pe.vid_map[vid] = kNoLport;
      }
      snap->lports[lp] = LportEntry{};
    }
    lport_ids_.release(key);
    users[net].erase(VlanKey{port, tag});
    if (users[net].empty()) users.erase(net);
  };
  auto add_lport = [&](PortId pid, const std::string& port, const std::string& net, uint16_t tag) {
    LportId lp = lport_ids_.get_or_assign(lport_key(port, net, tag));
    if (snap->lports.size() <= lp) snap->lports.resize(lp + 1);
    BridgeId b = BridgeId(bridge_ids_.get_or_assign(net));
    snap->lports[lp] = LportEntry{pid, b, tag};
    flood_of(b).push_back(lp);
    users[net].insert(VlanKey{port, tag});
    return lp;
  };
  // VLANs that go or move, then ports that go (with their native logical port).
  for (const auto& [k, net] : next.vlans) {
    const std::string was = current_vlan(k);
    if (!was.empty() && was != net.value_or("")) drop_lport(k.first, was, k.second);
  }
  for (const auto& [name, p] : next.ports) {
    auto cur = ports_.find(name);
    if (cur == ports_.end()) continue;
    const std::string now = p ? p->network : "";
    if (!cur->second.spec.network.empty() && cur->second.spec.network != now)
      drop_lport(name, cur->second.spec.network, 0);
    if (p) continue;
    if (auto pid = port_ids_.find(name); pid && *pid < snap->ports.size()) {
      if (snap->ports[*pid].port) --thread_ports_[snap->ports[*pid].thread];
      snap->ports[*pid] = PortEntry{};
    }
    port_ids_.release(name);
  }
  for (const auto& [name, n] : next.nets) {
    if (!n) continue;
    BridgeId b = BridgeId(bridge_ids_.get_or_assign(name));
    if (snap->bridges.size() <= b) snap->bridges.resize(b + 1);
    snap->bridges[b].name = n->name;
    snap->bridges[b].mtu = n->mtu;
  }
  std::set<BridgeId> promisc_dirty;  // bridges whose promiscuous lists must be made again
  for (const auto& [name, p] : next.ports) {
    if (!p) continue;
    PortId pid = port_ids_.get_or_assign(name);
    if (snap->ports.size() <= pid) snap->ports.resize(pid + 1);
    PortEntry& pe = snap->ports[pid];
    if (!pe.port) {  // a new port: to the thread receiving from the fewest
      pe.thread = uint16_t(std::min_element(thread_ports_.begin(), thread_ports_.end()) -
                           thread_ports_.begin());
      ++thread_ports_[pe.thread];
    }
    auto o = opened.find(name);
    pe.port = o != opened.end() ? o->second.first : ports_.at(name).port;
    pe.role = is_trunk(*p) ? PortRole::kTrunk : PortRole::kAccess;
    pe.vif_trunk = p->vlan_trunk;
    if (pe.promiscuous != p->promiscuous) {  // the bridges it is on now
      auto on = [&](const std::string& net) {
        if (auto b = bridge_ids_.find(net)) promisc_dirty.insert(BridgeId(*b));
      };
      on(p->network);
      if (auto cur = ports_.find(name); cur != ports_.end())
        for (const auto& [tag, net] : cur->second.vlans) on(next.lport_net({name, tag}));
      for (const auto& [k, net] : next.vlans)
        if (k.first == name && net) on(*net);
    }
    pe.promiscuous = p->promiscuous;
    pe.isolated = p->isolated;
    auto own = p->locking.mac_changes_reject ? MacAddr::parse(p->mac) : std::nullopt;
    pe.own_mac_only = own ? own->to_u64() : 0;
    pe.slb_rx_filter = p->kind == PortKind::kBond && p->bond.mode == BondMode::kBalanceSlb;
    auto r = rules.find(name);
    pe.locking = r == rules.end() ? nullptr : r->second;
    // XenServer's kbps are kilobytes per second. The VIF's own limit and its network's shaping:
    // the lower average, the network's burst (else the VIF's timeslice of the rate, by default
    // 100 ms) and peak.
    uint64_t kbps = p->qos_kbps;
    if (p->shaping.average && (!kbps || p->shaping.average < kbps)) kbps = p->shaping.average;
    pe.qos_rate = kbps * 1000;
    pe.qos_burst =
        !kbps ? 0
        : p->shaping.average && p->shaping.burst
            ? std::max<uint64_t>(p->shaping.burst * 1000, 65536 + 1514)
        : p->qos_timeslice_us
            ? std::max<uint64_t>(pe.qos_rate * p->qos_timeslice_us / 1000000, 65536 + 1514)
            : std::max<uint64_t>(pe.qos_rate / 10, 65536 + 1514);
    pe.qos_peak = p->shaping.average && p->shaping.peak > kbps ? p->shaping.peak * 1000 : 0;
    pe.vif_mac = 0;
    pe.vif_ipv4.clear();
    if (p->kind == PortKind::kTap && p->locking.mode != LockingMode::kDisabled) {
      auto mac = MacAddr::parse(p->mac);
      pe.vif_mac = mac ? mac->to_u64() : 0;
      for (const auto& a : p->locking.ipv4)
        if (auto v4 = LockingRules::parse_ipv4(a); v4 && v4->mask == 0xffffffffu)
          pe.vif_ipv4.push_back(v4->addr);
    }
    if (pe.role == PortRole::kTrunk && pe.vid_map.empty()) pe.vid_map.assign(4096, kNoLport);
    if (pe.role == PortRole::kAccess) pe.vid_map.clear();
    if (!p->network.empty() && pe.native_lport == kNoLport)
      pe.native_lport = add_lport(pid, name, p->network, 0);
  }
  for (const auto& [k, net] : next.vlans) {
    if (!net || current_vlan(k) == *net) continue;
    const PortId pid = port_ids_.get_or_assign(k.first);
    const LportId lp = add_lport(pid, k.first, *net, k.second);
    snap->ports[pid].vid_map[vlan_of_lport_tag(k.second)] = lp;
  }
  for (const auto& [name, n] : next.nets) {
    if (n) continue;
    if (auto b = bridge_ids_.find(name); b && *b < snap->bridges.size())
      snap->bridges[*b] = BridgeEntry{};
    bridge_ids_.release(name);
  }
  // Mirror taps, resolved again on every source port (few) so that they follow their
  // destinations' port ids.
  for (const auto& [name, p] : next.ports) {
    if (p && !p->mirrors.empty()) {
      mirror_sources_.insert(name);
    } else if (mirror_sources_.erase(name)) {
      auto pid = port_ids_.find(name);
      if (pid && *pid < snap->ports.size()) {
        snap->ports[*pid].mirror_rx.clear();
        snap->ports[*pid].mirror_tx.clear();
      }
    }
  }
  std::map<std::string, std::shared_ptr<MirrorCounters>> counters;
  for (const auto& name : mirror_sources_) {
    auto pid = port_ids_.find(name);
    const PortSpec* p = next.port(name);
    if (!pid || !p || *pid >= snap->ports.size()) continue;
    PortEntry& pe = snap->ports[*pid];
    pe.mirror_rx.clear();
    pe.mirror_tx.clear();
    for (const auto& m : p->mirrors) {
      auto to = port_ids_.find(m.to);
      if (!to || !next.port(m.to) || *to >= snap->ports.size()) continue;
      auto& c = counters[m.session];
      if (!c) {
        auto kept = mirror_counters_.find(m.session);
        c = kept != mirror_counters_.end() ? kept->second : std::make_shared<MirrorCounters>();
      }
      const MirrorOut out{PortId(*to), m.vlan, c};
      if (m.ingress) pe.mirror_rx.push_back(out);
      if (m.egress) pe.mirror_tx.push_back(out);
    }
  }
  mirror_counters_ = std::move(counters);
  // Promiscuous lists of the bridges whose members or members' promiscuity changed.
  for (const auto& [b, list] : copied) promisc_dirty.insert(b);
  for (BridgeId b : promisc_dirty) {
    if (b >= snap->bridges.size() || snap->bridges[b].name.empty()) continue;
    std::vector<LportId> promisc;
    for (LportId lp : *snap->bridges[b].lports)
      if (snap->ports[snap->lports[lp].port].promiscuous) promisc.push_back(lp);
    snap->bridges[b].promiscuous =
        promisc.empty() ? kEmptyFlood : std::make_shared<const std::vector<LportId>>(promisc);
  }

  // 4. Publish and wait until every forwarding thread runs on it; then old ports may close.
  slot_.publish(snap);
  dp_.sync();
  snap_ = std::move(snap);
  // Bond settings that change live (the bond takes its own lock).
  for (const auto& [name, p] : next.ports) {
    auto cur = ports_.find(name);
    if (!p || opened.count(name) || cur == ports_.end()) continue;
    auto* bond = dynamic_cast<BondPort*>(cur->second.port.get());
    if (!bond) continue;
    if (cur->second.spec.bond.lacp_fast != p->bond.lacp_fast)
      bond->set_lacp_fast(p->bond.lacp_fast);
    if (cur->second.spec.bond.orders != p->bond.orders) bond->set_orders(p->bond.orders);
  }
  if (d.mac_ageing_s) mac_ageing_s_ = *d.mac_ageing_s;
  for (const auto& [name, n] : next.nets) {
    if (n)
      nets_.insert_or_assign(name, *n);
    else
      nets_.erase(name);
  }
  for (const auto& [name, p] : next.ports) {
    if (auto cur = ports_.find(name); cur != ports_.end())
      for (const auto& m : cur->second.spec.members) member_of_.erase(m);
    if (!p) {
      ports_.erase(name);
      continue;
    }
    PortState& ps = ports_[name];
    ps.spec = *p;
    if (auto o = opened.find(name); o != opened.end()) {
      ps.port = o->second.first;
      ps.identity = o->second.second;
      ps.rate_at = std::chrono::steady_clock::now();
      ps.rate_rx = ps.rate_tx = 0;
    }
    for (const auto& m : p->members) member_of_[m] = name;
  }
  for (const auto& [k, net] : next.vlans) {
    auto p = ports_.find(k.first);
    if (p == ports_.end()) continue;
    if (net)
      p->second.vlans.insert_or_assign(k.second, *net);
    else
      p->second.vlans.erase(k.second);
  }
  return ok_status();
}

nlohmann::json SwitchController::mirror_status(const std::string& session) const {
  std::lock_guard lk(mu_);
  auto it = mirror_counters_.find(session);
  if (it == mirror_counters_.end()) return nlohmann::json::object();
  return {{"packets", it->second->packets.load(std::memory_order_relaxed)},
          {"bytes", it->second->bytes.load(std::memory_order_relaxed)}};
}

std::vector<FdbRecord> SwitchController::fdb() {
  std::vector<MacTable::EntryView> entries;
  dp_.fdb().for_each(dp_.now_s(), [&](const MacTable::EntryView& e) { entries.push_back(e); });
  auto snap = slot_.get();
  std::vector<FdbRecord> out;
  for (const auto& e : entries) {
    if (e.lport >= snap->lports.size() || snap->lports[e.lport].port == kNoPort) continue;
    const LportEntry& le = snap->lports[e.lport];
    out.push_back({snap->bridges[le.bridge].name, MacAddr::from_u64(e.mac).to_string(),
                   snap->ports[le.port].port->name(), vlan_of_lport_tag(le.tag), e.age});
  }
  std::sort(out.begin(), out.end(), [](const FdbRecord& a, const FdbRecord& b) {
    return std::tie(a.network, a.mac) < std::tie(b.network, b.mac);
  });
  return out;
}

nlohmann::json SwitchController::fdb_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const FdbRecord& e : fdb())
    out.push_back({{"network", e.network},
                   {"mac", e.mac},
                   {"port", e.port},
                   {"vlan", e.vlan},
                   {"age", e.age}});
  return out;
}

std::vector<DropRecord> SwitchController::drops() {
  std::vector<DropTrace::Entry> entries;
  dp_.run_on_each([&](Worker& w) {
    w.drop_trace().for_each([&](const DropTrace::Entry& e) { entries.push_back(e); });
  });
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.seq < b.seq; });
  auto snap = slot_.get();
  std::vector<DropRecord> out;
  for (const auto& e : entries) {
    DropRecord d;
    d.seq = e.seq;
    d.reason = e.reason;
    d.len = e.len;
    d.port = e.port < snap->ports.size() && snap->ports[e.port].port
                 ? snap->ports[e.port].port->name()
                 : std::to_string(e.port);
    if (e.len >= 14) {
      d.dst = MacAddr::from_bytes(e.head.data()).to_string();
      d.src = MacAddr::from_bytes(e.head.data() + 6).to_string();
      uint16_t et = load_be16(e.head.data() + 12);
      if ((et == kEtherTypeVlan || et == kEtherTypeQinQ) && e.len >= 18) {
        d.vlan = load_be16(e.head.data() + 14) & 0x0fff;
        et = load_be16(e.head.data() + 16);
      }
      char text[8];
      std::snprintf(text, sizeof text, "0x%04x", et);
      d.ethertype = text;
    }
    out.push_back(std::move(d));
  }
  return out;
}

nlohmann::json SwitchController::drops_json() {
  nlohmann::json out = nlohmann::json::array();
  for (const DropRecord& d : drops()) {
    nlohmann::json j = {{"reason", drop_reason_name(d.reason)}, {"len", d.len}, {"port", d.port}};
    if (!d.src.empty()) {
      j["dst"] = d.dst;
      j["src"] = d.src;
      j["ethertype"] = d.ethertype;
    }
    if (d.vlan >= 0) j["vlan"] = d.vlan;
    out.push_back(j);
  }
  return out;
}

Result<std::vector<uint8_t>> trace_frame(const TraceRequest& req) {
  auto src = MacAddr::parse(req.src);
  if (!src) return make_error("INVALID_VALUE", {"src", req.src});
  auto dst = MacAddr::parse(req.dst);
  if (!dst) return make_error("INVALID_VALUE", {"dst", req.dst});
  if (req.vlan > 4094) return make_error("INVALID_VALUE", {"vlan", std::to_string(req.vlan)});
  auto sip = ipv4_from_text(req.src_ip);
  if (!sip) return make_error("INVALID_VALUE", {"src_ip", req.src_ip});
  auto dip = ipv4_from_text(req.dst_ip);
  if (!dip) return make_error("INVALID_VALUE", {"dst_ip", req.dst_ip});
  std::vector<uint8_t> f(dst->b.begin(), dst->b.end());
  f.insert(f.end(), src->b.begin(), src->b.end());
  auto put16 = [&](uint16_t v) {
    f.push_back(uint8_t(v >> 8));
    f.push_back(uint8_t(v));
  };
  auto put32 = [&](uint32_t v) {
    put16(uint16_t(v >> 16));
    put16(uint16_t(v));
  };
  if (req.vlan) {
    put16(kEtherTypeVlan);
    put16(req.vlan);
  }
  put16(req.ethertype);
  if (req.ethertype == kEtherTypeIpv4) {  // IPv4 + UDP, no payload
    put16(0x4500);
    put16(28);
    put32(0);
    put16(0x4011);  // TTL 64, UDP
    put16(0);
    put32(*sip);
    put32(*dip);
    put16(req.src_port);
    put16(req.dst_port);
    put16(8);
    put16(0);
  } else if (req.ethertype == kEtherTypeArp) {  // a request from src for dst_ip
    put16(1);
    put16(kEtherTypeIpv4);
    put16(0x0604);
    put16(1);
    f.insert(f.end(), src->b.begin(), src->b.end());
    put32(*sip);
    f.insert(f.end(), 6, 0);
    put32(*dip);
  }
  if (f.size() < 60) f.resize(60, 0);
  return f;
}

Result<TraceResult> SwitchController::trace(const TraceRequest& req) const {
  auto snap = slot_.get();
  PortId in = kNoPort;
  for (PortId i = 0; i < snap->ports.size(); ++i)
    if (snap->ports[i].port && snap->ports[i].port->name() == req.in_port) in = i;
  if (in == kNoPort) return make_error("INVALID_VALUE", {"in_port", req.in_port});
  auto bytes = trace_frame(req);
  if (!bytes) return bytes.error();
  std::vector<uint8_t> buf(kBufferSize);
  Packet p;
  p.buf = buf.data();
  p.reset();
  std::memcpy(p.data, bytes->data(), bytes->size());
  p.len = uint32_t(bytes->size());
  return trace_packet(*snap, dp_.fdb(), in, p, dp_.now_s());
}

nlohmann::json SwitchController::port_status(const std::string& name) {
  std::shared_ptr<Port> port;
  {
    std::lock_guard lk(mu_);
    auto it = ports_.find(name);
    if (it == ports_.end()) return nlohmann::json::object();
    port = it->second.port;
  }
  nlohmann::json out = nlohmann::json::object();
  if (auto* bond = dynamic_cast<BondPort*>(port.get())) out = bond->status();
  if (auto* vx = dynamic_cast<TunnelPort*>(port.get())) out = vx->status();
  return out;
}

std::optional<SwitchController::Rates> SwitchController::port_rates(const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = ports_.find(name);
  if (it == ports_.end() || !it->second.port) return std::nullopt;
  PortState& ps = it->second;
  const auto now = std::chrono::steady_clock::now();
  const uint64_t rx = ps.port->stats().rx_bytes.load(), tx = ps.port->stats().tx_bytes.load();
  const double dt = std::chrono::duration<double>(now - ps.rate_at).count();
  if (dt >= 1.0 || !ps.rated) {  // a new average once a second; the first since the port opened
    ps.rate =
        Rates{dt > 0 ? double(rx - ps.rate_rx) / dt : 0, dt > 0 ? double(tx - ps.rate_tx) / dt : 0};
    ps.rate_at = now;
    ps.rate_rx = rx;
    ps.rate_tx = tx;
    ps.rated = true;
  }
  return ps.rate;
}

SwitchStats SwitchController::stats() const {
  SwitchStats out;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, op] : ports_) {
      op.port->collect_missed();
      const PortStats& s = op.port->stats();
      out.ports.push_back({name, port_kind_name(op.spec.kind), op.port->backend(),
                           op.port->backend_reason(), s.rx_packets.load(), s.rx_bytes.load(),
                           s.rx_dropped.load(), s.rx_missed.load(), s.tx_packets.load(),
                           s.tx_bytes.load(), s.tx_errors.load(), op.spec.qos_kbps});
    }
  }
  const Datapath::Totals d = dp_.totals();
  std::copy(std::begin(d.drops), std::end(d.drops), out.drops.begin());
  out.forwarded = d.forwarded;
  out.flooded = d.flooded;
  out.learned = d.learned;
  out.mac_moves = d.mac_moves;
  out.mac_evictions = d.mac_evictions;
  out.mac_expired = d.mac_expired;
  out.mac_entries = dp_.fdb().size();
  out.threads = dp_.threads();
  return out;
}

nlohmann::json SwitchController::stats_json() const {
  const SwitchStats st = stats();
  nlohmann::json out;
  for (const PortCounters& c : st.ports) {
    out["ports"][c.name] = {{"type", c.type},
                            {"backend", c.backend},
                            {"backend_reason", c.backend_reason},
                            {"rx_packets", c.rx_packets},
                            {"rx_bytes", c.rx_bytes},
                            {"rx_dropped", c.rx_dropped},
                            {"rx_missed", c.rx_missed},
                            {"tx_packets", c.tx_packets},
                            {"tx_bytes", c.tx_bytes},
                            {"tx_errors", c.tx_errors}};
  }
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, op] : ports_)
      if (auto* vx = dynamic_cast<TunnelPort*>(op.port.get()))
        out["ports"][name]["tunnel"] = vx->status();  // remote VTEPs and learned MACs per key
  }
  for (size_t r = 0; r < size_t(DropReason::kCount); ++r)
    out["drops"][drop_reason_name(DropReason(r))] = st.drops[r];
  out["forwarded"] = st.forwarded;
  out["flooded"] = st.flooded;
  out["mac_learned"] = st.learned;
  out["mac_moves"] = st.mac_moves;
  out["mac_evictions"] = st.mac_evictions;
  out["mac_expired"] = st.mac_expired;
  out["threads"] = st.threads;
  return out;
}

}  // namespace hvnet
