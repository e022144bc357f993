// What the host does for route and nat networks, computed from the model: interfaces, host
// routes of the VMs' addresses, the NAT's DHCP range and reservations, and the nftables table.
#include "control/routed_networks.h"

#include <gtest/gtest.h>

#include "control/reconciler.h"
#include "model/ops.h"
#include "model/records.h"

namespace hvnet {
namespace {

using model::json;

struct Host {
  model::Database db;
  model::Txn t{db};
  std::string host, vm;
  Host() {
    host = model::ensure_host(t, "h");
    auto pifs = model::pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500}}).value();
    EXPECT_TRUE(model::pif_plug(t, pifs[0]));
    EXPECT_TRUE(model::pif_reconfigure_ip(t, pifs[0], "Static", "10.95.0.1", "255.255.255.0",
                                          "10.95.0.254", ""));
    EXPECT_TRUE(model::host_management_reconfigure(t, pifs[0]));
    vm = model::vm_create(t, {{"name_label", "vm"}}).value();
    t.set_field(vm, "power_state", "Running");
  }
  std::string net(const char* mode, const char* subnet) {
    auto n = model::network_create(t, {{"name_label", mode}, {"subnet", subnet}, {"mode", mode}});
    EXPECT_TRUE(n) << n.error().to_string();
    return n.value();
  }
  std::string vif(const std::string& net, const char* dev, const char* mac, json ips) {
    auto v = model::vif_create(t, {{"VM", vm}, {"network", net}, {"device", dev}, {"MAC", mac}});
    EXPECT_TRUE(model::vif_set_allowed(t, v.value(), "ipv4", ips));
    EXPECT_TRUE(model::vif_plug(t, v.value()));
    return v.value();
  }
};

TEST(RoutedNetworks, RouteAndNatNetworksFromTheModel) {
  Host h;
  const std::string routed = h.net("route", "10.200.0.1/24");
  const std::string nat = h.net("nat", "192.168.150.1/24");
  h.vif(routed, "0", "00:16:3e:00:00:05", json{"10.200.0.5", "10.201.0.0/28"});
  h.vif(nat, "1", "00:16:3e:00:00:0a", json{"192.168.150.10"});
  h.vif(nat, "2", "00:16:3e:00:00:0b", json::array());
  ASSERT_TRUE(model::set_field(h.t, nat, "port_forwards", json{"tcp:8080=192.168.150.10:80"}));
  const std::string rb = h.t.get(routed)->rec["bridge"], nb = h.t.get(nat)->rec["bridge"];
  const RoutedConfig cfg = routed_config_from_model(h.t);
  ASSERT_EQ(cfg.interfaces.size(), 2u);
  EXPECT_EQ(cfg.interfaces[0], (RoutedInterface{rb, "route", "10.200.0.1/24"}));
  EXPECT_EQ(cfg.interfaces[1], (RoutedInterface{nb, "nat", "192.168.150.1/24"}));
  ASSERT_EQ(cfg.routes.size(), 2u);
  EXPECT_EQ(cfg.routes[0].ifname, rb);
  EXPECT_EQ(cfg.routes[0].dst, *hostnet::IpCidr::parse("10.200.0.5"));
  EXPECT_EQ(cfg.routes[1].dst, *hostnet::IpCidr::parse("10.201.0.0/28"));
  ASSERT_EQ(cfg.nats.size(), 1u);
  const NatNetwork& n = cfg.nats[0];
  EXPECT_EQ(n.subnet, "192.168.150.0/24");
  EXPECT_EQ(n.range_first, "192.168.150.2");
  EXPECT_EQ(n.range_last, "192.168.150.254");
  EXPECT_EQ(n.out_ifname, "xenbr0");
  EXPECT_EQ(
      n.reservations,
      (std::vector<std::pair<std::string, std::string>>{{"00:16:3e:00:00:0a", "192.168.150.10"}}));
  const std::string rules = nat_ruleset(cfg.nats);
  EXPECT_NE(rules.find("ip saddr 192.168.150.0/24 oifname \"xenbr0\" masquerade"),
            std::string::npos);
  EXPECT_NE(rules.find("iifname != \"" + nb + "\" tcp dport 8080 dnat to 192.168.150.10:80"),
            std::string::npos);
  // Without nat networks the table goes, in the same kind of transaction.
  EXPECT_EQ(nat_ruleset({}), "add table ip hvnet\ndelete table ip hvnet\n");
  // The switch side: the routed network's VIF is isolated, both networks have a host port.
  const auto spec = topology_from_model(h.t, 300);
  int host_ports = 0;
  for (const auto& p : spec.ports) {
    if (p.kind == PortKind::kTap) {
      EXPECT_EQ(p.isolated, p.network == rb) << p.name;
    }
    host_ports += p.kind == PortKind::kInternal && (p.name == rb || p.name == nb);
  }
  EXPECT_EQ(host_ports, 2);
}

}  // namespace
}  // namespace hvnet
