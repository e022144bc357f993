// XenServer's bond rules on the object model.
#include <gtest/gtest.h>

#include "model/ops.h"
#include "model/records.h"

namespace hvnet::model {
namespace {

class BondOpsTest : public ::testing::Test {
 protected:
  BondOpsTest() : t(db) {
    host = ensure_host(t, "h1");
    pifs = pif_scan(t, host,
                    {{"eth0", "52:54:00:00:00:01", 1500},
                     {"eth1", "52:54:00:00:00:02", 1500},
                     {"eth2", "52:54:00:00:00:03", 1500},
                     {"eth3", "52:54:00:00:00:04", 1500},
                     {"eth4", "52:54:00:00:00:05", 1500}})
               .value();
    bondnet = network_create(t, {{"name_label", "bond"}}).value();
  }
  std::string code(const Status& s) { return s ? "OK" : s.error().code; }
  template <typename T>
  std::string code(const Result<T>& r) {
    return r ? "OK" : r.error().code;
  }
  Result<std::string> bond(std::vector<std::string> members,
                           const std::string& mode = "balance-slb", const std::string& mac = "",
                           json props = json::object()) {
    return bond_create(t, bondnet, members, mac, mode, props);
  }
  Database db;
  Txn t;
  std::string host, bondnet;
  std::vector<std::string> pifs;
};

TEST_F(BondOpsTest, MemberCountMacModeAndPropertyChecks) {
  EXPECT_EQ(code(bond({})), "PIF_BOND_NEEDS_MORE_MEMBERS");
  EXPECT_EQ(code(bond({pifs[0]})), "PIF_BOND_NEEDS_MORE_MEMBERS");
  EXPECT_EQ(code(bond(pifs)), "PIF_BOND_MORE_THAN_FOUR_MEMBERS");
  EXPECT_EQ(code(bond({pifs[0], pifs[1]}, "balance-slb", "zz:zz")), "MAC_INVALID");
  EXPECT_EQ(code(bond({pifs[0], pifs[1]}, "round-robin")), "INVALID_VALUE");
  EXPECT_EQ(code(bond({pifs[0], pifs[1]}, "balance-slb", "", {{"lacp-time", "fast"}})),
            "INVALID_VALUE");
  EXPECT_EQ(code(bond({pifs[0], pifs[1]}, "lacp", "", {{"lacp-time", "sometimes"}})),
            "INVALID_VALUE");
  EXPECT_EQ(code(bond({pifs[0], pifs[0]})), "PIF_ALREADY_BONDED");
  EXPECT_TRUE(t.all_of("Bond").empty());
}

TEST_F(BondOpsTest, MembersWithVlansOrVlanPifsOrAnotherBondAreRefused) {
  auto v = vlan_create(t, pifs[2], 7, network_create(t, {{"name_label", "v7"}}).value());
  ASSERT_TRUE(v);
  EXPECT_EQ(code(bond({pifs[0], pifs[2]})), "PIF_VLAN_EXISTS");
  EXPECT_EQ(code(bond({pifs[0], t.get(v.value())->rec["untagged_PIF"]})), "PIF_IS_VLAN");
  ASSERT_TRUE(bond({pifs[0], pifs[1]}));
  std::string other = network_create(t, {{"name_label", "b2"}}).value();
  EXPECT_EQ(code(bond_create(t, other, {pifs[1], pifs[3]}, "", "balance-slb", json::object())),
            "PIF_ALREADY_BONDED");
  EXPECT_EQ(code(bond({pifs[3], pifs[4]})), "NETWORK_ALREADY_CONNECTED");
}

TEST_F(BondOpsTest, CrossHostAndMoreThanOneIpAreRefused) {
  t.set_field(pifs[1], "host", "other-host");
  EXPECT_EQ(code(bond({pifs[0], pifs[1]})), "PIF_CANNOT_BOND_CROSS_HOST");
  t.set_field(pifs[1], "host", host);
  t.set_field(pifs[0], "ip_configuration_mode", "DHCP");
  t.set_field(pifs[1], "ip_configuration_mode", "Static");
  EXPECT_EQ(code(bond({pifs[0], pifs[1]})), "PIF_BOND_MORE_THAN_ONE_IP");
}

TEST_F(BondOpsTest, PrimaryIsTheManagementPifAndManagementMovesOntoTheBondAndBack) {
  t.set_field(pifs[1], "management", true);
  t.set_field(pifs[1], "ip_configuration_mode", "Static");
  t.set_field(pifs[1], "IP", "192.0.2.10");
  std::string vm = vm_create(t, {{"name_label", "vm"}}).value();
  std::string net1 = t.get(pifs[1])->rec["network"];
  std::string vif = vif_create(t, {{"VM", vm}, {"network", net1}, {"device", "0"}}).value();

  auto b = bond({pifs[0], pifs[1]});
  ASSERT_TRUE(b);
  const json br = t.get(b.value())->rec;
  EXPECT_EQ(br["primary_slave"], pifs[1]);
  const json master = t.get(br["master"])->rec;
  EXPECT_EQ(master["MAC"], "52:54:00:00:00:02");  // the primary's MAC
  EXPECT_TRUE(master["management"].get<bool>());
  EXPECT_EQ(master["IP"], "192.0.2.10");
  EXPECT_EQ(master["device"], "bond0");
  EXPECT_FALSE(t.get(pifs[1])->rec["management"].get<bool>());
  EXPECT_EQ(t.get(pifs[1])->rec["bond_slave_of"], b.value());
  EXPECT_EQ(t.get(vif)->rec["network"], bondnet);  // the VIF followed the bond
  EXPECT_TRUE(br["auto_update_mac"].get<bool>());

  ASSERT_EQ(code(bond_destroy(t, b.value())), "OK");
  EXPECT_TRUE(t.get(pifs[1])->rec["management"].get<bool>());
  EXPECT_EQ(t.get(pifs[1])->rec["IP"], "192.0.2.10");
  EXPECT_EQ(t.get(pifs[1])->rec["bond_slave_of"], "");
  EXPECT_EQ(t.get(vif)->rec["network"], net1);  // back to the primary member's network
  EXPECT_EQ(t.get(br["master"].get<std::string>()), nullptr);
  EXPECT_NE(t.get(bondnet), nullptr);  // the bond's network stays
}

TEST_F(BondOpsTest, GivenMacAndDefaultLacpPropertiesAndModeChanges) {
  auto b =
      bond({pifs[0], pifs[1]}, "lacp", "00:16:3E:00:00:AA", {{"hashing_algorithm", "src_mac"}});
  ASSERT_TRUE(b);
  const json br = t.get(b.value())->rec;
  EXPECT_EQ(t.get(br["master"])->rec["MAC"], "00:16:3e:00:00:aa");
  EXPECT_FALSE(br["auto_update_mac"].get<bool>());
  EXPECT_EQ(br["properties"]["hashing_algorithm"], "src_mac");
  EXPECT_EQ(br["properties"]["lacp-time"], "slow");
  EXPECT_EQ(br["properties"]["lacp-fallback-ab"], "true");
  EXPECT_EQ(code(bond_set_property(t, b.value(), "lacp-time", "fast")), "OK");
  EXPECT_EQ(code(bond_set_property(t, b.value(), "lacp-aggregation-key", "70000")),
            "INVALID_VALUE");
  EXPECT_EQ(code(bond_set_mode(t, b.value(), "active-backup")), "OK");
  EXPECT_EQ(t.get(b.value())->rec["properties"], json::object());
  EXPECT_EQ(code(bond_set_property(t, b.value(), "lacp-time", "fast")), "INVALID_VALUE");
  EXPECT_EQ(code(bond_set_mode(t, b.value(), "lacp")), "OK");
  EXPECT_EQ(t.get(b.value())->rec["properties"]["lacp-time"], "slow");
}

}  // namespace
}  // namespace hvnet::model
