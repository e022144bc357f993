// Host addressing rules on the object model: reconfigure_ip checks, management moves, host names.
#include <gtest/gtest.h>

#include "control/host_addressing.h"
#include "model/ops.h"

namespace hvnet::model {
namespace {

class HostOpsTest : public ::testing::Test {
 protected:
  HostOpsTest() : t(db) {
    host = ensure_host(t, "h1");
    pifs = pif_scan(t, host,
                    {{"eth0", "52:54:00:00:00:01", 1500}, {"eth1", "52:54:00:00:00:02", 1500}})
               .value();
    for (const auto& p : pifs) EXPECT_TRUE(pif_plug(t, p));
  }
  std::string code(const Status& s) {
    return s ? "OK" : s.error().code + ":" + s.error().params.at(0);
  }
  Database db;
  Txn t;
  std::string host;
  std::vector<std::string> pifs;
};

TEST_F(HostOpsTest, ScanKeepsEachNicsCapabilitiesCurrent) {
  EXPECT_EQ(t.get(pifs[0])->rec["capabilities"], json::array());
  // The driver now offers VFs: a rescan says so, and takes it back when they are gone.
  ASSERT_TRUE(pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500, {"sriov"}}}));
  EXPECT_EQ(t.get(pifs[0])->rec["capabilities"], json::array({"sriov"}));
  EXPECT_EQ(t.get(pifs[1])->rec["capabilities"], json::array());
  ASSERT_TRUE(pif_scan(t, host, {{"eth0", "52:54:00:00:00:01", 1500}}));
  EXPECT_EQ(t.get(pifs[0])->rec["capabilities"], json::array());
  auto added = pif_scan(t, host, {{"eth9", "52:54:00:00:00:09", 1500, {"sriov"}}}).value();
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(t.get(added[0])->rec["capabilities"], json::array({"sriov"}));
}

TEST_F(HostOpsTest, StaticNeedsValidAddressMaskAndGatewayInTheSubnet) {
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "Static", "10.0.0.1", "255.255.255.0", "10.0.0.254",
                                    "10.0.0.53")),
            "OK");
  EXPECT_EQ(t.get(pifs[0])->rec["ip_configuration_mode"], "Static");
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "static", "10.0.0.x", "255.255.255.0", "", "")),
            "INVALID_IP_ADDRESS_SPECIFIED:IP");
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "static", "10.0.0.1", "255.0.255.0", "", "")),
            "INVALID_IP_ADDRESS_SPECIFIED:netmask");
  EXPECT_EQ(
      code(pif_reconfigure_ip(t, pifs[0], "static", "10.0.0.1", "255.255.255.0", "10.0.1.1", "")),
      "INVALID_IP_ADDRESS_SPECIFIED:gateway");
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "static", "10.0.0.1", "255.255.255.0", "", "x")),
            "INVALID_IP_ADDRESS_SPECIFIED:DNS");
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "bootp", "", "", "", "")), "INVALID_VALUE:mode");
  EXPECT_EQ(t.get(pifs[0])->rec["IP"], "10.0.0.1");  // refused changes left it alone
}

TEST_F(HostOpsTest, EveryInterfaceOnItsOwnSubnet) {
  ASSERT_TRUE(pif_reconfigure_ip(t, pifs[0], "Static", "10.0.0.1", "255.255.255.0", "", ""));
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[1], "Static", "10.0.0.2", "255.255.0.0", "", "")),
            "PIF_SUBNET_OVERLAPS:10.0.0.2/255.255.0.0");
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[1], "Static", "10.1.0.2", "255.255.255.0", "", "")),
            "OK");
}

TEST_F(HostOpsTest, ManagementMovesAndGuardsItsInterface) {
  EXPECT_EQ(code(host_management_reconfigure(t, pifs[0])),
            "PIF_HAS_NO_NETWORK_CONFIGURATION:" + pifs[0]);
  ASSERT_TRUE(pif_reconfigure_ip(t, pifs[0], "DHCP", "", "", "", ""));
  ASSERT_TRUE(
      pif_reconfigure_ip(t, pifs[1], "Static", "10.1.0.2", "255.255.255.0", "10.1.0.1", ""));
  ASSERT_TRUE(host_management_reconfigure(t, pifs[0]));
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "None", "", "", "", "")),
            "PIF_IS_MANAGEMENT_INTERFACE:" + pifs[0]);
  ASSERT_TRUE(pool_management_reconfigure(t, t.get(pifs[1])->rec["network"]));
  EXPECT_FALSE(t.get(pifs[0])->rec["management"].get<bool>());
  EXPECT_TRUE(t.get(pifs[1])->rec["management"].get<bool>());
  auto cfg = host_config_from_model(t);
  ASSERT_EQ(cfg.interfaces.size(), 2u);
  EXPECT_EQ(cfg.interfaces[0].ifname == "xenbr1" ? cfg.interfaces[0].management
                                                 : cfg.interfaces[1].management,
            true);
  ASSERT_TRUE(host_management_disable(t, host));
  EXPECT_FALSE(t.get(pifs[1])->rec["management"].get<bool>());
  ASSERT_TRUE(pif_unplug(t, pifs[0]));
  EXPECT_EQ(code(pif_reconfigure_ip(t, pifs[0], "DHCP", "", "", "", "")),
            "REQUIRED_PIF_IS_UNPLUGGED:" + pifs[0]);
  EXPECT_EQ(code(pool_management_reconfigure(t, network_create(t, {{"name_label", "x"}}).value())),
            "PIF_NOT_PRESENT:" + host);
}

TEST_F(HostOpsTest, HostNames) {
  EXPECT_EQ(code(host_set_hostname(t, host, "hv-01.lab")), "OK");
  EXPECT_EQ(t.get(host)->rec["hostname"], "hv-01.lab");
  for (const char* bad : {"", "-a", "a-", "a b", "a_b"})
    EXPECT_EQ(code(host_set_hostname(t, host, bad)).substr(0, 17), "HOST_NAME_INVALID") << bad;
  EXPECT_EQ(code(host_set_hostname(t, host, std::string(256, 'a'))).substr(0, 17),
            "HOST_NAME_INVALID");
}

}  // namespace
}  // namespace hvnet::model
