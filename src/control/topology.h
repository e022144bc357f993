// TopologySpec: the switch configuration as the user writes it (networks, ports, VLANs), parsed
// from JSON and validated as a whole. A spec that fails validation is rejected with a XenAPI error
// code naming the offending value; nothing is applied.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/bond_port.h"
#include "dataplane/locking_filter.h"
#include "io/port.h"
#include "io/tunnel_port.h"
#include "model/result.h"

namespace hvnet {

struct NetworkSpec {
  std::string name;
  uint32_t mtu = 1500;
};

struct VlanSpec {
  uint16_t tag = 0;
  std::string network;
  bool operator==(const VlanSpec&) const = default;
};

struct LockingSpec {
  LockingMode mode = LockingMode::kUnlocked;
  std::vector<std::string> ipv4, ipv6;  // addresses or CIDR prefixes
  // The network's security policy, on top of the mode: forged transmits rejected (the source
  // MAC must be the VIF's), MAC changes rejected (the VIF receives unicast for its MAC only).
  bool forged_reject = false;
  bool mac_changes_reject = false;
  bool operator==(const LockingSpec&) const = default;
};

// A port mirroring session's tap on a source port: copies of the frames the port receives
// (ingress) and is sent (egress) go to port `to` (a mirror destination VIF, or a PIF with
// `vlan` pushed on them; 0: as they are).
struct MirrorTap {
  std::string session;
  std::string to;
  uint16_t vlan = 0;
  bool ingress = false, egress = false;
  bool operator==(const MirrorTap&) const = default;
};

struct PortSpec {
  std::string name;
  PortKind kind = PortKind::kTap;    // tap (VIF), internal (host interface), af_packet (PIF)
  std::string network;               // untagged network; may be empty on a PIF with only VLANs
  std::vector<VlanSpec> vlans;       // trunks only (PIF, bond, VIF trunk)
  std::string mac;                   // TAP: the device's MAC; bond: the bond's MAC ("" = default)
  std::vector<std::string> members;  // bond only: member NICs (2 to 4)
  LockingSpec locking;               // TAP (VIF) only: anti-spoofing
  uint64_t qos_kbps = 0;             // TAP (VIF) only: transmit limit, kilobytes/s (0 = none)
  uint64_t qos_timeslice_us = 0;     // its token bucket's refill interval (0 = 100 ms)
  // TAP (VIF) only: the VM tags its frames (guest VLAN tagging): `vlans` maps the tags it may
  // send to their networks, untagged frames belong to `network` (empty: dropped).
  bool vlan_trunk = false;
  bool promiscuous = false;         // TAP (VIF) only: also receives its networks' unicast to others
  bool isolated = false;  // TAP (VIF) only: exchanges frames with non-isolated ports alone
  std::vector<MirrorTap> mirrors;   // the sessions copying this port's frames
  bool mirror_destination = false;  // TAP only: receives mirror copies and nothing else
  // TAP (VIF) only: its network's traffic shaping, kilobytes/s and kilobytes (0 = none): the
  // VIF transmits at `average` (or its own qos_kbps if lower), spending up to `burst` saved
  // while it sent less at up to `peak`.
  struct Shaping {
    uint64_t average = 0, peak = 0, burst = 0;
    bool operator==(const Shaping&) const = default;
  } shaping;
  BondConfig bond;  // bond only
  // tunnel ports only: the endpoint. Each tunnel's network is also in `vlans`, under the local
  // tag the port presents that VNI's frames with (1, 2, ... in the order written).
  TunnelConfig tunnel;
};

struct TopologySpec {
  uint32_t mac_ageing_s = 300;
  std::vector<NetworkSpec> networks;
  std::vector<PortSpec> ports;

  const NetworkSpec* network(const std::string& name) const;
};

// One VLAN a trunk port carries: frames tagged `tag` on `port` belong to `network`.
struct VlanItem {
  std::string port;
  uint16_t tag = 0;
  std::string network;
  bool operator==(const VlanItem&) const = default;
};

// A change to the switch configuration, by name: what to set (add or replace) and what to remove.
// Every item is absolute, so a delta means the same whatever it is applied to. A port in both
// del_ports and set_ports is replaced and keeps its VLANs; a port only deleted takes its VLANs with
// it. The `vlans` of a PortSpec in set_ports are ignored: VLANs are items of their own, so one VLAN
// more on a trunk carrying thousands costs one VLAN.
struct TopologyDelta {
  std::optional<uint32_t> mac_ageing_s;
  std::vector<NetworkSpec> set_networks;
  std::vector<std::string> del_networks;
  std::vector<PortSpec> set_ports;
  std::vector<std::string> del_ports;
  std::vector<VlanItem> set_vlans;
  std::vector<std::pair<std::string, uint16_t>> del_vlans;  // (port, tag)

  bool empty() const {
    return !mac_ageing_s && set_networks.empty() && del_networks.empty() && set_ports.empty() &&
           del_ports.empty() && set_vlans.empty() && del_vlans.empty();
  }
};

// A port's own settings (everything but the VLANs it carries) as JSON, for comparing two specs.
nlohmann::json port_settings_json(const PortSpec& p);
// What turns `from` into `to`.
TopologyDelta topology_diff(const TopologySpec& from, const TopologySpec& to);

// Tunnel endpoints (VXLAN, GRE): TunnelPort, configured by PortSpec::tunnel.
inline bool is_tunnel(PortKind k) {
  return k == PortKind::kVxlan || k == PortKind::kGre;
}
// Ports that carry several networks by tag (PIFs, bonds, tunnel endpoints); the rest are access
// ports with one untagged network.
inline bool is_trunk(PortKind k) {
  return k == PortKind::kAfPacket || k == PortKind::kBond || is_tunnel(k);
}
// Ports that carry networks by tag: those, and VIFs that are trunks.
inline bool is_trunk(const PortSpec& p) {
  return is_trunk(p.kind) || (p.kind == PortKind::kTap && p.vlan_trunk);
}

// Settings only a VIF's port takes (locking and security policy, QoS, shaping, promiscuity).
inline bool has_vif_settings(const PortSpec& p) {
  return !(p.locking == LockingSpec{}) || p.qos_kbps || p.promiscuous || p.isolated ||
         !(p.shaping == PortSpec::Shaping{});
}

inline constexpr uint32_t kMinMtu = 68;
inline constexpr uint32_t kMaxMtu = 9216;

Result<TopologySpec> parse_topology(const nlohmann::json& j);
Result<BondConfig> parse_bond_config(const nlohmann::json& port);
nlohmann::json bond_config_to_json(const BondConfig& c);
Status validate_topology(const TopologySpec& t);
nlohmann::json topology_to_json(const TopologySpec& t);

}  // namespace hvnet
