// NIC discovery for PIF.scan: the host's Ethernet devices that can become PIFs: physical NICs (a
// device link in sysfs) and veths; never loopback, bridges, TAPs or tunnels. An optional name
// prefix limits discovery (a host may dedicate only some NICs to hvnet; tests use their own names).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/ops.h"

namespace hvnet::hostnet {

// `sysfs_root`: where sysfs is (/sys; tests give a tree of their own). A NIC whose device has
// VFs to give (sriov_totalvfs > 0) has the capability "sriov".
std::vector<model::NicInfo> scan_nics(const std::string& prefix,
                                      const std::string& sysfs_root = "/sys");

// What the kernel says of a NIC now (XenAPI's PIF_metrics): carrier, speed in Mbit/s (0 if the
// driver does not say), full duplex, and for a PCI device its ids, names (pci.ids) and bus path.
struct NicFacts {
  bool carrier = false;
  int64_t speed = 0;
  bool duplex = false;
  std::string vendor_id, vendor_name, device_id, device_name, pci_bus_path;
};
NicFacts nic_facts(const std::string& device);

}  // namespace hvnet::hostnet
