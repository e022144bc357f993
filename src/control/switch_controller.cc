#include "control/switch_controller.h"

#include <algorithm>

#include "packet/headers.h"
#include "packet/mac.h"

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

void IdMap::retain_only(const std::map<std::string, bool>& keep) {
  for (auto it = ids_.begin(); it != ids_.end();) {
    if (keep.count(it->first)) {
      ++it;
    } else {
      free_.push_back(it->second);
      it = ids_.erase(it);
    }
  }
}

SwitchController::SwitchController(SnapshotSlot& slot, Worker& worker, PortFactory factory)
    : slot_(slot), worker_(worker), factory_(std::move(factory)) {}

TopologySpec SwitchController::topology() const {
  std::lock_guard lk(mu_);
  return current_;
}

namespace {
std::string lport_key(const std::string& port, const std::string& network, uint16_t tag) {
  return port + "|" + network + "|" + std::to_string(tag);
}
// Everything a backend is opened with (not the networks it joins, which snapshots change live).
std::string port_identity(const PortSpec& p) {
  TopologySpec one;
  one.ports.push_back(p);
  one.ports[0].network.clear();
  one.ports[0].vlans.clear();
  one.ports[0].locking = LockingSpec{};  // rules and rates change live, in the snapshot
  one.ports[0].qos_kbps = 0;
  return topology_to_json(one)["ports"][0].dump();
}
uint32_t device_mtu(const TopologySpec& spec, const PortSpec& p) {
  uint32_t mtu = 0;
  if (const NetworkSpec* n = spec.network(p.network)) mtu = n->mtu;
  for (const auto& v : p.vlans)
    if (const NetworkSpec* n = spec.network(v.network)) mtu = std::max(mtu, n->mtu);
  return mtu;
}
}  // namespace

Status SwitchController::apply(const TopologySpec& spec) {
  if (auto st = validate_topology(spec); !st) return st;
  std::lock_guard lk(mu_);

  // 1. Open every port the spec adds; on any failure drop them all and change nothing.
  std::map<std::string, OpenPort> next_ports;
  for (const auto& p : spec.ports) {
    auto it = ports_.find(p.name);
    const std::string identity = port_identity(p);
    if (it != ports_.end() && it->second.identity == identity) {
      next_ports.emplace(p.name, it->second);
      continue;
    }
    auto opened = factory_(p, device_mtu(spec, p));
    if (!opened) return opened.error();
    next_ports.emplace(p.name, OpenPort{std::move(opened.value()), p.kind, identity});
  }

  // 2. Assign stable ids and build the snapshot.
  std::map<std::string, bool> keep_ports, keep_bridges, keep_lports;
  for (const auto& p : spec.ports) keep_ports[p.name] = true;
  for (const auto& n : spec.networks) keep_bridges[n.name] = true;
  for (const auto& p : spec.ports) {
    if (!p.network.empty()) keep_lports[lport_key(p.name, p.network, 0)] = true;
    for (const auto& v : p.vlans) keep_lports[lport_key(p.name, v.network, v.tag)] = true;
  }
  port_ids_.retain_only(keep_ports);
  bridge_ids_.retain_only(keep_bridges);
  lport_ids_.retain_only(keep_lports);

  auto snap = std::make_shared<Snapshot>();
  snap->mac_ageing_s = spec.mac_ageing_s;
  for (const auto& n : spec.networks) {
    BridgeId b = BridgeId(bridge_ids_.get_or_assign(n.name));
    if (snap->bridges.size() <= b) snap->bridges.resize(b + 1);
    snap->bridges[b].name = n.name;
    snap->bridges[b].mtu = n.mtu;
  }
  auto add_lport = [&](PortId pid, const std::string& port, const std::string& net, uint16_t tag) {
    LportId lp = lport_ids_.get_or_assign(lport_key(port, net, tag));
    if (snap->lports.size() <= lp) snap->lports.resize(lp + 1);
    BridgeId b = BridgeId(bridge_ids_.get_or_assign(net));
    snap->lports[lp] = LportEntry{pid, b, tag};
    snap->bridges[b].lports.push_back(lp);
    return lp;
  };
  for (const auto& p : spec.ports) {
    PortId pid = port_ids_.get_or_assign(p.name);
    if (snap->ports.size() <= pid) snap->ports.resize(pid + 1);
    PortEntry& pe = snap->ports[pid];
    pe.port = next_ports.at(p.name).port;
    pe.role = p.kind == PortKind::kAfPacket || p.kind == PortKind::kBond ? PortRole::kTrunk
                                                                         : PortRole::kAccess;
    pe.slb_rx_filter = p.kind == PortKind::kBond && p.bond.mode == BondMode::kBalanceSlb;
    if (p.locking.mode != LockingMode::kUnlocked) {
      auto mac = MacAddr::parse(p.mac);
      auto rules = LockingRules::make(p.locking.mode, mac ? mac->to_u64() : 0, p.locking.ipv4,
                                      p.locking.ipv6);
      if (!rules) return rules.error();  // validated above; kept for safety
      pe.locking = std::make_shared<const LockingRules>(std::move(rules.value()));
    }
    if (p.qos_kbps) {
      pe.qos_rate = p.qos_kbps * 1000;  // XenServer's kbps are kilobytes per second
      pe.qos_burst = std::max<uint64_t>(pe.qos_rate / 10, 65536 + 1514);
    }
    if (!p.network.empty()) pe.native_lport = add_lport(pid, p.name, p.network, 0);
    if (pe.role == PortRole::kTrunk) {
      pe.vid_map.assign(4096, kNoLport);
      for (const auto& v : p.vlans) pe.vid_map[v.tag] = add_lport(pid, p.name, v.network, v.tag);
    }
  }

  // 3. Publish and wait until the forwarding thread runs on it; then old ports may close.
  slot_.publish(std::move(snap));
  worker_.sync();
  ports_ = std::move(next_ports);
  current_ = spec;
  return ok_status();
}

