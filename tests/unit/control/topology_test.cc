#include "control/topology.h"

#include <gtest/gtest.h>

namespace hvnet {
namespace {

nlohmann::json pif_with_vlan(nlohmann::json tag) {
  return {{"networks", {{{"name", "n0"}}, {{"name", "n5"}}}},
          {"ports",
           {{{"name", "eth0"},
             {"type", "pif"},
             {"network", "n0"},
             {"vlans", {{{"tag", tag}, {"network", "n5"}}}}}}}};
}

std::string code_of(const nlohmann::json& j) {
  auto r = parse_topology(j);
  return r ? "OK" : r.error().code + (r.error().params.empty() ? "" : ":" + r.error().params[0]);
}

TEST(Topology, ParsesAndRoundTrips) {
  auto r = parse_topology(pif_with_vlan(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ports[0].kind, PortKind::kAfPacket);
  EXPECT_EQ(r->ports[0].vlans[0].tag, 5);
  auto again = parse_topology(topology_to_json(r.value()));
  ASSERT_TRUE(again);
  EXPECT_EQ(topology_to_json(again.value()), topology_to_json(r.value()));
}

nlohmann::json vxlan_port(nlohmann::json tunnels) {
  return {{"networks", {{{"name", "priv"}, {"mtu", 1450}}, {{"name", "p2"}}}},
          {"ports",
           {{{"name", "vx0"},
             {"type", "vxlan"},
             {"local", "192.0.2.1"},
             {"tunnels", std::move(tunnels)}}}}};
}

TEST(Topology, VxlanTunnelsBecomeTagsOfATrunkAndRoundTrip) {
  auto r = parse_topology(
      vxlan_port({{{"vni", 5000}, {"network", "priv"}, {"remotes", {"192.0.2.2", "192.0.2.3"}}},
                  {{"vni", 16777215}, {"network", "p2"}}}));
  ASSERT_TRUE(r) << r.error().code;
  const PortSpec& p = r->ports[0];
  EXPECT_EQ(p.kind, PortKind::kVxlan);
  ASSERT_EQ(p.vlans.size(), 2u);
  EXPECT_EQ(p.vlans[0].tag, 1);
  EXPECT_EQ(p.vlans[0].network, "priv");
  EXPECT_EQ(p.vlans[1].tag, 2);
  EXPECT_EQ(p.tunnel.udp_port, 4789);
  EXPECT_EQ(p.tunnel.nets[0].remotes.size(), 2u);
  EXPECT_EQ(p.tunnel.nets[0].mtu, 1450u);  // the network's: super-frames are cut to it
  EXPECT_EQ(p.tunnel.nets[1].vni, 16777215u);
  auto again = parse_topology(topology_to_json(r.value()));
  ASSERT_TRUE(again);
  EXPECT_EQ(topology_to_json(again.value()), topology_to_json(r.value()));
}

TEST(Topology, RejectsBadVxlanTunnels) {
  EXPECT_EQ(code_of(vxlan_port({{{"vni", 0}, {"network", "priv"}}})), "INVALID_VALUE:vni");
  EXPECT_EQ(code_of(vxlan_port({{{"vni", 16777216}, {"network", "priv"}}})), "INVALID_VALUE:vni");
  EXPECT_EQ(
      code_of(vxlan_port({{{"vni", 1}, {"network", "priv"}}, {{"vni", 1}, {"network", "p2"}}})),
      "INVALID_VALUE:vni");
  EXPECT_EQ(code_of(vxlan_port({{{"vni", 1}, {"network", "nowhere"}}})), "HANDLE_INVALID:network");
  EXPECT_EQ(code_of(vxlan_port({{{"vni", 1}, {"network", "priv"}, {"remotes", {"10.0.0.300"}}}})),
            "INVALID_IP_ADDRESS_SPECIFIED:remotes");
  EXPECT_EQ(
      code_of(vxlan_port({{{"vni", 1}, {"network", "priv"}}, {{"vni", 2}, {"network", "priv"}}})),
      "NETWORK_ALREADY_CONNECTED:priv");
  auto with_network = vxlan_port({{{"vni", 1}, {"network", "priv"}}});
  with_network["ports"][0]["network"] = "p2";
  EXPECT_EQ(code_of(with_network), "INVALID_VALUE:network");
}

TEST(Topology, RejectsBadVlanTags) {
  EXPECT_EQ(code_of(pif_with_vlan(4095)), "VLAN_TAG_INVALID:4095");
  EXPECT_EQ(code_of(pif_with_vlan(-1)), "VLAN_TAG_INVALID:-1");
  EXPECT_EQ(code_of(pif_with_vlan("ten")), "VLAN_TAG_INVALID:\"ten\"");
}

TEST(Topology, RejectsDuplicateTagsAndNetworksOnOnePif) {
  auto j = pif_with_vlan(5);
  j["networks"].push_back({{"name", "n6"}});
  j["ports"][0]["vlans"].push_back({{"tag", 5}, {"network", "n6"}});
  EXPECT_EQ(code_of(j), "PIF_VLAN_EXISTS:eth0");
  j["ports"][0]["vlans"][1] = {{"tag", 6}, {"network", "n5"}};
  EXPECT_EQ(code_of(j), "NETWORK_ALREADY_CONNECTED:n5");
}

TEST(Topology, RejectsBadMtuUnknownNetworkAndVlansOnVifs) {
  nlohmann::json j = {{"networks", {{{"name", "n0"}, {"mtu", 20000}}}}};
  EXPECT_EQ(code_of(j), "MTU_INVALID:20000");
  j = {{"networks", {{{"name", "n0"}}}}, {"ports", {{{"name", "vif1.0"}, {"network", "nx"}}}}};
  EXPECT_EQ(code_of(j), "HANDLE_INVALID:network");
  j = pif_with_vlan(5);
  j["ports"][0]["type"] = "tap";
  EXPECT_EQ(code_of(j), "PIF_IS_VLAN:eth0");
  j["ports"][0]["type"] = "router";
  EXPECT_EQ(code_of(j), "INVALID_VALUE:type");
  EXPECT_EQ(code_of(nlohmann::json::array()), "INVALID_VALUE:topology");
}

TEST(Topology, RejectsDuplicateNamesAndLongInterfaceNames) {
  nlohmann::json j = {{"networks", {{{"name", "n0"}}, {{"name", "n0"}}}}};
  EXPECT_EQ(code_of(j), "NETWORK_ALREADY_EXISTS:n0");
  j = {{"networks", {{{"name", "n0"}}}},
       {"ports", {{{"name", "a-very-long-interface"}, {"network", "n0"}}}}};
  EXPECT_EQ(code_of(j), "INVALID_VALUE:name");
}

}  // namespace
}  // namespace hvnet
