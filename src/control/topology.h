// TopologySpec: the switch configuration as the user writes it (networks, ports, VLANs), parsed
// from JSON and validated as a whole. A spec that fails validation is rejected with a XenAPI error
// code naming the offending value; nothing is applied.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/bond_port.h"
#include "dataplane/locking_filter.h"
#include "io/port.h"
#include "model/result.h"

namespace hvnet {

struct NetworkSpec {
  std::string name;
  uint32_t mtu = 1500;
};

struct VlanSpec {
  uint16_t tag = 0;
  std::string network;
};

struct LockingSpec {
  LockingMode mode = LockingMode::kUnlocked;
  std::vector<std::string> ipv4, ipv6;  // addresses or CIDR prefixes
};

struct PortSpec {
  std::string name;
  PortKind kind = PortKind::kTap;    // tap (VIF), internal (host interface), af_packet (PIF)
  std::string network;               // untagged network; may be empty on a PIF with only VLANs
  std::vector<VlanSpec> vlans;       // PIF only
  std::string mac;                   // TAP: the device's MAC; bond: the bond's MAC ("" = default)
  std::vector<std::string> members;  // bond only: member NICs (2 to 4)
  LockingSpec locking;               // TAP (VIF) only: anti-spoofing
  uint64_t qos_kbps = 0;             // TAP (VIF) only: transmit limit, kilobytes/s (0 = none)
  BondConfig bond;                   // bond only
};

struct TopologySpec {
  uint32_t mac_ageing_s = 300;
  std::vector<NetworkSpec> networks;
  std::vector<PortSpec> ports;

  const NetworkSpec* network(const std::string& name) const;
};

inline constexpr uint32_t kMinMtu = 68;
inline constexpr uint32_t kMaxMtu = 9216;

Result<TopologySpec> parse_topology(const nlohmann::json& j);
Result<BondConfig> parse_bond_config(const nlohmann::json& port);
nlohmann::json bond_config_to_json(const BondConfig& c);
Status validate_topology(const TopologySpec& t);
nlohmann::json topology_to_json(const TopologySpec& t);

}  // namespace hvnet
