// HostAddressing: puts the host's own IP configuration on its interfaces: for every attached PIF
// with an IP configuration, the internal port of its network (named after the bridge) gets the
// Static address (netlink) or a DHCP client (Debian's dhclient, with hvnet's own script) (a non-VM
// network's plain NIC gets them on the NIC itself: no switch in its path); only the management
// interface gets the DNS servers (written to resolv.conf) and the default routes, unless another
// interface has the default-route service; the host name follows the host record. Idempotent: apply() may run on every change.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/database.h"
#include "model/result.h"

namespace hvnet {

struct HostInterface {
  std::string ifname;  // the network's bridge name = the internal port
  std::string mode;    // IPv4: "None", "Static" or "DHCP"
  std::string ip, netmask, gateway, dns;
  std::string ipv6_mode = "None";  // "None", "Static", "DHCP" or "Autoconf"
  std::vector<std::string> ipv6;   // "addr/len"
  std::string ipv6_gateway;
  bool management = false;
  bool default_route = false;  // the host's default routes leave here (management, or the
                               // interface with the default-route service)
};

struct HostConfig {
  std::vector<HostInterface> interfaces;
  std::string hostname;
};

HostConfig host_config_from_model(const model::Txn& view);

class HostAddressing {
 public:
  // state_dir: DHCP client files; resolv_conf: "" = never touch DNS configuration.
  HostAddressing(std::string state_dir, std::string resolv_conf);
  ~HostAddressing();
  Status apply(const HostConfig& cfg);

 private:
  void stop_dhcp(const std::string& ifname);
  std::string state_dir_, resolv_conf_, script_;
  Status apply_ipv6(const HostInterface& i);
  std::map<std::string, bool> dhcp_;    // interfaces with a running DHCP client ("if" or "if/6")
  std::map<std::string, bool> static_;  // interfaces whose addresses we set
  std::string route_if_, route6_if_;
};

}  // namespace hvnet
