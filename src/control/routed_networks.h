// RoutedNetworks: what the host itself does for classic Xen's route and nat networks
// (network.mode), as Xen's vif-route and vif-nat scripts and libvirt's NAT network do.
//  - route: the network's internal port takes the subnet's gateway address (if any), answers ARP
//    for everything it routes (proxy ARP, also between the VMs of the network: proxy_arp_pvlan)
//    and every VM address (its VIF's ipv4_allowed) gets a host route out of it; the switch keeps
//    the network's VIFs apart (isolated ports), so they meet only through the host's routing.
//  - nat: the internal port takes the gateway address, dnsmasq (started and supervised here;
//    leases in the state directory; VIFs with an ipv4_allowed address get it reserved for their
//    MAC) hands out the subnet, and one nftables table masquerades the subnet out of the
//    management interface and forwards the network's port_forwards to their VMs.
// apply() is idempotent and atomic where the kernel allows: the nftables table is replaced in one
// transaction, routes are diffed against the kernel's (tagged with hvnet's route protocol, so a
// restart finds and keeps them, never doubles them), dnsmasq restarts only when its
// configuration changes. A config without route/nat networks removes everything.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hostnet/address.h"
#include "model/database.h"
#include "model/result.h"

namespace hvnet {

inline constexpr uint8_t kHvnetRouteProtocol = 77;  // rtnetlink route protocol of hvnet's routes

struct RoutedInterface {
  std::string ifname;   // the network's internal port (its bridge name)
  std::string mode;     // "route" or "nat"
  std::string gateway;  // "a.b.c.d/len" or ""
  bool operator==(const RoutedInterface&) const = default;
};

struct NatNetwork {
  std::string ifname;       // the internal port
  std::string subnet;       // "a.b.c.0/len"
  std::string gateway;      // "a.b.c.d"
  std::string netmask;      // dotted
  std::string range_first;  // DHCP range
  std::string range_last;
  std::string out_ifname;  // the management interface ("" = any other interface)
  std::vector<std::pair<std::string, std::string>> reservations;  // MAC, address
  std::vector<std::string> forwards;                              // "tcp:8080=192.168.122.10:80"
  bool operator==(const NatNetwork&) const = default;
};

struct RoutedConfig {
  std::vector<RoutedInterface> interfaces;
  std::vector<hostnet::LinkRoute> routes;
  std::vector<NatNetwork> nats;
  bool operator==(const RoutedConfig&) const = default;
};

RoutedConfig routed_config_from_model(const model::Txn& view);

// The nftables commands that make the table `hvnet` hold exactly `nats`' rules (none: no table).
std::string nat_ruleset(const std::vector<NatNetwork>& nats);

class RoutedNetworks {
 public:
  // state_dir: dnsmasq's leases and pid files; dnsmasq: its binary.
  explicit RoutedNetworks(std::string state_dir, std::string dnsmasq = "dnsmasq");
  ~RoutedNetworks();
  RoutedNetworks(const RoutedNetworks&) = delete;
  RoutedNetworks& operator=(const RoutedNetworks&) = delete;
  Status apply(const RoutedConfig& cfg);

 private:
  Status apply_nft(const std::vector<NatNetwork>& nats);
  void start_dhcp(const NatNetwork& n);
  void stop_dhcp(const std::string& ifname);
  void supervise();

  std::string state_dir_, dnsmasq_;
  std::mutex mu_;
  std::map<std::string, NatNetwork> dhcp_cfg_;  // ifname -> what its dnsmasq serves
  std::map<std::string, pid_t> dhcp_pid_;       // ifname -> running dnsmasq
  std::string nft_applied_;
  bool have_applied_ = false;
  bool stop_ = false;  // under mu_
  std::condition_variable stop_cv_;
  std::thread supervisor_;
};

}  // namespace hvnet