nlohmann::json SwitchController::fdb_json() {
  std::vector<MacTable::EntryView> entries;
  worker_.run_on_worker([&] {
    worker_.fdb().for_each(worker_.now_s(),
                           [&](const MacTable::EntryView& e) { entries.push_back(e); });
  });
  auto snap = slot_.get();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : entries) {
    if (e.lport >= snap->lports.size() || snap->lports[e.lport].port == kNoPort) continue;
    const LportEntry& le = snap->lports[e.lport];
    out.push_back({{"network", snap->bridges[le.bridge].name},
                   {"mac", MacAddr::from_u64(e.mac).to_string()},
                   {"port", snap->ports[le.port].port->name()},
                   {"vlan", le.tag},
                   {"age", e.age}});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a["network"], a["mac"]) < std::tie(b["network"], b["mac"]);
  });
  return out;
}

nlohmann::json SwitchController::drops_json() {
  std::vector<DropTrace::Entry> entries;
  worker_.run_on_worker([&] {
    worker_.drop_trace().for_each([&](const DropTrace::Entry& e) { entries.push_back(e); });
  });
  auto snap = slot_.get();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json j = {{"reason", drop_reason_name(e.reason)}, {"len", e.len}};
    j["port"] = e.port < snap->ports.size() && snap->ports[e.port].port
                    ? snap->ports[e.port].port->name()
                    : std::to_string(e.port);
    if (e.len >= 14) {
      j["dst"] = MacAddr::from_bytes(e.head.data()).to_string();
      j["src"] = MacAddr::from_bytes(e.head.data() + 6).to_string();
      char et[8];
      std::snprintf(et, sizeof et, "0x%04x", load_be16(e.head.data() + 12));
      j["ethertype"] = et;
    }
    out.push_back(j);
  }
  return out;
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
  if (auto* bond = dynamic_cast<BondPort*>(port.get()))
    worker_.run_on_worker([&] { out = bond->status(); });
  return out;
}

nlohmann::json SwitchController::stats_json() const {
  nlohmann::json out;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, op] : ports_) {
      const PortStats& s = op.port->stats();
      out["ports"][name] = {
          {"type", port_kind_name(op.kind)},   {"backend", op.port->backend()},
          {"rx_packets", s.rx_packets.load()}, {"rx_bytes", s.rx_bytes.load()},
          {"rx_dropped", s.rx_dropped.load()}, {"tx_packets", s.tx_packets.load()},
          {"tx_bytes", s.tx_bytes.load()},     {"tx_errors", s.tx_errors.load()}};
    }
  }
  const DataplaneStats& d = worker_.stats();
  for (size_t r = 0; r < size_t(DropReason::kCount); ++r)
    out["drops"][drop_reason_name(DropReason(r))] = d.drops[r].load();
  out["forwarded"] = d.forwarded.load();
  out["flooded"] = d.flooded.load();
  out["mac_learned"] = d.learned.load();
  out["mac_moves"] = d.mac_moves.load();
  out["mac_evictions"] = d.mac_evictions.load();
  out["mac_expired"] = d.mac_expired.load();
  return out;
}

}  // namespace hvnet
