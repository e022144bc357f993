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
